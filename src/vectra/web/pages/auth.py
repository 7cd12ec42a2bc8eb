"""Sign-in, sign-up and sign-out pages (cookie sessions with CSRF protection)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts import recovery, service, sessions
from vectra.accounts.permissions import Permission
from vectra.errors import VectraError
from vectra.web.auth import SESSION_COOKIE, client_ip
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import (
    ANON_CSRF_COOKIE,
    PageContext,
    anonymous_csrf,
    check_csrf,
    page,
    render,
    set_anonymous_csrf_cookie,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)


def _safe_next(next_path: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return "/dashboard"


def _form_page(
    request: Request,
    template: str,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    csrf = anonymous_csrf(request)
    response = render(
        request,
        template,
        {
            "csrf_token": csrf,
            "error": error,
            "values": values or {},
            "next": request.query_params.get("next", ""),
        },
        status_code=400 if error else 200,
    )
    set_anonymous_csrf_cookie(response, csrf)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _form_page(request, "login.html")


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    try:
        user = service.authenticate(session, email=email, password=password)
    except VectraError as exc:
        return _form_page(request, "login.html", error=exc.message, values={"email": email})
    issued = sessions.issue_session(
        session,
        user,
        kind="web",
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, issued.token)
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> HTMLResponse:
    return _form_page(request, "signup.html")


@router.post("/signup")
def signup_submit(
    request: Request,
    session: SessionDep,
    organization_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    first_name: Annotated[str, Form()] = "",
    last_name: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    values = {
        "organization_name": organization_name,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
    }
    if "@" not in email:
        return _form_page(
            request, "signup.html", error="Enter a valid email address.", values=values
        )
    try:
        with session.begin_nested():
            created = service.create_organization(
                session,
                name=organization_name,
                owner_email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    except VectraError as exc:
        return _form_page(request, "signup.html", error=exc.message, values=values)
    recovery.send_verification_after_signup(session, created.owner)  # as the API's sign-up
    issued = sessions.issue_session(
        session,
        created.owner,
        kind="web",
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse("/dashboard", status_code=303)
    set_session_cookie(response, issued.token)
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout_submit(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.ORG_READ)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    if ctx.actor.session_id is not None:
        sessions.revoke_session(session, ctx.actor.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
