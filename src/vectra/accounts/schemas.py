"""Accounts API shapes."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from vectra.accounts.roles import Role
from vectra.utc import UtcDateTime


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_name: str = Field(min_length=1, max_length=255)
    email: EmailStr = Field(max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class OrganizationBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    plan: str | None


class UserBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: str | None
    first_name: str | None = None
    last_name: str | None = None
    email_verified: bool = False


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (a scheme name)
    organization: OrganizationBrief
    user: UserBrief


class MeResponse(BaseModel):
    user: UserBrief
    organization: OrganizationBrief
    permissions: list[str]


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=255)


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


class PasswordResetBody(TokenBody):
    password: str = Field(min_length=1, max_length=1024)


class Accepted(BaseModel):
    status: str = "accepted"
    message: str


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=255)
    role: Role


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)


class InvitationRead(BaseModel):
    id: uuid.UUID
    email: str
    role: str
    status: str
    invited_by: uuid.UUID | None
    created_at: UtcDateTime | None
    expires_at: UtcDateTime


class UserRead(UserBrief):
    is_active: bool | None = True
    last_login_at: UtcDateTime | None = None
    created_at: UtcDateTime | None = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Literal["read", "write"]] = Field(min_length=1)
    expires_at: UtcDateTime | None = None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_by: uuid.UUID | None
    created_at: UtcDateTime | None
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="Shown this once; store it now.")


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: UtcDateTime
    actor_user_id: uuid.UUID | None
    actor_api_key_id: uuid.UUID | None
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    details: dict[str, Any]


class AuditPageRead(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


class OrganizationRead(OrganizationBrief):
    settings: dict[str, Any]


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    timezone: str | None = None
    postal_address: dict[str, Any] | None = None
    sending_defaults: dict[str, Any] | None = None
    data_retention_months: int | None = None


class OrganizationDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm_slug: str = Field(min_length=1, max_length=100)
