"""Accounts: organizations, users, authentication, roles, API keys, audit log."""
