"""Connecting a mailbox, and each sending domain's DNS checks (SPF, DKIM, DMARC, MX).

The form goes through `MailboxCreate` and the mailbox service, which stores the SMTP password
only through the credential vault; the page never writes a password back into the form, not
even after a validation error. DNS checks run on demand (they wait on DNS), with the same
resolver dependency as the API, so tests point both at a local DNS server.
"""

from __future__ import annotations

from typing import Annotated, Any

import dns.resolver
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vectra.accounts.permissions import Permission
from vectra.errors import NotFound, VectraError
from vectra.mail import dkim, mailboxes
from vectra.mail.api_mailboxes import get_resolver
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.MAILBOXES_READ)]
ManageCtx = Annotated[PageContext, page(Permission.MAILBOXES_MANAGE)]
Resolver = Annotated[dns.resolver.Resolver, Depends(get_resolver)]
Domain = Annotated[str, Path(max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]

SECURITY_CHOICES = [
    ("starttls", "STARTTLS (usually port 587)"),
    ("tls", "TLS from the start (usually port 465)"),
    ("none", "None (local relays only)"),
]
DEFAULTS = {
    "smtp_port": "587", "smtp_security": "starttls", "daily_cap": "50", "warmup_days": "14",
    "warmup_start": "20", "warmup_increment": "5",
}  # fmt: skip
CHECK_LABELS = {"spf": "SPF", "dkim": "DKIM", "dmarc": "DMARC", "mx": "MX"}


def _form(request: Request, ctx: PageContext, values: dict[str, Any], *,
          error: str | None = None, field: str | None = None, status_code: int = 200,
          ) -> HTMLResponse:  # fmt: skip
    return render(
        request,
        "operations/mailbox_new.html",
        {"ctx": ctx, "values": values, "security_choices": SECURITY_CHOICES,
         "error": error, "error_field": field},
        status_code=status_code,
    )  # fmt: skip


@router.get("/mailboxes/new", response_class=HTMLResponse)
def mailbox_new(request: Request, ctx: ManageCtx) -> HTMLResponse:
    return _form(request, ctx, dict(DEFAULTS))


@router.post("/mailboxes/new")
def mailbox_connect(
    request: Request,
    session: SessionDep,
    ctx: ManageCtx,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    from_name: Annotated[str, Form()] = "",
    from_address: Annotated[str, Form()] = "",
    smtp_host: Annotated[str, Form()] = "",
    smtp_port: Annotated[str, Form()] = "587",
    smtp_security: Annotated[str, Form()] = "starttls",
    smtp_username: Annotated[str, Form()] = "",
    smtp_password: Annotated[str, Form()] = "",
    daily_cap: Annotated[str, Form()] = "50",
    warmup_days: Annotated[str, Form()] = "14",
    warmup_start: Annotated[str, Form()] = "20",
    warmup_increment: Annotated[str, Form()] = "5",
    signature: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    # Everything but the password goes back into the form on an error.
    values = {
        "name": name, "from_name": from_name, "from_address": from_address,
        "smtp_host": smtp_host, "smtp_port": smtp_port, "smtp_security": smtp_security,
        "smtp_username": smtp_username, "daily_cap": daily_cap, "warmup_days": warmup_days,
        "warmup_start": warmup_start, "warmup_increment": warmup_increment,
        "signature": signature,
    }  # fmt: skip
    try:
        data = MailboxCreate.model_validate(
            {
                **{k: v.strip() for k, v in values.items() if k != "signature"},
                "signature": signature,
                "smtp_username": smtp_username.strip() or None,
                "smtp_password": smtp_password or None,
                "smtp_port": smtp_port.strip() or "587",
                "daily_cap": daily_cap.strip() or "50",
                "warmup_days": warmup_days.strip() or "0",
                "warmup_start": warmup_start.strip() or "20",
                "warmup_increment": warmup_increment.strip() or "5",
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        message = f"{where}: {first['msg']}"
        return _form(request, ctx, values, error=message, field=where, status_code=422)
    try:
        with session.begin_nested():
            mailbox = mailboxes.create_mailbox(session, ctx.actor, data)
    except VectraError as exc:
        return _form(
            request, ctx, values, error=exc.message, field=exc.field, status_code=exc.status_code
        )
    return RedirectResponse(f"/mailboxes?connected={mailbox.id}", status_code=303)


@router.get("/mailboxes/domains/{domain}", response_class=HTMLResponse)
def domain_checks(
    request: Request, session: SessionDep, ctx: ReadCtx, domain: Domain, resolver: Resolver
) -> HTMLResponse:
    """SPF, DKIM, DMARC and MX of one of the organization's sending domains, with the fixes."""
    domain = domain.lower().rstrip(".")
    checks = mailboxes.check_sending_domain(session, ctx.actor, domain, resolver=resolver)
    has_key = dkim.find_domain_key(session, ctx.actor, domain) is not None
    return render(
        request,
        "operations/domain_checks.html",
        {
            "ctx": ctx, "domain": domain, "checks": checks, "labels": CHECK_LABELS,
            "ok": all(c.status in ("ok", "warn") for c in checks),
            "has_dkim_key": has_key,
        },
    )  # fmt: skip


@router.post("/mailboxes/domains/{domain}/dkim")
def domain_dkim_key(
    session: SessionDep,
    ctx: ManageCtx,
    domain: Domain,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Make the domain's DKIM key (once); the check page then shows the record to publish."""
    check_csrf(ctx.csrf_token, csrf_token)
    domain = domain.lower().rstrip(".")
    if domain not in mailboxes.sending_domains(session, ctx.actor):
        raise NotFound("No mailbox sends from this domain.", field="domain")
    dkim.ensure_domain_key(session, ctx.actor, domain)
    return RedirectResponse(f"/mailboxes/domains/{domain}", status_code=303)
