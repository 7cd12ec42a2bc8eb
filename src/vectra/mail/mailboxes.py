"""Sending mailboxes: connect, update, test, rotate across a campaign, re-encrypt secrets."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from typing import Any

import aiosmtplib
import dns.resolver
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.errors import Conflict, InvalidInput, NotFound
from vectra.integrations import vault
from vectra.mail import counters, dkim, domain_check
from vectra.mail.mailbox_models import CampaignMailbox, Mailbox
from vectra.mail.mailbox_schemas import (
    MailboxCreate,
    MailboxRead,
    MailboxTestResult,
    MailboxUpdate,
)

SECRET_FIELDS = ("password", "imap_password")
# Nullable settings a PATCH may clear (the others must keep a value).
CLEARABLE = ("smtp_username", "imap_host", "imap_port", "imap_username")


def _scoped(actor: Actor) -> Any:
    return select(Mailbox).where(Mailbox.organization_id == actor.organization_id)


def get_mailbox(session: Session, actor: Actor, mailbox_id: uuid.UUID) -> Mailbox:
    """The organization's mailbox; another tenant's id is a 404."""
    mailbox = session.scalar(_scoped(actor).where(Mailbox.id == mailbox_id))
    if mailbox is None:
        raise NotFound("Mailbox not found.")
    return mailbox


def list_mailboxes(session: Session, actor: Actor) -> list[Mailbox]:
    """The organization's mailboxes, oldest first."""
    return list(session.scalars(_scoped(actor).order_by(Mailbox.created_at, Mailbox.id)))


def read_model(session: Session, mailbox: Mailbox) -> MailboxRead:
    """The public view: secrets reduced to the names of the fields that are set."""
    today = utcnow().date()
    stored = vault.decrypt(mailbox.secret) if mailbox.secret else {}
    return MailboxRead(
        id=mailbox.id,
        name=mailbox.name,
        from_name=mailbox.from_name,
        from_address=mailbox.from_address,
        smtp_host=mailbox.smtp_host,
        smtp_port=mailbox.smtp_port,
        smtp_security=mailbox.smtp_security,
        smtp_username=mailbox.smtp_username,
        secrets_set=sorted(k for k in SECRET_FIELDS if stored.get(k)),
        daily_cap=mailbox.daily_cap,
        effective_daily_cap=counters.effective_mailbox_cap(mailbox, today),
        sent_today=counters.sent_on(session, "mailbox", mailbox.id, today),
        warmup_start=mailbox.warmup_start,
        warmup_increment=mailbox.warmup_increment,
        warmup_days=mailbox.warmup_days,
        warmup_started_on=mailbox.warmup_started_on,
        min_interval_seconds=mailbox.min_interval_seconds,
        jitter_seconds=mailbox.jitter_seconds,
        signature=mailbox.signature,
        status=mailbox.status,
        status_reason=mailbox.status_reason,
        sent_total=mailbox.sent_total,
        failed_total=mailbox.failed_total,
        last_sent_at=mailbox.last_sent_at,
        last_error=mailbox.last_error,
        created_at=mailbox.created_at,
        imap_host=mailbox.imap_host,
        imap_port=mailbox.imap_port,
        imap_security=mailbox.imap_security,
        imap_username=mailbox.imap_username,
        imap_folder=mailbox.imap_folder,
        imap_enabled=mailbox.imap_enabled,
        imap_last_polled_at=mailbox.imap_last_polled_at,
        imap_last_error=mailbox.imap_last_error,
    )


def create_mailbox(session: Session, actor: Actor, data: MailboxCreate) -> Mailbox:
    """Connect a mailbox; the password is stored only through the credential vault."""
    fields = data.model_dump(exclude={"smtp_password", "imap_password"})
    fields["from_address"] = str(data.from_address).lower()
    if fields["imap_enabled"] is None:
        fields["imap_enabled"] = data.imap_host is not None
    mailbox = Mailbox(organization_id=actor.organization_id, **fields)
    _check_imap(mailbox)
    mailbox.warmup_started_on = utcnow().date()
    secret = {"password": data.smtp_password, "imap_password": data.imap_password}
    if any(secret.values()):
        mailbox.secret = vault.encrypt({k: v for k, v in secret.items() if v})
    session.add(mailbox)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"A mailbox for {mailbox.from_address} already exists.", field="from_address"
        ) from exc
    return mailbox


def update_mailbox(
    session: Session, actor: Actor, mailbox_id: uuid.UUID, data: MailboxUpdate
) -> Mailbox:
    """Change settings; a new password replaces the stored one; resuming clears the reason."""
    mailbox = get_mailbox(session, actor, mailbox_id)
    changes = data.model_dump(exclude_unset=True, exclude={"smtp_password", "imap_password"})
    for name, value in changes.items():
        if value is None and name not in CLEARABLE:
            raise InvalidInput(f"{name} cannot be null.", field=name)
        setattr(mailbox, name, value)
    if changes.get("imap_host") is None and "imap_host" in changes:
        mailbox.imap_enabled = False  # no server left to poll
    elif changes.get("imap_host") and "imap_enabled" not in changes:
        mailbox.imap_enabled = True
    _check_imap(mailbox)
    if "status" in changes and changes["status"] == "active":
        mailbox.status_reason = None
    secrets = {"smtp_password": "password", "imap_password": "imap_password"}
    if secrets.keys() & data.model_fields_set:
        stored = vault.decrypt(mailbox.secret) if mailbox.secret else {}
        for field, key in secrets.items():
            if field not in data.model_fields_set:
                continue
            if value := getattr(data, field):
                stored[key] = value
            else:
                stored.pop(key, None)
        mailbox.secret = vault.encrypt(stored) if stored else None
    session.flush()
    return mailbox


