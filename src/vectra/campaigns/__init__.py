"""Campaigns: target criteria, sequences, status machine."""
