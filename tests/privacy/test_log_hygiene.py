"""No secret and no personal data in the logs of a realistic flow.

Every log line the app writes during sign-up, logins (good and bad passwords), an API key's
creation and use, a CSV import with names and emails, an unsubscribe link, the privacy
export (email in the query string) and a password reset request is captured as the JSON
lines production writes, then searched for each secret and each personal value.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from vectra.logs import JsonFormatter
from vectra.mail import tokens

PASSWORD = "Vivid-Otter-Harbour-42!"
WRONG_PASSWORD = "Wrong-Pelican-Meadow-77?"
OWNER_EMAIL = "founder.hygiene@acme-hygiene.example"
LEADS = [
    ("Ottoline", "Fairweather", "ottoline.fairweather@prospect-hygiene.example"),
    ("Barnaby", "Quillfeather", "b.quillfeather@prospect-hygiene.example"),
]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # stricter than production (INFO): debug lines count too
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_flow_logs_no_secret_and_no_personal_data(
    client: TestClient, session: Session, captured: io.StringIO
) -> None:
    signup = client.post(
        "/api/v1/auth/signup",
        json={"organization_name": "Hygiene Labs", "email": OWNER_EMAIL, "password": PASSWORD,
              "first_name": "Philippa", "last_name": "Hygienique"},
    )  # fmt: skip
    assert signup.status_code in (200, 201), signup.text
    signup_token = signup.json()["access_token"]
    bad = client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": WRONG_PASSWORD})
    assert bad.status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    owner = {"Authorization": f"Bearer {token}"}
    key = client.post(
        "/api/v1/api-keys", json={"name": "sync", "scopes": ["read", "write"]}, headers=owner
    )
    assert key.status_code == 201, key.text
    secret = key.json()["secret"]
    by_key = {"Authorization": f"Bearer {secret}"}
    campaign = client.post("/api/v1/campaigns", json={"name": "Hygiene outreach"}, headers=by_key)
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    csv = "first_name,last_name,email\n" + "".join(f"{a},{b},{c}\n" for a, b, c in LEADS)
    imported = client.post(
        f"/api/v1/campaigns/{campaign_id}/leads/import",
        files={"file": ("people.csv", csv.encode(), "text/csv")},
        headers=by_key,
    )
    assert imported.status_code in (200, 201, 202), imported.text
    listed = client.get(f"/api/v1/campaigns/{campaign_id}/leads", headers=by_key)
    assert listed.status_code == 200
    export = client.get("/api/v1/privacy/export", params={"email": LEADS[0][2]}, headers=owner)
    assert export.status_code == 200
    client.post("/api/v1/auth/password-reset/request", json={"email": OWNER_EMAIL})
    # An unsubscribe link (its token is a capability: whoever holds it can unsubscribe).
    unsubscribe_token = tokens.make_token("unsubscribe", uuid.uuid4())
    client.get(f"/u/{unsubscribe_token}")
    client.get("/api/v1/me", headers=by_key)

    # httpx is the test's own client, not the app: its lines are not the app's logs.
    lines = [
        line
        for line in captured.getvalue().splitlines()
        if line.strip() and '"logger": "httpx' not in line
    ]
    assert any('"request_id"' in line for line in lines)  # the capture saw the app's lines
    secrets = {"password": PASSWORD, "wrong password": WRONG_PASSWORD, "session": token,
               "signup session": signup_token, "api key": secret,
               "unsubscribe token": unsubscribe_token}  # fmt: skip
    personal = {"owner email": OWNER_EMAIL, "owner name": "Hygienique"}
    for first, last, email in LEADS:
        personal.update({f"lead {email}": email, f"name {first}": first, f"name {last}": last})
    leaks = [
        f"{label}: {line[:200]}"
        for label, value in {**secrets, **personal}.items()
        for line in lines
        if value.lower() in line.lower()
    ]
    assert leaks == []
    # Request lines name the route template instead (still useful, never the token).
    assert any('"path": "/u/{token}"' in line for line in lines)
    assert any('"path": "/api/v1/campaigns/{campaign_id}/leads"' in line for line in lines)
