"""`vectra doctor`: is this installation healthy, and if not, what to do about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vectra.db import migrate
from vectra.db.engine import Database
from vectra.keys import KEY_FILE
from vectra.settings import Settings

WORKER_STALE_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def _tables(database: Database) -> set[str]:
    with database.owner_engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )


def check_database(database: Database) -> list[Check]:
    checks: list[Check] = []
    try:
        with database.app_engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT current_user, r.rolsuper OR r.rolbypassrls, version() "
                    "FROM pg_roles r WHERE r.rolname = current_user"
                )
            ).one()
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc)).split())
        return [
            Check(
                "database",
                "fail",
                f"cannot connect: {reason}",
                "Check DATABASE_URL / DATABASE_APP_URL, or unset them for the embedded server.",
            )
        ]
    checks.append(Check("database", "ok", f"connected as {row[0]}: {row[2].split(' on ')[0]}"))
    if row[1]:
        checks.append(
            Check(
                "tenant isolation",
                "fail",
                f"the application role {row[0]} is a superuser or bypasses RLS",
                f'ALTER ROLE "{row[0]}" NOSUPERUSER NOBYPASSRLS;',
            )
        )
    else:
        checks.append(Check("tenant isolation", "ok", f"{row[0]} is subject to row-level security"))
    with database.owner_engine.connect() as conn:
        installed: dict[str, str] = dict(
            conn.execute(text("SELECT extname, extversion FROM pg_extension")).tuples().all()
        )
    for name in ("vector", "pg_trgm", "btree_gist"):
        if name in installed:
            checks.append(Check(f"extension {name}", "ok", f"version {installed[name]}"))
        else:
            checks.append(
                Check(
                    f"extension {name}",
                    "fail",
                    "missing",
                    f'As a superuser: CREATE EXTENSION "{name}"; then vectra db upgrade',
                )
            )
    return checks


def check_migrations(database: Database) -> Check:
    status = migrate.status(database)
    if status.up_to_date:
        return Check("migrations", "ok", f"at {status.current}")
    pending = ", ".join(status.pending[:5])
    return Check(
        "migrations", "fail", f"{len(status.pending)} pending: {pending}", "vectra db upgrade"
    )


def check_worker(database: Database, tables: set[str]) -> Check:
    if "procrastinate_workers" not in tables:
        return Check("worker", "fail", "job queue schema missing", "vectra db upgrade")
    with database.owner_engine.connect() as conn:
        last = conn.execute(text("SELECT max(last_heartbeat) FROM procrastinate_workers")).scalar()
        now = conn.execute(text("SELECT now()")).scalar_one()
    if last is None:
        return Check(
            "worker",
            "warn",
            "no worker has reported in",
            "Start one: vectra worker (vectra up runs one for you)",
        )
    age = now - last
    if age > WORKER_STALE_AFTER:
        return Check(
            "worker",
            "warn",
            f"last heartbeat {int(age.total_seconds())} s ago",
            "Restart the worker: vectra worker",
        )
    return Check("worker", "ok", f"heartbeat {int(age.total_seconds())} s ago")


def check_mailboxes(database: Database, tables: set[str]) -> Check:
    if "mailboxes" not in tables:
        return Check("mailboxes", "warn", "no mailbox table yet", "vectra db upgrade")
    with database.owner_engine.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                text("SELECT coalesce(status, 'unknown'), count(*) FROM mailboxes GROUP BY 1")
            )
            .tuples()
            .all()
        )
    total = sum(counts.values())
    if total == 0:
        return Check(
            "mailboxes",
            "warn",
            "no sending mailbox connected",
            "Connect one in Settings > Mailboxes (or POST /api/v1/mailboxes)",
        )
    failing = {k: v for k, v in counts.items() if k not in ("active", "warming")}
    if failing:
        return Check(
            "mailboxes",
            "warn",
            f"{total} mailboxes, not sending: {failing}",
            "Open Mailboxes and run the connection test on each",
        )
    return Check("mailboxes", "ok", f"{total} active")


def check_secret_key(settings: Settings) -> Check:
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            return Check(
                "secret key",
                "warn",
                "VECTRA_SECRET_KEY is shorter than 32 characters",
                "Use a long random value: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'",
            )
        return Check("secret key", "ok", "from VECTRA_SECRET_KEY")
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return Check("secret key", "ok", f"key file {path} (back it up with your database)")
    return Check("secret key", "warn", "not created yet", "vectra up creates it on first start")


def run_checks(database: Database, settings: Settings) -> list[Check]:
    """Every check, in the order a person would fix them."""
    checks = check_database(database)
    if any(c.status == "fail" and c.name == "database" for c in checks):
        return [*checks, check_secret_key(settings)]
    tables = _tables(database)
    checks.append(check_migrations(database))
    checks.append(check_worker(database, tables))
    checks.append(check_mailboxes(database, tables))
    checks.append(check_secret_key(settings))
    return checks
