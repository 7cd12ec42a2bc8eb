"""Organization administration routes: users, invitations, API keys, audit log, settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from vectra.accounts import api_keys, audit, invitations, organization, service, users
from vectra.accounts.actor import Actor
from vectra.accounts.models import ApiKey, Invitation, User
from vectra.accounts.permissions import Permission
from vectra.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditEventRead,
    AuditPageRead,
    InvitationCreate,
    InvitationRead,
    OrganizationDelete,
    OrganizationRead,
    OrganizationUpdate,
    UserRead,
    UserUpdate,
)
from vectra.utc import UtcDateTime
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(tags=["organization"])


def user_read(user: User) -> UserRead:
    read = UserRead.model_validate(user, from_attributes=True)
    read.email_verified = user.email_verified_at is not None
    return read


def invitation_read(invitation: Invitation) -> InvitationRead:
    return InvitationRead(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        status=invitations.status_of(invitation),
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def api_key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key)


# Users


@router.get("/users", response_model=list[UserRead], summary="The organization's users")
def list_users(
    session: SessionDep, actor: Annotated[Actor, require(Permission.USERS_READ)]
) -> list[UserRead]:
    return [user_read(u) for u in users.list_users(session, actor)]


@router.get("/users/{user_id}", response_model=UserRead, summary="One user")
def get_user(
    user_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.USERS_READ)],
) -> UserRead:
    return user_read(service.get_user(session, actor, user_id))


@router.patch("/users/{user_id}", response_model=UserRead, summary="Change role or activity")
def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
) -> UserRead:
    user = users.update_user(session, actor, user_id, role=body.role, is_active=body.is_active)
    return user_read(user)


@router.delete(
    "/users/{user_id}", response_model=UserRead, summary="Deactivate a user (signed out at once)"
)
def deactivate_user(
    user_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
) -> UserRead:
    return user_read(users.deactivate_user(session, actor, user_id))


# Invitations


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    summary="Invite someone by email with a role",
)
def create_invitation(
    body: InvitationCreate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
) -> InvitationRead:
    return invitation_read(invitations.invite(session, actor, email=body.email, role=body.role))


@router.get("/invitations", response_model=list[InvitationRead], summary="Invitations")
def list_invitations(
    session: SessionDep, actor: Annotated[Actor, require(Permission.USERS_READ)]
) -> list[InvitationRead]:
    return [invitation_read(i) for i in invitations.list_invitations(session, actor)]


@router.delete(
    "/invitations/{invitation_id}", response_model=InvitationRead, summary="Revoke an invitation"
)
def revoke_invitation(
    invitation_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.USERS_MANAGE)],
) -> InvitationRead:
    return invitation_read(invitations.revoke_invitation(session, actor, invitation_id))


# API keys


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key; its secret is shown this once",
)
def create_api_key(
    body: ApiKeyCreate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.API_KEYS_MANAGE)],
) -> ApiKeyCreated:
    created = api_keys.create_api_key(
        session, actor, name=body.name, scopes=list(body.scopes), expires_at=body.expires_at
    )
    return ApiKeyCreated(**api_key_read(created.api_key).model_dump(), secret=created.secret)


@router.get("/api-keys", response_model=list[ApiKeyRead], summary="API keys (never the secrets)")
def list_api_keys(
    session: SessionDep, actor: Annotated[Actor, require(Permission.API_KEYS_MANAGE)]
) -> list[ApiKeyRead]:
    return [api_key_read(k) for k in api_keys.list_api_keys(session, actor)]


@router.delete("/api-keys/{api_key_id}", response_model=ApiKeyRead, summary="Revoke an API key")
def revoke_api_key(
    api_key_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.API_KEYS_MANAGE)],
) -> ApiKeyRead:
    return api_key_read(api_keys.revoke_api_key(session, actor, api_key_id))


# Audit log


@router.get("/audit", response_model=AuditPageRead, summary="The audit log, newest first")
def list_audit_events(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.AUDIT_READ)],
    action: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=50)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    actor_user_id: uuid.UUID | None = None,
    actor_api_key_id: uuid.UUID | None = None,
    since: UtcDateTime | None = None,
    until: UtcDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPageRead:
    page = audit.list_events(
        session,
        actor,
        filters=audit.AuditFilter(
            action=action,
            object_type=object_type,
            object_id=object_id,
            actor_user_id=actor_user_id,
            actor_api_key_id=actor_api_key_id,
            since=since,
            until=until,
        ),
        limit=limit,
        cursor=cursor,
    )
    return AuditPageRead(
        items=[AuditEventRead.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
    )


# Organization


def organization_read(org: object) -> OrganizationRead:
    return OrganizationRead.model_validate(org, from_attributes=True)


@router.get("/organization", response_model=OrganizationRead, summary="The organization")
def get_organization(
    session: SessionDep, actor: Annotated[Actor, require(Permission.ORG_READ)]
) -> OrganizationRead:
    org = service.get_organization(session, actor)
    read = organization_read(org)
    read.settings = organization.settings_of(org).model_dump(mode="json")
    return read


@router.patch("/organization", response_model=OrganizationRead, summary="Change settings")
def update_organization(
    body: OrganizationUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.ORG_MANAGE)],
) -> OrganizationRead:
    changes = body.model_dump(exclude_unset=True)
    name = changes.pop("name", None)
    org = organization.update_organization(session, actor, name=name, changes=changes)
    return organization_read(org)


@router.delete(
    "/organization",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete the organization and all its data (type its slug to confirm)",
)
def delete_organization(
    body: OrganizationDelete,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.ORG_DELETE)],
) -> None:
    organization.delete_organization(session, actor, confirm_slug=body.confirm_slug)
