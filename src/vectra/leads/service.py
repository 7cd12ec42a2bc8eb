"""Lead rules: one lead at a time, lists, export; imports live in `importer`."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.billing import limits
from vectra.campaigns import service as campaigns
from vectra.db.pagination import Page, check_limit, decode_cursor, encode_cursor, paginate
from vectra.errors import Conflict, InvalidInput, NotFound
from vectra.leads.models import Lead
from vectra.leads.normalize import BadEmail, normalize_email
from vectra.leads.schemas import LeadCreate, LeadUpdate
from vectra.leads.status import LeadStatus, transition
from vectra.leads.suppression import suppressed_among
from vectra.leads.tables import LeadStatusHistory

SEARCH_EXPR = (
    "(coalesce(leads.first_name, '') || ' ' || coalesce(leads.last_name, '') || ' ' || "
    "coalesce(leads.company_name, '') || ' ' || coalesce(leads.job_title, ''))"
)


def scoped(actor: Actor) -> Select[Any]:
    """Every lead query starts here: only the actor's organization's rows."""
    return select(Lead).where(Lead.organization_id == actor.organization_id)


def get_lead(session: Session, actor: Actor, lead_id: uuid.UUID) -> Lead:
    """A lead of the actor's organization (404 for any other)."""
    lead = session.scalar(scoped(actor).where(Lead.id == lead_id))
    if lead is None:
        raise NotFound("Lead not found.")
    return lead