def _check_imap(mailbox: Mailbox) -> None:
    if mailbox.imap_enabled and not mailbox.imap_host:
        raise InvalidInput("Polling replies needs the IMAP server's host.", field="imap_host")


def delete_mailbox(session: Session, actor: Actor, mailbox_id: uuid.UUID) -> None:
    """Disconnect a mailbox (its sent emails keep their history)."""
    session.delete(get_mailbox(session, actor, mailbox_id))
    session.flush()


def has_sending_mailbox(session: Session, actor: Actor, campaign: Campaign) -> bool:
    """Whether the campaign has at least one active mailbox to send from."""
    found = session.scalar(
        select(Mailbox.id)
        .join(CampaignMailbox, CampaignMailbox.mailbox_id == Mailbox.id)
        .where(
            CampaignMailbox.campaign_id == campaign.id,
            Mailbox.organization_id == actor.organization_id,
            Mailbox.status == "active",
        )
        .limit(1)
    )
    return found is not None


def _require_campaign(session: Session, actor: Actor, campaign_id: uuid.UUID) -> None:
    found = session.scalar(
        select(Campaign.id).where(
            Campaign.id == campaign_id, Campaign.organization_id == actor.organization_id
        )
    )
    if found is None:
        raise NotFound("Campaign not found.")


def set_campaign_mailboxes(
    session: Session, actor: Actor, campaign_id: uuid.UUID, mailbox_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """The mailboxes a campaign rotates across (replaces the previous set)."""
    _require_campaign(session, actor, campaign_id)
    wanted = list(dict.fromkeys(mailbox_ids))
    found = set(
        session.scalars(
            select(Mailbox.id).where(
                Mailbox.organization_id == actor.organization_id, Mailbox.id.in_(wanted)
            )
        )
    )
    missing = [str(m) for m in wanted if m not in found]
    if missing:
        raise InvalidInput(f"Unknown mailbox: {', '.join(missing)}.", field="mailbox_ids")
    session.execute(delete(CampaignMailbox).where(CampaignMailbox.campaign_id == campaign_id))
    for mailbox_id in wanted:
        session.add(
            CampaignMailbox(
                campaign_id=campaign_id,
                mailbox_id=mailbox_id,
                organization_id=actor.organization_id,
            )
        )
    session.flush()
    return wanted


def campaign_mailbox_ids(session: Session, actor: Actor, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    """The mailboxes the campaign rotates across."""
    _require_campaign(session, actor, campaign_id)
    return list(
        session.scalars(
            select(CampaignMailbox.mailbox_id).where(
                CampaignMailbox.campaign_id == campaign_id,
                CampaignMailbox.organization_id == actor.organization_id,
            )
        )
    )


async def check_connection(
    mailbox: Mailbox,
    *,
    send_to: str | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 15,
) -> MailboxTestResult:
    """Connect (STARTTLS/TLS), log in and optionally send a test message; never raises."""
    from vectra.mail.delivery import smtp_settings

    settings = smtp_settings(mailbox)
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=tls if settings.security != "none" else None,
        timeout=timeout,
    )
    stage = "connect"
    try:
        await client.connect()
        if settings.username and settings.password:
            stage = "login"
            await client.login(settings.username, settings.password)
        if send_to:
            stage = "send"
            message = (
                f"From: {mailbox.from_address}\r\nTo: {send_to}\r\n"
                f"Subject: Vectra test message\r\n\r\nThis mailbox is connected to Vectra.\r\n"
            )
            await client.sendmail(mailbox.from_address, [send_to], message)
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        client.close()
        return MailboxTestResult(ok=False, stage=stage, detail=str(exc) or type(exc).__name__)
    return MailboxTestResult(ok=True, stage="done", detail="connected")


def record_test_result(mailbox: Mailbox, result: MailboxTestResult) -> None:
    """A failed test marks the mailbox `error` (sending stops); a passing one clears it."""
    if result.ok and mailbox.status == "error":
        mailbox.status, mailbox.status_reason = "active", None
    elif not result.ok:
        mailbox.status = "error"
        mailbox.status_reason = f"{result.stage} failed: {result.detail}"[:1000]
        mailbox.last_error = result.detail[:1000]


def sending_domains(session: Session, actor: Actor) -> list[str]:
    """The domains the organization's mailboxes send from, in alphabetical order."""
    return sorted(
        {m.from_address.rsplit("@", 1)[-1].lower() for m in list_mailboxes(session, actor)}
    )


def check_sending_domain(
    session: Session, actor: Actor, domain: str, *, resolver: dns.resolver.Resolver | None = None
) -> list[domain_check.Check]:
    """SPF (for the mailboxes' own SMTP hosts), DKIM, DMARC and MX of one sending domain."""
    domain = domain.strip().lower().rstrip(".")
    boxes = [
        m for m in list_mailboxes(session, actor) if m.from_address.lower().endswith("@" + domain)
    ]
    if not boxes:
        raise NotFound("No mailbox sends from this domain.", field="domain")
    key = dkim.find_domain_key(session, actor, domain)
    return domain_check.check_domain(
        domain,
        dkim_selector=key.selector if key else None,
        dkim_public_key=key.public_key if key else None,
        resolver=resolver,
        spf_mechanisms=list(dict.fromkeys(domain_check.spf_mechanism(m.smtp_host) for m in boxes)),
    )


def rotate_secrets(session: Session, progress: Callable[[int, int], None] | None = None) -> int:
    """Re-encrypt every stored secret (mailboxes, DKIM keys, other registered columns)."""
    return vault.rotate_stored_secrets(session, progress)
