"""libpq URIs <-> SQLAlchemy URLs, and small edits to them (database, user)."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def to_sqlalchemy(uri: str) -> URL:
    """A libpq URI (`postgresql://u:p@host:port/db`, or `?host=/socket/dir`) for psycopg 3."""
    url = make_url(uri)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def to_libpq(url: URL | str) -> str:
    """The same URL as plain libpq understands it (for psycopg and pg_dump)."""
    url = make_url(url) if isinstance(url, str) else url
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(uri: str, database: str) -> str:
    return to_libpq(make_url(uri).set(database=database))


def with_user(uri: str, user: str, password: str | None = None) -> str:
    return to_libpq(make_url(uri).set(username=user, password=password))


def database_name(uri: str) -> str:
    return make_url(uri).database or "postgres"


def redacted(uri: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(uri).render_as_string(hide_password=True)
