"""Errors raised while setting up or reaching the database."""

from __future__ import annotations


class DatabaseSetupError(RuntimeError):
    """The database cannot serve Vectra as it is; the message says what to do."""
