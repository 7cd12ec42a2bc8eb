"""The replies inbox: read replies by intent and campaign, act on them (vectra.mail.inbound.inbox).

Quick actions answer htmx with the reply's card re-rendered in place, and a plain form post
with a redirect back to the list it came from.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.permissions import Permission
from vectra.agents import scheduler
from vectra.campaigns import service as campaigns
from vectra.errors import InvalidInput, PermissionDenied, VectraError
from vectra.leads.models import Lead
from vectra.mail.inbound import inbox
from vectra.mail.inbound.intent import INTENTS
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.inbound.schemas import ReplyUpdate
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.REPLIES_READ)]
HandleCtx = Annotated[PageContext, page(Permission.REPLIES_HANDLE)]
MeetingCtx = Annotated[PageContext, page(Permission.MEETINGS_WRITE)]
CsrfField = Annotated[str, Form()]
BackField = Annotated[str, Form(max_length=1000)]
SHOW = {"open": False, "handled": True, "all": None}
PAGE_SIZE = 25


def _uuid_or_none(value: str | None, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a campaign id.", field=field) from None


def _lookups(
    session: Session, ctx: PageContext, rows: list[InboundMessage]
) -> tuple[dict[uuid.UUID, Lead], dict[uuid.UUID, str]]:
    """The leads and campaign names the cards show, read in the caller's organization."""
    org = ctx.actor.organization_id
    lead_ids = {r.lead_id for r in rows if r.lead_id}
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(Lead.organization_id == org, Lead.id.in_(lead_ids))
        )
    }
    names = {c.id: c.name for c in campaigns.list_campaigns(session, ctx.actor, limit=200).items}
    return leads, names


def _card_context(
    ctx: PageContext, leads: dict[uuid.UUID, Lead], names: dict[uuid.UUID, str]
) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "leads": leads,
        "campaign_names": names,
        "intents": INTENTS,
        "wants_meeting": scheduler.WANTS_MEETING,
    }


