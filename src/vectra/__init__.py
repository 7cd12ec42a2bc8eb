"""Vectra: an open, multi-tenant AI SDR."""

__version__ = "0.1.0"
