"""Pages the accounts mail links to: verify an email, reset a password, accept an invitation.

The mailed token is the authority on these pages (no session needed); forms posted before
sign-in carry the double-submit CSRF token of the login page. Every action goes through
`vectra.accounts` exactly as the API routes do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts import recovery, sessions
from vectra.accounts.invitations import accept_invitation, preview_invitation
from vectra.accounts.permissions import Permission
from vectra.accounts.service import MIN_PASSWORD_LENGTH
from vectra.errors import InvalidInput, VectraError
from vectra.web.auth import client_ip
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
Token = Annotated[str, Query(max_length=200)]


def _anonymous_page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """A page shown before sign-in, with a fresh double-submit CSRF token for its form."""
    csrf = anonymous_csrf(request)
    response = render(
        request,
        template,
        {"csrf_token": csrf, "min_password_length": MIN_PASSWORD_LENGTH, **context},
        status_code=status_code,
    )
    set_anonymous_csrf_cookie(response, csrf)
    return response


def _same_passwords(password: str, password_confirm: str) -> None:
    if password != password_confirm:
        raise InvalidInput("The two passwords differ; type the same one twice.", field="password")


# --- email verification ------------------------------------------------------------------


def _verify_link_state(session: SessionDep, token: str) -> str:
    """Why a verification link does not work (or 'valid'), in the page's words."""
    check = recovery.check_token(session, token, recovery.VERIFY_EMAIL)
    # An old or spent link of an address verified since: nothing left to do, say so.
    if check.email_verified and check.state in ("used", "expired"):
        return "verified"
    return check.state


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email_page(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    """The mailed link asks for one click; it changes nothing by itself.

    Mail security scanners and link previews fetch every link of a message: a link that
    verified on GET would let a scanner vouch for an address its owner never confirmed (an
    account opened in someone else's name would pass as verified).
    """
    state = _verify_link_state(session, token)
    if state != "valid":
        return render(request, "account/verify_email.html", {"state": state}, status_code=400)
    return _anonymous_page(
        request, "account/verify_email.html", {"state": "confirm", "token": token}
    )


@router.post("/verify-email", response_class=HTMLResponse)
def verify_email_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The confirmation's button: verify, or say why the link no longer works."""
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    try:
        with session.begin_nested():
            user = recovery.verify_email(session, token)
    except VectraError:
        state = _verify_link_state(session, token)
        if state == "valid":  # the address changed since the mail was sent
            state = "unknown"
        return render(request, "account/verify_email.html", {"state": state}, status_code=400)
    return render(request, "account/verify_email.html", {"state": "done", "email": user.email})


@router.post("/verify-email/resend")
def resend_verification(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.ORG_READ)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The banner's button: a new link (older ones stop working), a few per hour at most."""
    check_csrf(ctx.csrf_token, csrf_token)
    status_code, error = 200, None
    try:
        with session.begin_nested():
            recovery.request_email_verification(session, ctx.actor)
    except VectraError as exc:
        status_code, error = exc.status_code, exc.message
    if request.headers.get("hx-request"):
        # htmx swaps only 2xx answers: the banner carries the error text itself.
        banner = {"ctx": ctx, "banner_error": error, "banner_sent": error is None}
        return render(request, "account/_verify_banner.html", banner)
    context = {"ctx": ctx, "error": error}
    return render(request, "account/verify_resent.html", context, status_code=status_code)


# --- password reset ----------------------------------------------------------------------


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request) -> HTMLResponse:
    return _anonymous_page(request, "account/forgot_password.html", {"values": {}})


@router.post("/forgot-password")
def forgot_password_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The same answer for every address, known or not (only a malformed one is refused)."""
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    values = {"email": email}
    if "@" not in email.strip().strip("@"):
        context = {"values": values, "error": "Enter the email address you sign in with."}
        return _anonymous_page(request, "account/forgot_password.html", context, status_code=422)
    try:
        recovery.request_password_reset(session, email=email)
    except VectraError as exc:  # mail not configured or the relay down: said to everyone alike
        context = {"values": values, "error": exc.message}
        return _anonymous_page(
            request, "account/forgot_password.html", context, status_code=exc.status_code
        )
    return _anonymous_page(
        request, "account/forgot_password.html", {"values": values, "sent": True}
    )


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    check = recovery.check_token(session, token, recovery.PASSWORD_RESET)
    if check.state != "valid":
        return render(
            request, "account/reset_password.html", {"state": check.state}, status_code=400
        )
    return _anonymous_page(
        request, "account/reset_password.html", {"state": "valid", "token": token}
    )


@router.post("/reset-password")
def reset_password_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_confirm: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    try:
        _same_passwords(password, password_confirm)
        with session.begin_nested():
            recovery.reset_password(session, token=token, password=password, ip=client_ip(request))
    except recovery.InvalidToken:
        state = recovery.check_token(session, token, recovery.PASSWORD_RESET).state
        return render(
            request,
            "account/reset_password.html",
            {"state": "unknown" if state == "valid" else state},
            status_code=400,
        )
    except VectraError as exc:
        context = {"state": "valid", "token": token, "error": exc.message}
        return _anonymous_page(
            request, "account/reset_password.html", context, status_code=exc.status_code
        )
    # Every session of the user was revoked by the reset, this browser's too.
    return render(request, "account/reset_password.html", {"state": "done"})


# --- invitations -------------------------------------------------------------------------


@router.get("/invitations/accept", response_class=HTMLResponse)
def invitation_page(request: Request, session: SessionDep, token: Token = "") -> HTMLResponse:
    preview = preview_invitation(session, token)
    if preview.status != "pending":
        return render(request, "account/invitation.html", {"invite": preview}, status_code=400)
    return _anonymous_page(
        request, "account/invitation.html", {"invite": preview, "token": token, "values": {}}
    )


@router.post("/invitations/accept")
def invitation_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    first_name: Annotated[str, Form(max_length=100)] = "",
    last_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_confirm: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Join the organization with a name and password, then land signed in on the dashboard."""
    check_csrf(request.cookies.get(ANON_CSRF_COOKIE, ""), csrf_token)
    try:
        _same_passwords(password, password_confirm)
        with session.begin_nested():
            accepted = accept_invitation(
                session,
                token=token,
                password=password,
                first_name=first_name,
                last_name=last_name,
                ip=client_ip(request),
            )
    except VectraError as exc:
        preview = preview_invitation(session, token)
        if preview.status != "pending":
            return render(request, "account/invitation.html", {"invite": preview}, status_code=400)
        context = {
            "invite": preview,
            "token": token,
            "error": exc.message,
            "values": {"first_name": first_name, "last_name": last_name},
        }
        return _anonymous_page(
            request, "account/invitation.html", context, status_code=exc.status_code
        )
    issued = sessions.issue_session(
        session,
        accepted.user,
        kind="web",
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse("/dashboard", status_code=303)
    set_session_cookie(response, issued.token)
    response.delete_cookie(ANON_CSRF_COOKIE, path="/")
    return response
