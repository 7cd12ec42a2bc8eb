"""Integrations: HubSpot, Salesforce, Calendly, Google Calendar; the credential vault."""
