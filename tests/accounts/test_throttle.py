"""Brute-force limits on login: per account and per IP, growing delay, no enumeration."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.accounts.conftest import Team
from tests.factories import PASSWORD
from vectra.accounts.throttle import ACCOUNT_LIMIT, IP_LIMIT


def login(client: TestClient, email: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def add_failures(session: Session, email: str, n: int) -> None:
    session.execute(
        text(
            "INSERT INTO login_attempts (email, ip, succeeded, created_at) "
            "SELECT :e, 'elsewhere', false, clock_timestamp() FROM generate_series(1, :n)"
        ),
        {"e": email, "n": n},
    )


def test_delay_grows_and_is_capped() -> None:
    delays = [ACCOUNT_LIMIT.delay_after(n).total_seconds() for n in range(4, 12)]
    assert delays == [0, 1, 2, 4, 8, 16, 32, 64]
    assert ACCOUNT_LIMIT.delay_after(40) == dt.timedelta(minutes=15)
    assert IP_LIMIT.free_failures > ACCOUNT_LIMIT.free_failures


def test_account_is_throttled_the_same_whether_it_exists_or_not(
    client: TestClient, team: Team, session: Session
) -> None:
    email = team.owner.user.email
    answers = {}
    for target in (email, "ghost@nowhere.example"):
        codes = [login(client, target, "wrong password!").status_code for _ in range(5)]
        assert codes == [401] * 5
        # Four more failures from elsewhere: a 16 s wait, so a slow machine cannot outlast it.
        add_failures(session, target, 4)
        blocked = login(client, target, "wrong password!")
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        answers[target] = blocked.json()
    assert answers[email] == answers["ghost@nowhere.example"]
    # Ten failures: the wait is 32 s, and even the right password waits (else the limit
    # would leak it).
    add_failures(session, email, 1)
    right = login(client, email, PASSWORD)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 16
    # Once the delay has passed, the right password gets in and clears the failures.
    session.execute(text("UPDATE login_attempts SET created_at = created_at - interval '40 s'"))
    assert login(client, email, PASSWORD).status_code == 200
    left = session.execute(
        text("SELECT count(*) FROM login_attempts WHERE email = :e"), {"e": email}
    ).scalar_one()
    assert left == 0


def test_failures_outside_the_window_do_not_count(
    client: TestClient, team: Team, session: Session
) -> None:
    email = team.viewer.user.email
    for _ in range(6):
        login(client, email, "wrong password!")
    session.execute(
        text("UPDATE login_attempts SET created_at = created_at - interval '16 minutes'")
    )
    assert login(client, email, PASSWORD).status_code == 200


def test_one_ip_guessing_many_accounts_is_throttled(client: TestClient, session: Session) -> None:
    # TestClient always comes from the same address ("testclient"): 20 free failures
    # spread over many emails, then the IP must wait.
    codes = [
        login(client, f"user{n}@spray.example", "wrong password!").status_code for n in range(20)
    ]
    assert codes == [401] * 20
    blocked = login(client, "fresh@spray.example", "wrong password!")
    assert blocked.status_code == 429
    ips = session.execute(text("SELECT DISTINCT ip FROM login_attempts")).scalars().all()
    assert ips == ["testclient"]
