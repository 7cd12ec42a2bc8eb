"""The `vectra` command: run the platform, manage the database, script organizations.

Every command given `--json` prints exactly one JSON document on stdout; logs and
progress go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from vectra.db import migrate
from vectra.db.engine import Database
from vectra.db.errors import DatabaseSetupError
from vectra.db.resolve import resolve_database_urls
from vectra.errors import VectraError
from vectra.integrations import keys_cli
from vectra.logs import configure_logging
from vectra.mail import cli as mail_cli
from vectra.settings import Settings, get_settings

app = typer.Typer(
    name="vectra",
    help="Vectra, the open AI SDR. With no DATABASE_URL it runs its own embedded PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Schema migrations.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(mail_cli.app, name="mail")  # offline: never opens the database
app.add_typer(keys_cli.app, name="keys")

err = Console(stderr=True)
log = logging.getLogger("vectra.cli")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _fail(message: str, *, as_json: bool, code: str = "error", exit_code: int = 1) -> NoReturn:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(exit_code)


def _emit(document: dict[str, Any]) -> None:
    print(json.dumps(document, default=str))


@contextlib.contextmanager
def open_database(settings: Settings, *, as_json: bool = False) -> Iterator[Database]:
    """The configured database (starting the embedded one if needed); errors say what to do."""
    try:
        database = Database(resolve_database_urls(settings), pool_size=settings.db_pool_size)
        with database.owner_engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DatabaseSetupError as exc:
        _fail(str(exc), as_json=as_json, code="database_setup", exit_code=2)
    except Exception as exc:  # connection refused, bad URL, embedded server failure
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        _fail(
            f"Cannot reach the database: {reason}. "
            "Check DATABASE_URL, or unset it to use the embedded PostgreSQL.",
            as_json=as_json,
            code="database_unreachable",
            exit_code=2,
        )
    try:
        yield database
    finally:
        database.dispose()


def _upgrade(database: Database, *, as_json: bool, revision: str = "head") -> None:
    try:
        migrate.upgrade(database, revision)
    except DatabaseSetupError as exc:
        _fail(str(exc), as_json=as_json, code="database_setup", exit_code=2)


def _setup(settings: Settings | None = None) -> Settings:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_json)
    return settings


# --- running -----------------------------------------------------------------------------


async def _serve_and_work(database: Database, *, host: str, port: int, worker: bool) -> None:
    import uvicorn

    from vectra.web.app import create_app
    from vectra.worker.app import running_app

    config = uvicorn.Config(
        create_app(database), host=host, port=port, log_config=None, proxy_headers=True
    )
    server = uvicorn.Server(config)
    worker_task: asyncio.Task[None] | None = None
    if worker:
        jobs = running_app(database.urls)

        async def run_worker() -> None:
            async with jobs.open_async():
                await jobs.run_worker_async(install_signal_handlers=False)

        worker_task = asyncio.create_task(run_worker())
    try:
        await server.serve()
    finally:
        if worker_task is not None:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker_task


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start everything: database (embedded unless DATABASE_URL), migrations, web app, worker."""
    settings = _setup()
    where = "DATABASE_URL" if settings.database_url else f"embedded, data in {settings.data_dir}"
    err.print(f"[bold]Vectra[/] starting: database {where}")
    with open_database(settings) as database:
        _upgrade(database, as_json=False)
        url = f"http://{host}:{port}"
        err.print(
            f"[bold green]Vectra is running at {url}[/]\n"
            f"  Sign up:  {url}/signup  (or: vectra org create --name ACME "
            "--owner-email you@acme.com --password ...)\n"
            f"  API docs: {url}/docs\n"
            "  Stop:     Ctrl-C (your data stays where it is for the next start)",
            highlight=False,
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve_and_work(database, host=host, port=port, worker=True))
    err.print("Vectra stopped.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API and pages only, on an already migrated database."""
    settings = _setup()
    with open_database(settings) as database:
        status = migrate.status(database)
        if not status.up_to_date:
            _fail(
                f"The database schema is at {status.current or 'nothing'}, not {status.head}: "
                "run `vectra db upgrade` first.",
                as_json=False,
            )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve_and_work(database, host=host, port=port, worker=False))


@app.command()
def worker() -> None:
    """Run the job worker (any number of them, on any machine that reaches the database)."""
    settings = _setup()
    from vectra.worker.app import running_app

    with open_database(settings) as database:
        jobs = running_app(database.urls)

        async def run() -> None:
            async with jobs.open_async():
                await jobs.run_worker_async()

        err.print("Vectra worker running; Ctrl-C stops it after the jobs in hand.")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run())


# --- database ------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    as_json: JsonOpt = False,
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        _upgrade(database, as_json=as_json, revision=revision)
        status = migrate.status(database)
    if as_json:
        _emit({"current": status.current, "head": status.head, "pending": status.pending})
    else:
        err.print(f"Database at [bold]{status.current}[/].")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' for nothing.")],
    as_json: JsonOpt = False,
) -> None:
    """Undo migrations down to REVISION."""
    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        migrate.downgrade(database, revision)
        status = migrate.status(database)
    if as_json:
        _emit({"current": status.current, "head": status.head, "pending": status.pending})
    else:
        err.print(f"Database at [bold]{status.current or 'base'}[/].")


