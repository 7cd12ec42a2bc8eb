"""Leads: import, verification, enrichment, de-duplication, status machine."""
