"""Meetings: scheduler, booking page, Calendly, Google Calendar, outcomes."""
