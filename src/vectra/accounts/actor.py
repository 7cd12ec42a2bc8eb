"""Who is acting: resolved once per request (or job) and passed to every service call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from vectra.accounts.permissions import Permission, permissions_for
from vectra.accounts.roles import Role
from vectra.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """A user (or an API key acting for its organization) inside one organization."""

    organization_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    ip: str | None = None
    permissions: frozenset[Permission] = field(default=frozenset())

    def __post_init__(self) -> None:
        if not self.permissions:
            object.__setattr__(self, "permissions", permissions_for(self.role))

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise 403 unless this actor holds `permission`."""
        if permission not in self.permissions:
            raise PermissionDenied(f"Your role ({self.role}) does not allow '{permission}'.")


def system_actor(organization_id: uuid.UUID) -> Actor:
    """The actor of jobs and agents acting for an organization on their own."""
    return Actor(organization_id=organization_id, role=Role.OWNER)
