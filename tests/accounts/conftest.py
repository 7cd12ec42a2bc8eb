"""Fixtures of the accounts tests: an organization with users of every role and their tokens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.models import Organization, User


@dataclass
class Member:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Team:
    organization: Organization
    owner: Member
    admin: Member
    manager: Member
    viewer: Member


def member(session: Session, organization: Organization, role: str, **fields: object) -> Member:
    user = make_user(session, organization, role=role, **fields)
    return Member(user=user, token=sessions.issue_session(session, user).token)


@pytest.fixture
def team(session: Session) -> Team:
    organization = make_organization(session)
    return Team(
        organization=organization,
        owner=member(session, organization, "owner"),
        admin=member(session, organization, "admin"),
        manager=member(session, organization, "manager"),
        viewer=member(session, organization, "viewer"),
    )


@pytest.fixture
def other_team(session: Session) -> Team:
    organization = make_organization(session)
    return Team(
        organization=organization,
        owner=member(session, organization, "owner"),
        admin=member(session, organization, "admin"),
        manager=member(session, organization, "manager"),
        viewer=member(session, organization, "viewer"),
    )