@router.get("/replies", response_class=HTMLResponse)
def replies_inbox(
    request: Request,
    session: SessionDep,
    ctx: ReadCtx,
    intent: Annotated[str | None, Query(max_length=30)] = None,
    campaign_id: Annotated[str | None, Query(max_length=40)] = None,
    show: Annotated[str, Query(max_length=10)] = "open",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    if show not in SHOW:
        raise InvalidInput(f"show must be one of: {', '.join(SHOW)}.", field="show")
    listing = inbox.list_replies(
        session,
        ctx.actor,
        intent=intent or None,
        campaign_id=_uuid_or_none(campaign_id, "campaign_id"),
        handled=SHOW[show],
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    # An empty page says "nothing yet" only when the organization has no reply at all.
    has_any = bool(listing.items) or bool(inbox.list_replies(session, ctx.actor, limit=1).items)
    leads, names = _lookups(session, ctx, list(listing.items))
    query = {"intent": intent or "", "campaign_id": campaign_id or "", "show": show}
    return render(
        request,
        "replies/inbox.html",
        {
            **_card_context(ctx, leads, names),
            "page": listing,
            "has_any": has_any,
            "query": query,
            "back": "/replies?" + urlencode(query | ({"cursor": cursor} if cursor else {})),
            "next_url": "/replies?" + urlencode(query | {"cursor": listing.next_cursor or ""}),
            "notice": notice,
            "error": error,
        },
    )


@router.get("/replies/{reply_id}", response_class=HTMLResponse)
def reply_detail(
    request: Request, session: SessionDep, ctx: ReadCtx, reply_id: uuid.UUID
) -> HTMLResponse:
    row = inbox.get_reply(session, ctx.actor, reply_id)
    leads, names = _lookups(session, ctx, [row])
    return render(
        request,
        "replies/detail.html",
        {
            **_card_context(ctx, leads, names),
            "reply": row,
            "thread": inbox.thread_of(session, ctx.actor, row),
            "back": f"/replies/{row.id}",
        },
    )


def _safe_back(back: str) -> str:
    # Only the inbox's own pages: never an open redirect.
    return back if back.startswith("/replies") and not back.startswith("//") else "/replies"


def _answer(
    request: Request,
    session: Session,
    ctx: PageContext,
    reply_id: uuid.UUID,
    back: str,
    *,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    """htmx: the card again with the outcome; a plain post: back to where the form was."""
    if request.headers.get("hx-request"):
        session.expire_all()
        row = inbox.get_reply(session, ctx.actor, reply_id)
        leads, names = _lookups(session, ctx, [row])
        context = _card_context(ctx, leads, names) | {
            "reply": row,
            "back": _safe_back(back),
            "card_notice": notice,
            "card_error": error,
            "full": back.startswith(f"/replies/{reply_id}"),
        }
        return render(request, "replies/_reply.html", context)
    target = _safe_back(back)
    query = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    if query:
        target += ("&" if "?" in target else "?") + query
    return RedirectResponse(target, status_code=303)


def _act(
    request: Request,
    session: Session,
    ctx: PageContext,
    reply_id: uuid.UUID,
    back: str,
    action: Any,
) -> Response:
    inbox.get_reply(session, ctx.actor, reply_id)  # another tenant's id: 404, before anything
    try:
        with session.begin_nested():
            notice = action()
    except VectraError as exc:
        if exc.status_code in (403, 404):
            raise
        return _answer(request, session, ctx, reply_id, back, error=exc.message)
    return _answer(request, session, ctx, reply_id, back, notice=notice)


@router.post("/replies/{reply_id}/intent")
def correct_intent(
    request: Request, session: SessionDep, ctx: HandleCtx, reply_id: uuid.UUID,
    csrf_token: CsrfField = "", intent: Annotated[str, Form(max_length=30)] = "",
    back: BackField = "/replies",
) -> Response:  # fmt: skip
    """The operator's label wins: its effects (stop, suppress, scheduler...) are applied."""
    check_csrf(ctx.csrf_token, csrf_token)

    def action() -> str:
        inbox.update_reply(session, ctx.actor, reply_id, ReplyUpdate(intent=intent))
        return f"Labelled {intent.replace('_', ' ')}."

    return _act(request, session, ctx, reply_id, back, action)


@router.post("/replies/{reply_id}/handled")
def mark_handled(
    request: Request, session: SessionDep, ctx: HandleCtx, reply_id: uuid.UUID,
    csrf_token: CsrfField = "", handled: Annotated[str, Form(max_length=5)] = "true",
    back: BackField = "/replies",
) -> Response:  # fmt: skip
    check_csrf(ctx.csrf_token, csrf_token)
    done = handled != "false"

    def action() -> str:
        inbox.update_reply(session, ctx.actor, reply_id, ReplyUpdate(handled=done))
        return "Marked handled." if done else "Reopened."

    return _act(request, session, ctx, reply_id, back, action)


@router.post("/replies/{reply_id}/unsubscribe")
def unsubscribe_lead(
    request: Request, session: SessionDep, ctx: HandleCtx, reply_id: uuid.UUID,
    csrf_token: CsrfField = "", back: BackField = "/replies",
) -> Response:  # fmt: skip
    """Suppress the lead's address and stop its sequence (the suppression list is leads')."""
    check_csrf(ctx.csrf_token, csrf_token)
    if not ctx.can(Permission.LEADS_WRITE):
        raise PermissionDenied(f"Your role ({ctx.actor.role}) cannot suppress a lead.")

    def action() -> str:
        inbox.unsubscribe_lead(session, ctx.actor, reply_id)
        return "Unsubscribed: the address is suppressed and its sequence stopped."

    return _act(request, session, ctx, reply_id, back, action)


@router.post("/replies/{reply_id}/propose-meeting")
def propose_meeting(
    request: Request, session: SessionDep, ctx: MeetingCtx, reply_id: uuid.UUID,
    csrf_token: CsrfField = "", back: BackField = "/replies",
) -> Response:  # fmt: skip
    """The scheduler agent drafts three times and a booking link, pending approval."""
    check_csrf(ctx.csrf_token, csrf_token)
    row = inbox.get_reply(session, ctx.actor, reply_id)
    if row.lead_id is None:
        return _answer(request, session, ctx, reply_id, back, error="No lead to write to.")
    try:
        with session.begin_nested():
            proposal = scheduler.propose_meeting(session, ctx.actor, row.lead_id)
    except VectraError as exc:
        if exc.status_code in (403, 404):
            raise
        return _answer(request, session, ctx, reply_id, back, error=exc.message)
    if proposal.status != "succeeded":  # the failed run is kept: the agent log says why
        error = f"No times proposed: {proposal.error}"
        return _answer(request, session, ctx, reply_id, back, error=error)
    notice = "Drafted a reply proposing three times and a booking link; it waits for approval."
    return _answer(request, session, ctx, reply_id, back, notice=notice)
