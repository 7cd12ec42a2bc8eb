"""Alembic migrations: 001-011 are the seed as written; 012+ are additions with reasons."""
