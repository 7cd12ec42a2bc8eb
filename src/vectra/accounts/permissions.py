"""The permission table: the one place that says which role may do what.

Every API route declares the permission it needs (`vectra.web.auth.require`); a test walks
every route for every role against this table, so a route without one fails the suite.
"""

from __future__ import annotations

from enum import StrEnum

from vectra.accounts.roles import Role


class Permission(StrEnum):
    ORG_READ = "org.read"
    ORG_MANAGE = "org.manage"
    ORG_DELETE = "org.delete"
    BILLING_READ = "billing.read"
    BILLING_MANAGE = "billing.manage"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    INTEGRATIONS_READ = "integrations.read"
    INTEGRATIONS_MANAGE = "integrations.manage"
    MAILBOXES_READ = "mailboxes.read"
    MAILBOXES_MANAGE = "mailboxes.manage"
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_WRITE = "campaigns.write"
    LEADS_READ = "leads.read"
    LEADS_WRITE = "leads.write"
    EMAILS_READ = "emails.read"
    EMAILS_DRAFT = "emails.draft"
    EMAILS_APPROVE = "emails.approve"
    REPLIES_READ = "replies.read"
    REPLIES_HANDLE = "replies.handle"
    MEETINGS_READ = "meetings.read"
    MEETINGS_WRITE = "meetings.write"
    AGENTS_READ = "agents.read"
    AGENTS_RUN = "agents.run"
    AUDIT_READ = "audit.read"
    PRIVACY_MANAGE = "privacy.manage"


_READ = {p for p in Permission if p.value.endswith(".read")}
_OPERATOR = _READ | {
    Permission.LEADS_WRITE,
    Permission.EMAILS_DRAFT,
    Permission.REPLIES_HANDLE,
    Permission.MEETINGS_WRITE,
}
_MANAGER = _OPERATOR | {
    Permission.CAMPAIGNS_WRITE,
    Permission.EMAILS_APPROVE,
    Permission.AGENTS_RUN,
}
_ADMIN = _MANAGER | {
    Permission.ORG_MANAGE,
    Permission.USERS_MANAGE,
    Permission.API_KEYS_MANAGE,
    Permission.INTEGRATIONS_MANAGE,
    Permission.MAILBOXES_MANAGE,
    Permission.AUDIT_READ,
    Permission.PRIVACY_MANAGE,
}
_OWNER = set(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset(_ADMIN - {Permission.BILLING_MANAGE, Permission.ORG_DELETE}),
    Role.MANAGER: frozenset(_MANAGER - {Permission.AUDIT_READ}),
    Role.OPERATOR: frozenset(_OPERATOR - {Permission.AUDIT_READ}),
    Role.VIEWER: frozenset(_READ - {Permission.AUDIT_READ}),
}


def permissions_for(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
