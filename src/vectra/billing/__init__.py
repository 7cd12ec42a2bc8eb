"""Billing: plans, subscriptions, usage records and limits, Stripe."""
