"""`vectra agents run AGENT --org SLUG --campaign ID`: run an agent now, with a progress bar.

The run is recorded like a queued one (an `agent_runs` row, idempotent); the summary is
the run's output, or with --json one document `{"run_id", "agent", "status", ...}`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from vectra.accounts.actor import system_actor
from vectra.errors import VectraError

agents_app = typer.Typer(
    help="AI agents: prospector, BANT qualifier, scheduler.", no_args_is_help=True
)


def run_document(run: Any) -> dict[str, Any]:
    return {
        "run_id": str(run.id),
        "agent": run.agent_type,
        "campaign_id": str(run.campaign_id) if run.campaign_id else None,
        "status": run.status,
        "error": run.error_message,
        "duration_ms": run.duration_ms,
        "tokens_used": run.tokens_used,
        "summary": run.output_data or {},
    }


@agents_app.command("run")
def run(
    agent: Annotated[str, typer.Argument(help="prospector, bant_qualifier or scheduler.")],
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    campaign: Annotated[uuid.UUID, typer.Option("--campaign", help="The campaign's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Run an agent on a campaign synchronously and print its summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from vectra.agents import runner
    from vectra.campaigns.service import organization_by_slug
    from vectra.cli import _emit, _fail, _setup, err, open_database

    settings = _setup()
    if agent not in runner.AGENT_TYPES:
        _fail(f"Unknown agent '{agent}'; one of: {', '.join(runner.AGENT_TYPES)}.",
              as_json=as_json, code="invalid")  # fmt: skip
    with open_database(settings, as_json=as_json) as database:
        try:
            with database.system_session() as session:
                org_id = organization_by_slug(session, org).id
            with (
                Progress(
                    TextColumn(f"[bold]{agent}[/]"), BarColumn(), MofNCompleteColumn(),
                    console=err, transient=as_json,
                ) as progress,
                database.tenant_session(org_id) as session,
            ):  # fmt: skip
                task = progress.add_task(agent, total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                result = runner.run_agent(
                    session, system_actor(org_id), agent, campaign, {}, progress=advance
                )
                document = run_document(result)
        except VectraError as exc:
            where = f" ({exc.field})" if exc.field else ""
            _fail(f"{exc.message}{where}", as_json=as_json, code=exc.code)
    if as_json:
        _emit(document)
        return
    style = "green" if document["status"] == "succeeded" else "red"
    err.print(f"[bold]{agent}[/] run {document['run_id']}: [{style}]{document['status']}[/]")
    if document["error"]:
        err.print(f"  error: {document['error']}")
    for key, value in document["summary"].items():
        err.print(f"  {key}: {value}")
    if document["status"] != "succeeded":
        raise typer.Exit(1)
