"""The database that jobs work in: bound once by the worker (or a test), else the configured one.

Jobs carry only ids; each opens its own sessions on this database.
"""

from __future__ import annotations

import threading

from vectra.db.engine import Database

_database: Database | None = None
_lock = threading.Lock()


def use_database(database: Database | None) -> None:
    """Bind every job to `database` (the worker at start, tests, embedded callers); None resets."""
    global _database
    with _lock:
        _database = database


def job_database() -> Database:
    """The bound database, else the one the settings name (resolved once per process)."""
    global _database
    with _lock:
        if _database is None:
            from vectra.db.resolve import resolve_database_urls
            from vectra.settings import get_settings

            _database = Database(resolve_database_urls(get_settings()), pool_size=2)
        return _database
