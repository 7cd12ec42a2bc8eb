"""Who is acting: resolved once per request (or job) and passed to every service call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vectra.accounts.roles import Role


@dataclass(frozen=True)
class Actor:
    """A user (or an API key acting for its organization) inside one organization."""

    organization_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    ip: str | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None