@db_app.command("status")
def db_status(as_json: JsonOpt = False) -> None:
    """Show the current revision and what is pending."""
    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        status = migrate.status(database)
        where = database.describe()
    if as_json:
        _emit(
            {
                "database": where,
                "current": status.current,
                "head": status.head,
                "pending": status.pending,
                "up_to_date": status.up_to_date,
            }
        )
        return
    err.print(f"Database: {where}")
    err.print(f"Current:  {status.current or '(empty)'}\nHead:     {status.head}")
    if status.pending:
        err.print(f"Pending:  {', '.join(status.pending)}  (run `vectra db upgrade`)")
    else:
        err.print("Up to date.")


# --- operations ----------------------------------------------------------------------------


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Check the database, extensions, migrations, worker, mailboxes and secret key."""
    from vectra.doctor import run_checks

    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        checks = run_checks(database, settings)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        _emit({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for check in checks:
            err.print(f"{marks[check.status]:>16}  {check.name}: {check.detail}", highlight=False)
            if check.fix and check.status != "ok":
                err.print(f"{'':>6}  fix: {check.fix}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def backup(
    target: Annotated[
        Path | None, typer.Argument(help="File to write (default: data dir/backups/...).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Dump the whole database (pg_dump, custom format)."""
    from vectra.db.backup import dump

    settings = _setup()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = target or settings.data_dir / "backups" / f"vectra-{stamp}.dump"
    with open_database(settings, as_json=as_json) as database:
        try:
            size = dump(database.urls.owner, path)
        except DatabaseSetupError as exc:
            _fail(str(exc), as_json=as_json, code="backup_failed")
    if as_json:
        _emit({"file": str(path), "bytes": size})
    else:
        err.print(f"Backup written to {path} ({size} bytes).")


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A file made by `vectra backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Embedded database only: replace what is there.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Load a backup into an empty database (or, with --force, replace the embedded one)."""
    from sqlalchemy import text

    from vectra.db.backup import restore as restore_dump
    from vectra.db.embedded import DEFAULT_DATABASE, drop_database, ensure_database
    from vectra.db.resolve import embedded_server

    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        with database.owner_engine.connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
        if tables:
            if not force or settings.database_url:
                _fail(
                    "The database is not empty. Restore into an empty database"
                    + ("" if settings.database_url else ", or pass --force to replace it")
                    + ".",
                    as_json=as_json,
                    code="not_empty",
                )
            database.dispose()
            server = embedded_server(settings)
            drop_database(server, DEFAULT_DATABASE)
            ensure_database(server, DEFAULT_DATABASE, app_role=settings.app_role)
        try:
            restore_dump(database.urls.owner, source)
        except DatabaseSetupError as exc:
            _fail(str(exc), as_json=as_json, code="restore_failed")
        status = migrate.status(database)
    if as_json:
        _emit({"restored": str(source), "schema": status.current, "up_to_date": status.up_to_date})
    else:
        err.print(f"Restored {source}; schema at {status.current}.")
        if not status.up_to_date:
            err.print("Run `vectra db upgrade` to bring it to this version's schema.")


# --- organizations -------------------------------------------------------------------------


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option("--name", help="Organization name.")],
    owner_email: Annotated[str, typer.Option("--owner-email", help="The owner's email.")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, help="The owner's password.")
    ],
    first_name: Annotated[str | None, typer.Option("--first-name")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an organization with its owner and a trial subscription."""
    from vectra.accounts import service as accounts

    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        _upgrade(database, as_json=as_json)
        try:
            with database.system_session() as session:
                created = accounts.create_organization(
                    session,
                    name=name,
                    owner_email=owner_email,
                    password=password,
                    first_name=first_name,
                    last_name=last_name,
                )
                document = {
                    "organization": {
                        "id": str(created.organization.id),
                        "slug": created.organization.slug,
                        "name": created.organization.name,
                        "plan": created.organization.plan,
                    },
                    "user": {
                        "id": str(created.owner.id),
                        "email": created.owner.email,
                        "role": created.owner.role,
                    },
                }
        except VectraError as exc:
            where = f" ({exc.field})" if exc.field else ""
            _fail(f"{exc.message}{where}", as_json=as_json, code=exc.code)
    if as_json:
        _emit(document)
    else:
        err.print(
            f"Created organization [bold]{document['organization']['slug']}[/] "
            f"({document['organization']['id']}) with owner {document['user']['email']}."
        )


from vectra.agents.cli import agents_app  # noqa: E402
from vectra.campaigns.cli import campaign_app  # noqa: E402 (needs the helpers above)
from vectra.demo.cli import demo  # noqa: E402
from vectra.leads.cli import leads_app  # noqa: E402

app.add_typer(campaign_app, name="campaign")
app.add_typer(leads_app, name="leads")
app.add_typer(agents_app, name="agents")
app.command("demo")(demo)


def main() -> None:
    try:
        app()
    except DatabaseSetupError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
