"""What every page needs: templates, the signed-in actor (or a redirect to /login), CSRF."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from vectra.accounts import sessions
from vectra.accounts.actor import Actor
from vectra.accounts.models import User
from vectra.accounts.permissions import Permission
from vectra.db.tenancy import set_tenant
from vectra.errors import PermissionDenied
from vectra.settings import get_settings
from vectra.web.auth import SESSION_COOKIE, client_ip
from vectra.web.deps import get_session

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
ANON_CSRF_COOKIE = "vectra_csrf"


class LoginRequired(Exception):
    """The page needs a signed-in user: answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


class PageContext:
    """The signed-in user's actor, user record and CSRF token for forms."""

    def __init__(self, actor: Actor, user: User, csrf_token: str) -> None:
        self.actor = actor
        self.user = user
        self.csrf_token = csrf_token

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.actor.permissions


class PageRequirement:
    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self, request: Request, session: Annotated[Session, Depends(get_session)]
    ) -> PageContext:
        token = request.cookies.get(SESSION_COOKIE)
        resolved = (
            sessions.resolve_session(session, token, ip=client_ip(request)) if token else None
        )
        if resolved is None or resolved.session.kind != "web":
            raise LoginRequired(request.url.path)
        if not resolved.actor.can(self.permission):
            raise PermissionDenied(f"Your role ({resolved.actor.role}) cannot open this page.")
        set_tenant(session, resolved.actor.organization_id)
        return PageContext(resolved.actor, resolved.user, resolved.session.csrf_token or "")


def page(permission: Permission) -> Any:
    """`ctx: PageContext = page(Permission.LEADS_READ)` for a signed-in page."""
    return Depends(PageRequirement(permission))


def check_csrf(expected: str, given: str | None) -> None:
    """Refuse a form post whose CSRF token does not match (cross-site request)."""
    if not (expected and given and hmac.compare_digest(expected, given)):
        raise PermissionDenied("The form expired or came from another site; reload and retry.")


def anonymous_csrf(request: Request) -> str:
    """A double-submit token for forms shown before sign-in (login, sign-up)."""
    return request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def set_session_cookie(response: Response, token: str) -> None:
    secure = get_settings().base_url.startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.WEB_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def set_anonymous_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        ANON_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/", max_age=3600
    )