def create_lead(session: Session, actor: Actor, campaign_id: uuid.UUID, data: LeadCreate) -> Lead:
    """Add one lead; the address is normalised, deduplicated and checked against suppression."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    try:
        email = normalize_email(data.email)
    except BadEmail as exc:
        raise InvalidInput(f"Not a valid email: {exc}", field="email") from None
    if suppressed_among(session, actor, [email]):
        raise Conflict("This address (or its domain) is on the suppression list.", field="email")
    limits.consume(session, actor.organization_id, "leads", 1)  # 402 past the plan's limit
    lead = Lead(
        campaign_id=campaign.id,
        organization_id=actor.organization_id,
        email=email,
        status=LeadStatus.NEW.value,
        **data.model_dump(exclude={"email"}),
    )
    try:
        with session.begin_nested():
            session.add(lead)
            session.flush()
    except IntegrityError:
        raise Conflict("This campaign already has a lead with this email.", field="email") from None
    session.refresh(lead)
    return lead


def update_lead(session: Session, actor: Actor, lead_id: uuid.UUID, data: LeadUpdate) -> Lead:
    """Change the fields sent; a status change is recorded with its reason."""
    lead = get_lead(session, actor, lead_id)
    for name, value in data.model_dump(exclude_unset=True, exclude={"status", "reason"}).items():
        if name == "enrichment_data" and value is None:
            raise InvalidInput("enrichment_data cannot be null.", field="enrichment_data")
        setattr(lead, name, value)
    session.flush()
    if data.status is not None:
        transition(session, actor, lead, data.status, reason=data.reason)
    session.refresh(lead)
    return lead


def delete_lead(session: Session, actor: Actor, lead_id: uuid.UUID) -> None:
    lead = get_lead(session, actor, lead_id)
    session.delete(lead)
    session.flush()


def status_history(session: Session, actor: Actor, lead_id: uuid.UUID) -> list[LeadStatusHistory]:
    return list(
        session.scalars(
            select(LeadStatusHistory)
            .where(
                LeadStatusHistory.lead_id == lead_id,
                LeadStatusHistory.organization_id == actor.organization_id,
            )
            .order_by(LeadStatusHistory.created_at, LeadStatusHistory.id)
        )
    )


@dataclass(frozen=True)
class LeadFilters:
    status: LeadStatus | None = None
    min_score: int | None = None
    max_score: int | None = None
    intent: str | None = None
    q: str | None = None


def _filtered(actor: Actor, campaign_id: uuid.UUID, filters: LeadFilters) -> Select[Any]:
    statement = scoped(actor).where(Lead.campaign_id == campaign_id)
    if filters.status is not None:
        statement = statement.where(Lead.status == filters.status.value)
    if filters.min_score is not None:
        statement = statement.where(Lead.bant_score >= filters.min_score)
    if filters.max_score is not None:
        statement = statement.where(Lead.bant_score <= filters.max_score)
    if filters.intent:
        statement = statement.where(Lead.intent == filters.intent)
    return statement


# Search. Under RLS PostgreSQL neither uses an index for ILIKE nor trusts statistics to
# estimate it, so it may read the whole campaign and sort it (9 s at 1M leads). A term is
# therefore looked for in explicit windows of the (created_at, id) walk, the first of which also
# measures how often the term and each of its words occur. A term found often enough there
# keeps walking window after window (a page fills within a few thousand rows); a rare one is
# served by the pg_trgm index through `vectra_lead_search` (migration 032), queried with the
# term's rarest word, since GIN pays for every frequent trigram of a pattern.
FIRST_WINDOW = 500
NEXT_WINDOW = 5000
DENSE_HITS = 5  # >= 1 % of the first window: walk on
RARE_WORD_HITS = 5  # <= 1 % of the first window: that word alone narrows the index scan


def _search_page(
    session: Session,
    statement: Select[Any],
    campaign_id: uuid.UUID,
    term: str,
    cursor: str | None,
    limit: int,
) -> Page[Lead]:
    check_limit(limit)
    pattern = f"%{_escape(term)}%"
    words = sorted({w for w in term.split() if len(w) >= 3}, key=lambda w: (-len(w), w))
    after = decode_cursor(cursor) if cursor else None
    found: list[uuid.UUID] = []
    size = FIRST_WINDOW
    while True:
        scan = statement
        if after is not None:
            scan = scan.where(tuple_(Lead.created_at, Lead.id) < tuple_(*after))
        newest_first = (Lead.created_at.desc(), Lead.id.desc())
        window = (
            scan.with_only_columns(
                Lead.id,
                Lead.created_at,
                literal_column(SEARCH_EXPR).label("haystack"),
                func.row_number().over(order_by=newest_first).label("n"),
            )
            .order_by(*newest_first)
            .limit(size)
            .subquery()
        )
        w = window.c
        last = w.n == size
        counts = [
            func.count().filter(func.strpos(func.lower(w.haystack), word.lower()) > 0)
            for word in (words if size == FIRST_WINDOW else [])
        ]
        seen, hits, last_at, last_id, *word_hits = session.execute(
            select(
                func.count(),
                func.array_agg(aggregate_order_by(w.id, w.n)).filter(w.haystack.ilike(pattern)),
                func.max(w.created_at).filter(last),
                func.array_agg(w.id).filter(last)[1],
                *counts,
            ).select_from(window)
        ).one()
        found += hits or []
        if len(found) > limit or seen < size:
            break
        if size == FIRST_WINDOW and len(found) < DENSE_HITS and words:
            rarest_hits, rarest = min(zip(word_hits, words, strict=True), key=lambda p: p[0])
            index_pattern = f"%{_escape(rarest)}%" if rarest_hits <= RARE_WORD_HITS else pattern
            ids = func.vectra_lead_search(campaign_id, index_pattern, pattern).table_valued("id")
            return paginate(
                statement.where(Lead.id.in_(select(ids.c.id))),
                execute=lambda s: session.scalars(s).all(),
                sort=Lead.created_at,
                id_column=Lead.id,
                cursor=cursor,
                limit=limit,
            )
        after, size = (last_at, last_id), NEXT_WINDOW
    page_ids = found[:limit]
    leads = list(
        session.scalars(
            statement.where(Lead.id.in_(page_ids)).order_by(Lead.created_at.desc(), Lead.id.desc())
        )
    )
    more = len(found) > limit and bool(leads)
    return Page(
        items=leads,
        next_cursor=encode_cursor(leads[-1].created_at, leads[-1].id) if more else None,
    )


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_leads(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    filters: LeadFilters,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Lead]:
    """One keyset page of a campaign's leads, newest first."""
    campaigns.get_campaign(session, actor, campaign_id)
    if (
        filters.min_score is not None
        and filters.max_score is not None
        and filters.min_score > filters.max_score
    ):
        raise InvalidInput("min_score is above max_score.", field="min_score")
    statement = _filtered(actor, campaign_id, filters)
    if filters.q and filters.q.strip():
        return _search_page(session, statement, campaign_id, filters.q.strip(), cursor, limit)
    return paginate(
        statement,
        execute=lambda s: session.scalars(s).all(),
        sort=Lead.created_at,
        id_column=Lead.id,
        cursor=cursor,
        limit=limit,
    )


def count_leads(session: Session, actor: Actor, campaign_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.organization_id == actor.organization_id, Lead.campaign_id == campaign_id)
        )
        or 0
    )


EXPORT_COLUMNS = (
    "email", "first_name", "last_name", "job_title", "company_name", "company_size",
    "linkedin_url", "phone", "status", "bant_score", "intent", "source", "created_at",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text_value = "" if value is None else str(value)
    if text_value.startswith(_FORMULA_START):
        return "'" + text_value
    return text_value


class _Line:
    def __init__(self) -> None:
        self.value = ""

    def write(self, data: str) -> None:
        self.value = data


def export_csv(session: Session, actor: Actor, campaign_id: uuid.UUID) -> Iterator[str]:
    """The campaign's leads as CSV lines, streamed in id order, formulas neutralised."""
    campaigns.get_campaign(session, actor, campaign_id)
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield line.value
    statement = (
        scoped(actor)
        .where(Lead.campaign_id == campaign_id)
        .order_by(Lead.created_at, Lead.id)
        .execution_options(yield_per=1000)
    )
    for lead in session.scalars(statement):
        writer.writerow([neutralise_cell(getattr(lead, c)) for c in EXPORT_COLUMNS])
        yield line.value
