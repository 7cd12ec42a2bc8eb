"""Accounts routes: sign-up, login, logout, me. Thin: the rules live in the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from vectra.accounts import recovery, service, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.admin_api import router as admin_router
from vectra.accounts.invitations import accept_invitation
from vectra.accounts.models import Organization, User
from vectra.accounts.permissions import Permission
from vectra.accounts.schemas import (
    Accepted,
    EmailRequest,
    InvitationAccept,
    LoginRequest,
    MeResponse,
    OrganizationBrief,
    PasswordResetBody,
    SignupRequest,
    TokenBody,
    TokenResponse,
    UserBrief,
)
from vectra.db.tenancy import set_tenant
from vectra.errors import Unauthenticated
from vectra.web.auth import client_ip, public, require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def user_brief(user: User) -> UserBrief:
    brief = UserBrief.model_validate(user)
    brief.email_verified = user.email_verified_at is not None
    return brief


def token_response(token: str, organization: Organization, user: User) -> TokenResponse:
    return TokenResponse(
        access_token=token,
        organization=OrganizationBrief.model_validate(organization),
        user=user_brief(user),
    )


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    dependencies=[public()],
    summary="Create an organization with its owner and a 14-day trial",
)
def signup(body: SignupRequest, request: Request, session: SessionDep) -> TokenResponse:
    created = service.create_organization(
        session,
        name=body.organization_name,
        owner_email=body.email,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
        ip=client_ip(request),
    )
    recovery.send_verification_after_signup(session, created.owner)
    issued = sessions.issue_session(
        session, created.owner, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    return token_response(issued.token, created.organization, created.owner)


@router.post(
    "/auth/login",
    response_model=TokenResponse,
    dependencies=[public()],
    summary="Exchange email and password for a bearer token",
)
def login(
    body: LoginRequest, request: Request, session: SessionDep
) -> TokenResponse | JSONResponse:
    user = service.sign_in(session, email=body.email, password=body.password, ip=client_ip(request))
    if user is None:
        # Answered, not raised: the request must commit the failed attempt it recorded.
        failed = Unauthenticated("Invalid email or password.")
        return JSONResponse(
            failed.to_problem(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    issued = sessions.issue_session(
        session, user, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    actor = Actor(organization_id=issued.session.organization_id, role=service.role_of(user))
    set_tenant(session, actor.organization_id)  # from here on the request acts as this user
    return token_response(issued.token, service.get_organization(session, actor), user)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the token (or web session) used for this request",
)
def logout(session: SessionDep, actor: Annotated[Actor, require(Permission.ORG_READ)]) -> None:
    if actor.session_id is not None:
        sessions.revoke_session(session, actor.session_id)


@router.get("/me", response_model=MeResponse, summary="The caller, their organization and rights")
def me(session: SessionDep, actor: Annotated[Actor, require(Permission.ORG_READ)]) -> MeResponse:
    organization = service.get_organization(session, actor)
    if actor.user_id is None:
        raise service.NotFound("This token does not belong to a user.")
    user = service.get_user(session, actor, actor.user_id)
    return MeResponse(
        user=user_brief(user),
        organization=OrganizationBrief.model_validate(organization),
        permissions=sorted(p.value for p in actor.permissions),
    )


@router.post(
    "/auth/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Mail the caller a new email-verification link",
)
def request_email_verification(
    session: SessionDep, actor: Annotated[Actor, require(Permission.ORG_READ)]
) -> Accepted:
    recovery.request_email_verification(session, actor)
    return Accepted(message="A verification link is on its way.")


@router.post(
    "/auth/verify-email",
    response_model=UserBrief,
    dependencies=[public()],
    summary="Confirm an email address with the mailed token",
)
def verify_email(body: TokenBody, session: SessionDep) -> UserBrief:
    return user_brief(recovery.verify_email(session, body.token))


@router.post(
    "/auth/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=[public()],
    summary="Mail a password-reset link (same answer whether or not the account exists)",
)
def request_password_reset(body: EmailRequest, session: SessionDep) -> Accepted:
    recovery.request_password_reset(session, email=body.email)
    return Accepted(message="If an account uses this address, a reset link is on its way.")


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[public()],
    summary="Set a new password with the mailed token; every session is signed out",
)
def reset_password(body: PasswordResetBody, request: Request, session: SessionDep) -> None:
    recovery.reset_password(
        session, token=body.token, password=body.password, ip=client_ip(request)
    )


@router.post(
    "/invitations/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenResponse,
    dependencies=[public()],
    summary="Accept an invitation: choose a password, join the organization, sign in",
)
def accept(body: InvitationAccept, request: Request, session: SessionDep) -> TokenResponse:
    accepted = accept_invitation(
        session,
        token=body.token,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
        ip=client_ip(request),
    )
    issued = sessions.issue_session(
        session, accepted.user, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    return token_response(issued.token, accepted.organization, accepted.user)


router.include_router(admin_router)
