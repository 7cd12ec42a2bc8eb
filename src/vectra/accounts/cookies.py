"""The web session cookie for the pages: set, clear, and the CSRF token forms must echo."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from vectra.accounts.sessions import WEB_LIFETIME, IssuedSession, resolve_session
from vectra.settings import get_settings

SESSION_COOKIE = "vectra_session"  # the name vectra.web.auth reads


def set_session_cookie(
    response: Response, issued: IssuedSession, *, base_url: str | None = None
) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POSTs), Secure on https."""
    assert issued.session.kind == "web", "only web sessions belong in a cookie"
    url = base_url or get_settings().base_url
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(WEB_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=url.lower().startswith("https://"),
    )


def clear_session_cookie(response: Response, *, base_url: str | None = None) -> None:
    url = base_url or get_settings().base_url
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=url.lower().startswith("https://"),
    )


def csrf_token(session: Session, request: Request) -> str | None:
    """The CSRF token of the request's live web session, for forms (field `csrf_token`) and
    the `X-CSRF-Token` header; None when the request carries no live web session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    resolved = resolve_session(session, token)
    if resolved is None or resolved.session.kind != "web":
        return None
    return resolved.session.csrf_token
