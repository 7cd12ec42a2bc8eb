"""Public mail routes: the open pixel, the click redirect, and unsubscribe (no login).

The tracking routes are async and touch no database: the token is checked (HMAC), the hit
is classified and buffered, and the answer goes out; `vectra.mail.tracking` writes the
buffer every second from a task this router's lifespan runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vectra.db.base import utcnow
from vectra.errors import NotFound
from vectra.mail import tokens, tracking, unsubscribe
from vectra.web.auth import PublicRoute
from vectra.web.deps import SessionDep


class AsyncPublicRoute(PublicRoute):
    """`public()` for async routes: a sync marker would cost a thread hop per pixel."""

    async def __call__(self) -> None:  # type: ignore[override]
        return None


def fast_public() -> Any:
    return Depends(AsyncPublicRoute())


def tracking_buffer(app: Any) -> tracking.TrackingBuffer:
    buffer: tracking.TrackingBuffer | None = getattr(app.state, "tracking_buffer", None)
    if buffer is None:
        buffer = app.state.tracking_buffer = tracking.TrackingBuffer()
    return buffer


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    buffer = tracking_buffer(app)
    # Tests sharing one rolled-back transaction store hits themselves (autoflush off).
    if getattr(app.state, "tracking_autoflush", True):
        async with tracking.flusher(buffer, app.state.database):
            yield
    else:
        yield


router = APIRouter(tags=["tracking"], lifespan=_lifespan)

_NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
# Built once: a Response holds only bytes and headers, so one instance serves every hit.
_NOT_FOUND = Response(status_code=404, content=b"Not Found", media_type="text/plain")
_PIXEL = Response(content=tracking.PIXEL_GIF, media_type="image/gif", headers=_NO_CACHE)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def open_pixel(request: Request) -> Response:
    """The open pixel: a 1x1 GIF, the hit buffered (never a database round trip here)."""
    payload = tokens.read_token("open", request.path_params["token"])
    if payload is None:
        return _NOT_FOUND
    method = request.method
    agent = request.headers.get("user-agent")
    ip = _ip(request)
    tracking_buffer(request.app).add(
        tracking.Hit(
            kind="open",
            email_id=payload.email_id,
            occurred_at=utcnow(),
            method=method,
            user_agent=agent,
            ip=ip,
            machine_reason=tracking.classify_open(method, agent, ip),
        )
    )
    return _PIXEL


async def click_redirect(request: Request) -> Response:
    """The click redirect: 302 to the signed target only; forged or altered tokens are 404."""
    found = tokens.click_target(request.path_params["token"])
    if found is None:
        return _NOT_FOUND
    email_id, target = found
    # Signed by us, so never attacker-chosen; still only ever redirect to web pages.
    if urlsplit(target).scheme not in {"http", "https"} or not urlsplit(target).netloc:
        return _NOT_FOUND
    method = request.method
    agent = request.headers.get("user-agent")
    ip = _ip(request)
    tracking_buffer(request.app).add(
        tracking.Hit(
            kind="click",
            email_id=email_id,
            occurred_at=utcnow(),
            method=method,
            user_agent=agent,
            ip=ip,
            url=target[:2000],
            machine_reason=tracking.classify_click(method, agent, ip),
        )
    )
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


# Plain Starlette routes (they read no credentials: public by construction). In the app they
# are reached through `TrackingFastPath`; the routes serve apps built without it.
router.add_route("/t/o/{token}.gif", open_pixel, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/t/c/{token}", click_redirect, methods=["GET", "HEAD"], include_in_schema=False)

_TRACKING_PATHS = (
    (re.compile(r"^/t/o/(?P<token>[^/]+)\.gif$"), open_pixel),
    (re.compile(r"^/t/c/(?P<token>[^/]+)$"), click_redirect),
)


class TrackingFastPath:
    """Outermost ASGI layer sending pixel and click hits straight to their handlers.

    Mail clients fetch the pixel for every message opened; FastAPI's router matching and
    per-request machinery cost ~20x the handler itself (bench/tracking.py), so these two
    paths skip them. Every other request passes through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith("/t/"):
            for pattern, handler in _TRACKING_PATHS:
                match = pattern.match(path)
                if match is None:
                    continue
                if scope["method"] not in ("GET", "HEAD"):
                    break
                scope["path_params"] = match.groupdict()
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        f"padding:0 1rem'>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers={"Cache-Control": "no-store"})


_INVALID = ("Link not valid", "<h1>This link is not valid</h1><p>Check the link in your email.</p>")


@router.get("/u/{token}", dependencies=[fast_public()], include_in_schema=False)
def unsubscribe_page(token: str, session: SessionDep) -> HTMLResponse:
    """The confirmation page: a GET never unsubscribes (scanners fetch every link)."""
    try:
        target = unsubscribe.resolve(session, token)
    except NotFound:
        return _page(*_INVALID, status_code=404)
    who = html.escape(target.address or "this address")
    sender = html.escape(target.organization_name)
    return _page(
        "Unsubscribe",
        f"<h1>Unsubscribe</h1><p>Stop all emails from {sender} to <b>{who}</b>?</p>"
        f"<form method='post' action='/u/{html.escape(token, quote=True)}'>"
        "<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button type='submit' style='font-size:1rem;padding:.5rem 1rem'>Unsubscribe</button>"
        "</form>",
    )


async def _post_body(request: Request) -> str:
    # Read here (async) so the route itself can be a plain function doing database work.
    return (await request.body())[:2048].decode("utf-8", "replace")


@router.post("/u/{token}", dependencies=[fast_public()], include_in_schema=False)
def unsubscribe_now(
    token: str, body: Annotated[str, Depends(_post_body)], session: SessionDep
) -> HTMLResponse:
    """RFC 8058 one-click (and the page's button): suppress at once, answer 200, idempotent."""
    source = "one_click" if "List-Unsubscribe=One-Click" in body else "unsubscribe_post"
    try:
        target = unsubscribe.unsubscribe(session, token, source=source)
    except NotFound:
        return _page(*_INVALID, status_code=404)
    who = html.escape(target.address or "This address")
    return _page(
        "Unsubscribed",
        f"<h1>You are unsubscribed</h1><p>{who} will get no more emails from "
        f"{html.escape(target.organization_name)}.</p>",
    )
