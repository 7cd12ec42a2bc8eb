"""Who is calling: the Actor, resolved once per request, and each route's permission.

Every API route declares `require(Permission.X)` (or `public()`); a test walks all routes
for all roles against the permission table, so a route that forgets fails the suite.
Bearer tokens serve the API; the `vectra_session` cookie serves the pages, and any unsafe
method it authorises must carry the session's CSRF token (header `X-CSRF-Token` or a form
field `csrf_token`), since browsers attach cookies to cross-site requests.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from vectra.accounts import api_keys, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.accounts.usage import counter_for
from vectra.billing.access import refuse_writes_when_read_only
from vectra.db.tenancy import set_tenant
from vectra.errors import PermissionDenied, Unauthenticated
from vectra.logs import organization_id_var
from vectra.web.deps import get_session

SESSION_COOKIE = "vectra_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def _csrf_token_from(request: Request) -> str | None:
    if token := request.headers.get(CSRF_HEADER):
        return token
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def resolve_actor(request: Request, session: Session) -> Actor:
    """The caller's Actor (401 when anonymous or the credentials are not valid)."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        set_tenant(session, cached.organization_id)
        return cached
    ip = client_ip(request)
    token = _bearer(request)
    actor: Actor | None = None
    if token is not None:
        actor = _actor_from_token(session, token, ip=ip)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        resolved = sessions.resolve_session(session, cookie, ip=ip)
        if resolved is not None and resolved.session.kind == "web":
            if request.method not in _SAFE_METHODS:
                expected = resolved.session.csrf_token or ""
                given = getattr(request.state, "csrf_token", None) or ""
                if not (expected and hmac.compare_digest(expected, given)):
                    raise PermissionDenied("Missing or wrong CSRF token; reload the page.")
            actor = resolved.actor
    if actor is None:
        raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
    set_tenant(session, actor.organization_id)
    organization_id_var.set(str(actor.organization_id))
    request.state.actor = actor
    if actor.api_key_id is not None:
        counter_for(request.app).add(actor.organization_id)  # usage_records.api_calls
    return actor


def _actor_from_token(session: Session, token: str, *, ip: str | None) -> Actor | None:
    if token.startswith(sessions.TOKEN_PREFIX):
        resolved = sessions.resolve_session(session, token, ip=ip)
        return resolved.actor if resolved and resolved.session.kind == "bearer" else None
    if token.startswith(api_keys.KEY_PREFIX):
        return api_keys.resolve_api_key(session, token, ip=ip)
    return None


async def _capture_csrf(request: Request) -> None:
    # Reading a form body is async; the rest of authentication is sync database work.
    if request.method not in _SAFE_METHODS and SESSION_COOKIE in request.cookies:
        request.state.csrf_token = await _csrf_token_from(request)


class Requirement:
    """A route's declared permission; also the marker the route-walking test looks for."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self,
        request: Request,
        session: Annotated[Session, Depends(get_session)],
        _csrf: Annotated[None, Depends(_capture_csrf)],
    ) -> Actor:
        actor = resolve_actor(request, session)
        actor.require(self.permission)
        # Unpaid, canceled or ended-trial organizations keep reads but lose writes (402).
        refuse_writes_when_read_only(session, actor, self.permission)
        return actor


class PublicRoute:
    """Marks a route that anyone may call (sign-up, login, webhooks, tracking, booking)."""

    def __call__(self) -> None:
        return None


def require(permission: Permission) -> Any:
    """`actor: Actor = require(Permission.LEADS_WRITE)`: authenticate, then authorise."""
    return Depends(Requirement(permission))


def public() -> Any:
    return Depends(PublicRoute())
