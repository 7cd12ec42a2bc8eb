"""`vectra leads ...`: import a CSV export, list and export a campaign's leads."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from vectra.accounts.actor import system_actor
from vectra.campaigns import service as campaigns
from vectra.errors import VectraError
from vectra.leads import importer, service
from vectra.leads.jobs import record_import_job
from vectra.leads.schemas import LeadRead

leads_app = typer.Typer(help="Leads: import, list, export.", no_args_is_help=True)

OrgOpt = Annotated[str, typer.Option("--org", help="The organization's slug.")]
CampaignOpt = Annotated[uuid.UUID, typer.Option("--campaign", help="The campaign's id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise VectraError(f"--map takes COLUMN=FIELD, not '{pair}'.", field="map")
        mapping[column.strip()] = target.strip()
    return mapping


@leads_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The CSV file.", exists=True, dir_okay=False)],
    org: OrgOpt,
    campaign: CampaignOpt,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Override a column: 'Mail=email'.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV export into a campaign (a bad row never stops the good ones)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from vectra.cli import _emit, _fail, _setup, err, open_database

    settings = _setup()
    size = file.stat().st_size
    with open_database(settings, as_json=as_json) as database:
        try:
            mapping = _parse_map(map_ or [])
            with (
                Progress(
                    TextColumn("[bold]Importing[/] {task.fields[rows]} rows"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=err,
                    transient=as_json,
                ) as bar,
                database.system_session() as session,
                file.open("rb") as binary,
            ):
                task = bar.add_task("import", total=size, rows=0)
                actor = system_actor(campaigns.organization_by_slug(session, org).id)
                report = importer.import_leads(
                    session,
                    actor,
                    campaign,
                    binary,
                    column_map=mapping,
                    source="csv",
                    progress=lambda done, rows: bar.update(task, completed=done, rows=rows),
                )
                bar.update(task, completed=size, rows=report.rows)
                job = record_import_job(session, actor, campaign, file.name, size, report)
                document = {**report.as_dict(), "job_id": str(job.id)}
        except VectraError as exc:
            where = f" ({exc.field})" if exc.field else ""
            _fail(f"{exc.message}{where}", as_json=as_json, code=exc.code)
    if as_json:
        _emit(document)
        return
    err.print(
        f"{report.rows} rows: [green]{report.imported} imported[/], {report.duplicates} "
        f"duplicates, {report.suppressed} suppressed, [red]{report.rejected} rejected[/]"
        + (f" ({report.quota_refused} over the plan's limit)" if report.quota_refused else "")
    )
    for error in report.errors[:20]:
        column = f" [{error.column}]" if error.column else ""
        err.print(f"  row {error.row}{column}: {error.reason}", highlight=False)


@leads_app.command("list")
def list_(org: OrgOpt, campaign: CampaignOpt, as_json: JsonOpt = False) -> None:
    """The campaign's leads with status, bant_score and bant_breakdown."""
    from vectra.cli import _emit, _fail, _setup, open_database

    settings = _setup()
    items: list[dict[str, Any]] = []
    with open_database(settings, as_json=as_json) as database:
        try:
            with database.system_session() as session:
                actor = system_actor(campaigns.organization_by_slug(session, org).id)
                cursor = None
                while True:
                    page = service.list_leads(
                        session, actor, campaign, service.LeadFilters(), cursor=cursor, limit=200
                    )
                    items += [
                        LeadRead.model_validate(x).model_dump(mode="json") for x in page.items
                    ]
                    if (cursor := page.next_cursor) is None:
                        break
        except VectraError as exc:
            _fail(exc.message, as_json=as_json, code=exc.code)
    if as_json:
        _emit({"leads": items})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("email", "name", "company", "status", "bant")
    for lead in items:
        name = " ".join(filter(None, [lead["first_name"], lead["last_name"]]))
        table.add_row(
            lead["email"], name, lead["company_name"] or "", lead["status"], str(lead["bant_score"])
        )
    Console().print(table)


@leads_app.command("export")
def export(
    org: OrgOpt,
    campaign: CampaignOpt,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the campaign's leads as CSV (formula injection neutralised)."""
    from vectra.cli import _fail, _setup, open_database

    settings = _setup()
    with open_database(settings) as database:
        try:
            with database.system_session() as session:
                actor = system_actor(campaigns.organization_by_slug(session, org).id)
                lines = service.export_csv(session, actor, campaign)
                if output is None:
                    for line in lines:
                        sys.stdout.write(line)
                else:
                    with output.open("w", encoding="utf-8", newline="") as handle:
                        handle.writelines(lines)
        except VectraError as exc:
            _fail(exc.message, as_json=False, code=exc.code)
