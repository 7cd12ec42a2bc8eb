"""Accounts routes: sign-up, login, logout, me. Thin: the rules live in the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, status

from vectra.accounts import service, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.accounts.permissions import Permission
from vectra.accounts.schemas import (
    LoginRequest,
    MeResponse,
    OrganizationBrief,
    SignupRequest,
    TokenResponse,
    UserBrief,
)
from vectra.db.tenancy import set_tenant
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
    )
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
def login(body: LoginRequest, request: Request, session: SessionDep) -> TokenResponse:
    user = service.authenticate(session, email=body.email, password=body.password)
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
