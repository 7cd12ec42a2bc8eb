"""`vectra campaign ...`: create and list campaigns from the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from vectra.accounts.actor import system_actor
from vectra.campaigns import service
from vectra.campaigns.models import Campaign
from vectra.campaigns.schemas import CampaignCreate, CampaignRead
from vectra.errors import VectraError

campaign_app = typer.Typer(help="Campaigns.", no_args_is_help=True)


def campaign_document(campaign: Campaign) -> dict[str, Any]:
    return CampaignRead.model_validate(campaign).model_dump(mode="json")


@campaign_app.command("create")
def create(
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    name: Annotated[str, typer.Option("--name", help="Campaign name.")],
    criteria: Annotated[
        Path | None, typer.Option("--criteria", help="A JSON file of target criteria.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Create a draft campaign."""
    from vectra.cli import _emit, _fail, _setup, err, open_database

    settings = _setup()
    data: dict[str, Any] = {"name": name}
    if criteria is not None:
        try:
            data["target_criteria"] = json.loads(criteria.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            _fail(f"Cannot read {criteria}: {exc}", as_json=as_json, code="invalid")
    try:
        body = CampaignCreate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        _fail(f"{where}: {first['msg']}", as_json=as_json, code="invalid")
    with open_database(settings, as_json=as_json) as database:
        try:
            with database.system_session() as session:
                organization = service.organization_by_slug(session, org)
                actor = system_actor(organization.id)
                document = campaign_document(service.create_campaign(session, actor, body))
        except VectraError as exc:
            where = f" ({exc.field})" if exc.field else ""
            _fail(f"{exc.message}{where}", as_json=as_json, code=exc.code)
    if as_json:
        _emit(document)
    else:
        err.print(f"Created campaign [bold]{document['name']}[/] ({document['id']}).")


@campaign_app.command("list")
def list_(
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the organization's campaigns, newest first."""
    from vectra.cli import _emit, _fail, _setup, open_database

    settings = _setup()
    with open_database(settings, as_json=as_json) as database:
        try:
            with database.system_session() as session:
                actor = system_actor(service.organization_by_slug(session, org).id)
                items: list[dict[str, Any]] = []
                cursor = None
                while True:
                    page = service.list_campaigns(session, actor, cursor=cursor, limit=200)
                    items += [campaign_document(c) for c in page.items]
                    if (cursor := page.next_cursor) is None:
                        break
        except VectraError as exc:
            _fail(exc.message, as_json=as_json, code=exc.code)
    if as_json:
        _emit({"campaigns": items})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "name", "status", "daily limit", "created")
    for c in items:
        table.add_row(c["id"], c["name"], c["status"], str(c["daily_limit"]), c["created_at"])
    Console().print(table)


@campaign_app.command("rank")
def rank(
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    campaign: Annotated[str, typer.Option("--campaign", help="The campaign's id.")],
    limit: Annotated[int, typer.Option("--limit", help="How many leads.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The campaign's leads by fit to its ideal customer profile, best first."""
    import uuid

    from vectra.ai.icp import rank_campaign_leads
    from vectra.cli import _fail, _setup, open_database

    settings = _setup()
    try:
        campaign_id = uuid.UUID(campaign)
    except ValueError:
        _fail(f"Not a campaign id: {campaign}", as_json=as_json, code="invalid")
    with open_database(settings, as_json=as_json) as database:
        try:
            with database.system_session() as session:
                org_id = service.organization_by_slug(session, org).id
            with database.tenant_session(org_id) as session:
                items = [
                    r.as_dict()
                    for r in rank_campaign_leads(session, org_id, campaign_id, limit=limit)
                ]
        except VectraError as exc:
            _fail(exc.message, as_json=as_json, code=exc.code)
    if as_json:
        print(json.dumps(items))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("fit", "email", "reasons")
    for item in items:
        table.add_row(f"{item['fit']:.3f}", item["email"], "; ".join(item["reasons"]))
    Console().print(table)
