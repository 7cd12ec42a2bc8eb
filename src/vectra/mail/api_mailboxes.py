"""Mailbox, DKIM, domain-check and kill-switch routes. Thin: rules live in the services."""

from __future__ import annotations

import uuid
from typing import Annotated

import dns.resolver
from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.mail import dkim, domain_check, guardrails, mailboxes
from vectra.mail.mailbox_models import DkimKey
from vectra.mail.mailbox_schemas import (
    CampaignMailboxes,
    DnsRecord,
    DomainCheckRead,
    DomainKeyRead,
    MailboxCreate,
    MailboxList,
    MailboxRead,
    MailboxTest,
    MailboxTestResult,
    MailboxUpdate,
)
from vectra.mail.outgoing import domain_of
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/mailboxes", tags=["mailboxes"])
campaign_router = APIRouter(prefix="/api/v1/campaigns", tags=["mailboxes"])
sending_router = APIRouter(prefix="/api/v1/sending", tags=["mailboxes"])

Reader = Annotated[Actor, require(Permission.MAILBOXES_READ)]
Manager = Annotated[Actor, require(Permission.MAILBOXES_MANAGE)]


def get_resolver() -> dns.resolver.Resolver:
    """The DNS resolver of domain checks (tests override it with a local server)."""
    return domain_check.make_resolver()


@router.get("", response_model=MailboxList)
def list_mailboxes(session: SessionDep, actor: Reader) -> MailboxList:
    items = mailboxes.list_mailboxes(session, actor)
    return MailboxList(items=[mailboxes.read_model(session, m) for m in items])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MailboxRead)
def create_mailbox(body: MailboxCreate, session: SessionDep, actor: Manager) -> MailboxRead:
    return mailboxes.read_model(session, mailboxes.create_mailbox(session, actor, body))


@router.get("/{mailbox_id}", response_model=MailboxRead)
def get_mailbox(mailbox_id: uuid.UUID, session: SessionDep, actor: Reader) -> MailboxRead:
    return mailboxes.read_model(session, mailboxes.get_mailbox(session, actor, mailbox_id))


@router.patch("/{mailbox_id}", response_model=MailboxRead)
def update_mailbox(
    mailbox_id: uuid.UUID, body: MailboxUpdate, session: SessionDep, actor: Manager
) -> MailboxRead:
    mailbox = mailboxes.update_mailbox(session, actor, mailbox_id, body)
    return mailboxes.read_model(session, mailbox)


@router.delete("/{mailbox_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_mailbox(mailbox_id: uuid.UUID, session: SessionDep, actor: Manager) -> Response:
    mailboxes.delete_mailbox(session, actor, mailbox_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{mailbox_id}/test", response_model=MailboxTestResult)
async def test_mailbox(
    mailbox_id: uuid.UUID, session: SessionDep, actor: Manager, body: MailboxTest | None = None
) -> MailboxTestResult:
    mailbox = mailboxes.get_mailbox(session, actor, mailbox_id)
    send_to = str(body.send_to) if body and body.send_to else None
    result = await mailboxes.check_connection(mailbox, send_to=send_to)
    mailboxes.record_test_result(mailbox, result)
    session.flush()
    return result


def _key_read(key: DkimKey) -> DomainKeyRead:
    return DomainKeyRead(
        domain=key.domain, selector=key.selector, record=DnsRecord(**dkim.dns_record(key))
    )


@router.post("/{mailbox_id}/dkim", response_model=DomainKeyRead)
def ensure_dkim_key(mailbox_id: uuid.UUID, session: SessionDep, actor: Manager) -> DomainKeyRead:
    """The DKIM key of the mailbox's domain (made on first call) and the TXT record to publish."""
    mailbox = mailboxes.get_mailbox(session, actor, mailbox_id)
    return _key_read(dkim.ensure_domain_key(session, actor, domain_of(mailbox.from_address)))


@router.get("/{mailbox_id}/domain-check", response_model=DomainCheckRead)
def check_domain(
    mailbox_id: uuid.UUID,
    session: SessionDep,
    actor: Reader,
    resolver: Annotated[dns.resolver.Resolver, Depends(get_resolver)],
) -> DomainCheckRead:
    """SPF, DKIM, DMARC and MX of the mailbox's domain, each with what to fix."""
    mailbox = mailboxes.get_mailbox(session, actor, mailbox_id)
    domain = domain_of(mailbox.from_address)
    key = dkim.find_domain_key(session, actor, domain)
    checks = domain_check.check_domain(
        domain,
        dkim_selector=key.selector if key else None,
        dkim_public_key=key.public_key if key else None,
        resolver=resolver,
    )
    return DomainCheckRead(
        domain=domain,
        ok=all(c.status in ("ok", "warn") for c in checks),
        checks=[c.as_dict() for c in checks],
    )


@campaign_router.get("/{campaign_id}/mailboxes", response_model=CampaignMailboxes)
def get_campaign_mailboxes(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_READ)],
) -> CampaignMailboxes:
    return CampaignMailboxes(
        mailbox_ids=mailboxes.campaign_mailbox_ids(session, actor, campaign_id)
    )


@campaign_router.put("/{campaign_id}/mailboxes", response_model=CampaignMailboxes)
def set_campaign_mailboxes(
    campaign_id: uuid.UUID,
    body: CampaignMailboxes,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_WRITE)],
) -> CampaignMailboxes:
    """The mailboxes the campaign rotates across."""
    ids = mailboxes.set_campaign_mailboxes(session, actor, campaign_id, body.mailbox_ids)
    return CampaignMailboxes(mailbox_ids=ids)


class KillSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paused: bool
    reason: str | None = Field(default=None, max_length=500)


@sending_router.put("/kill-switch", response_model=KillSwitch)
def set_kill_switch(body: KillSwitch, session: SessionDep, actor: Manager) -> KillSwitch:
    """Stop (or resume) every send of the organization at once."""
    guardrails.set_kill_switch(session, actor, paused=body.paused, reason=body.reason)
    return body


routers = [router, campaign_router, sending_router]
