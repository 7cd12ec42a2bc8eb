"""Local HTTP servers that answer like HubSpot's CRM v3 API and Salesforce's REST API.

Shapes follow the providers' documentation: HubSpot error bodies
(`{"status": "error", "message", "category"}`), 207 multi-status batches, `X-HubSpot-RateLimit-*`
headers; Salesforce's error lists (`[{"message", "errorCode", "fields"}]`), external-id upserts,
SOQL queries and OAuth2 token grants. State lives in memory so tests can count duplicates.
Faults are queued per route: `fail(method, path_regex, status, body, headers, times)`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class FakeServer:
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    faults: list[tuple[str, str, Reply, list[int]]] = field(default_factory=list)
    routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    # OAuth2 authorization codes this provider issued: code -> (client_id, redirect_uri)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    client_secrets: dict[str, str] = field(default_factory=dict)

    def code_grant(self, form: dict[str, str]) -> Reply:
        """RFC 6749 4.1.3: a single-use code, bound to the client and the redirect URI."""
        issued = self.codes.pop(form.get("code", ""), None)
        client = form.get("client_id", "")
        if (
            issued is None
            or issued != (client, form.get("redirect_uri", ""))
            or self.client_secrets.get(client) != form.get("client_secret")
        ):
            return 400, {"error": "invalid_grant", "error_description": "invalid code"}, {}
        access, refresh = f"at-{next(self.ids)}", f"rt-{next(self.ids)}"
        self.valid_tokens.add(access)
        self.refreshed(refresh, access)
        body: dict[str, Any] = {
            "access_token": access, "refresh_token": refresh, "expires_in": 1800,
            "token_type": "bearer",
        }  # fmt: skip
        if isinstance(self, FakeSalesforce):
            body.update(instance_url=self.url, id=f"{self.url}/id/00D/005", issued_at="1")
        return 200, body, {}

    def refreshed(self, refresh: str, access: str) -> None:
        """Remember a refresh token this provider will accept later."""

    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def fail(
        self, method: str, pattern: str, status: int, body: Any,
        headers: dict[str, str] | None = None, times: int = 1,
    ) -> None:  # fmt: skip
        self.faults.append((method, pattern, (status, body, headers or {}), [times]))

    def calls(self, method: str, pattern: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def unauthorized(self) -> Reply:
        raise NotImplementedError

    def authorized(self, request: Seen) -> bool:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") in self.valid_tokens

    def dispatch(self, request: Seen) -> Reply:
        for method, pattern, reply, left in self.faults:
            if method == request.method and re.fullmatch(pattern, request.path) and left[0] > 0:
                left[0] -= 1
                return reply
        for method, regex, handler in self.routes:
            match = regex.match(request.path)
            if method == request.method and match:
                if not getattr(handler, "public", False) and not self.authorized(request):
                    return self.unauthorized()
                return handler(request, *match.groups())
        return 404, {"message": f"no route {request.method} {request.path}"}, {}


def public(handler: Callable[..., Reply]) -> Callable[..., Reply]:
    """Mark a route that needs no bearer token (OAuth token endpoints)."""

    def wrapped(*args: Any) -> Reply:
        return handler(*args)

    wrapped.public = True  # type: ignore[attr-defined]
    return wrapped


@contextmanager
def serve(fake: FakeServer) -> Iterator[FakeServer]:
    class _Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("content-length") or 0)
            request = Seen(
                self.command, parsed.path, parse_qs(parsed.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )  # fmt: skip
            fake.requests.append(request)
            status, payload, headers = fake.dispatch(request)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# -- HubSpot ----------------------------------------------------------------------------------
RATE_HEADERS = {
    "X-HubSpot-RateLimit-Max": "100",
    "X-HubSpot-RateLimit-Remaining": "99",
    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
}


def hubspot_error(message: str, category: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": "c0ffee", "category": category}


class FakeHubSpot(FakeServer):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.valid_tokens = {token}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, dict[str, Any]] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.properties: set[str] = {
            "email",
            "firstname",
            "lastname",
            "company",
            "jobtitle",
            "phone",
            "website",
        }  # HubSpot's default contact properties used here
        self.associations: set[tuple[str, str]] = set()
        self.lists: dict[str, list[str]] = {}
        self.oauth: dict[str, str] = {}  # refresh token -> next access token
        r = self.route
        r("GET", r"/crm/v3/objects/contacts", self.contacts_page)
        r("GET", r"/crm/v3/properties/contacts/(\w+)", self.get_property)
        r("POST", r"/crm/v3/properties/contacts", self.create_property)
        r("POST", r"/crm/v3/objects/contacts/batch/read", self.batch_read)
        r("POST", r"/crm/v3/objects/contacts/batch/upsert", self.batch_upsert)
        r("POST", r"/crm/v3/objects/companies/search", self.search_companies)
        r("POST", r"/crm/v3/objects/companies", self.create_object("companies"))
        r("PUT", r"/crm/v4/objects/contact/(\d+)/associations/default/company/(\d+)",
          self.associate)  # fmt: skip
        r("POST", r"/crm/v3/objects/emails", self.create_object("emails"))
        r("POST", r"/crm/v3/objects/meetings", self.create_object("meetings"))
        r("PATCH", r"/crm/v3/objects/meetings/(\d+)", self.patch_meeting)
        r("GET", r"/crm/v3/lists/(\d+)/memberships", self.memberships)
        r("POST", r"/oauth/v1/token", public(self.token))

    def refreshed(self, refresh: str, access: str) -> None:
        self.oauth[refresh] = access

    def unauthorized(self) -> Reply:
        message = "The OAuth token used to make this call expired 2 hour(s) ago."
        return 401, hubspot_error(message, "EXPIRED_AUTHENTICATION"), {}

    def new_id(self) -> str:
        return str(next(self.ids))

    def add_contact(self, **properties: str) -> str:
        contact_id = self.new_id()
        self.contacts[contact_id] = dict(properties)
        return contact_id

    def by_email(self, email: str) -> str | None:
        return next((i for i, c in self.contacts.items() if c.get("email") == email.lower()), None)

    def contacts_page(self, request: Seen) -> Reply:
        return 200, {"results": []}, RATE_HEADERS

    def get_property(self, _request: Seen, name: str) -> Reply:
        if name not in self.properties:
            return 404, hubspot_error(f"Unable to find property {name}", "OBJECT_NOT_FOUND"), {}
        return 200, {"name": name}, {}

    def create_property(self, request: Seen) -> Reply:
        body = request.json()
        self.properties.add(body["name"])
        return 201, body, {}

    def batch_read(self, request: Seen) -> Reply:
        body = request.json()
        results, errors = [], []
        for item in body["inputs"]:
            key = item["id"]
            cid = self.by_email(key) if body.get("idProperty") == "email" else key
            if cid in self.contacts:
                props = {p: self.contacts[cid].get(p) for p in body.get("properties", [])}
                results.append({"id": cid, "properties": props})
            else:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "message": f"Could not get some CONTACT objects: {key}",
                    }
                )
        return (207 if errors else 200), {"status": "COMPLETE", "results": results,
                                          "errors": errors}, RATE_HEADERS  # fmt: skip

    def batch_upsert(self, request: Seen) -> Reply:
        inputs = request.json()["inputs"]
        for item in inputs:  # HubSpot validates the whole batch before writing any of it
            email = item["id"]
            if email.endswith(".invalid"):
                message = f'Property values were not valid: [{{"name":"email","value":"{email}"}}]'
                return 400, hubspot_error(message, "VALIDATION_ERROR"), {}
            unknown = set(item["properties"]) - self.properties
            if unknown:
                return 400, hubspot_error(f"Property {sorted(unknown)} does not exist",
                                          "VALIDATION_ERROR"), {}  # fmt: skip
        results = []
        for item in inputs:
            email = item["id"].lower()
            cid = self.by_email(email)
            new = cid is None
            if cid is None:
                cid = self.add_contact(email=email)
            self.contacts[cid].update(item["properties"])
            results.append({"id": cid, "new": new, "properties": self.contacts[cid]})
        return 200, {"status": "COMPLETE", "results": results}, RATE_HEADERS

    def search_companies(self, request: Seen) -> Reply:
        value = request.json()["filterGroups"][0]["filters"][0]["value"]
        found = [{"id": i, "properties": c} for i, c in self.companies.items()
                 if c.get("domain") == value]  # fmt: skip
        return 200, {"total": len(found), "results": found[:1]}, {}

    def create_object(self, kind: str) -> Callable[[Seen], Reply]:
        def create(request: Seen) -> Reply:
            body = request.json()
            object_id = self.new_id()
            getattr(self, kind)[object_id] = body
            return 201, {"id": object_id, "properties": body["properties"]}, {}

        return create

    def associate(self, _request: Seen, contact_id: str, company_id: str) -> Reply:
        self.associations.add((contact_id, company_id))
        return 200, {"status": "COMPLETE", "results": []}, {}

    def patch_meeting(self, request: Seen, meeting_id: str) -> Reply:
        self.meetings[meeting_id]["properties"].update(request.json()["properties"])
        return 200, {"id": meeting_id}, {}

    def memberships(self, request: Seen, list_id: str) -> Reply:
        members = self.lists.get(list_id, [])
        start = int(request.query.get("after", ["0"])[0])
        page = members[start : start + 2]  # small pages so paging is exercised
        body: dict[str, Any] = {"results": [{"recordId": m} for m in page]}
        if start + 2 < len(members):
            body["paging"] = {"next": {"after": str(start + 2)}}
        return 200, body, {}

    def token(self, request: Seen) -> Reply:
        form = request.form()
        if form.get("grant_type") == "authorization_code":
            return self.code_grant(form)
        access = self.oauth.get(form.get("refresh_token", ""))
        if form.get("grant_type") != "refresh_token" or access is None:
            return (
                400,
                {"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token"},
                {},
            )
        self.valid_tokens.add(access)
        return 200, {"access_token": access, "refresh_token": form["refresh_token"],
                     "expires_in": 1800}, {}  # fmt: skip


# -- Salesforce -------------------------------------------------------------------------------
API = "/services/data/v60.0"


class FakeSalesforce(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, dict[str, dict[str, Any]]] = {
            "Contact": {}, "Lead": {}, "Task": {}, "Event": {},
        }  # fmt: skip
        self.users: dict[str, str] = {}  # username -> password + security token
        self.refresh_tokens: set[str] = set()
        r = self.route
        r("POST", r"/services/oauth2/token", public(self.token))
        r("GET", rf"{API}/limits", self.limits)
        r("GET", rf"{API}/query", self.query)
        r("PATCH", rf"{API}/sobjects/Lead/Vectra_Id__c/([\w-]+)", self.upsert_lead)
        r("PATCH", rf"{API}/sobjects/(\w+)/(\w+)", self.patch)
        r("POST", rf"{API}/sobjects/(Task|Event)", self.create)

    def unauthorized(self) -> Reply:
        return (
            401,
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            {},
        )

    def add(self, sobject: str, **fields: Any) -> str:
        prefix = {"Contact": "003", "Lead": "00Q", "Task": "00T", "Event": "00U"}[sobject]
        record_id = f"{prefix}{next(self.ids):015d}"
        self.records[sobject][record_id] = dict(fields)
        return record_id

    def refreshed(self, refresh: str, access: str) -> None:
        self.refresh_tokens.add(refresh)

    def token(self, request: Seen) -> Reply:
        form = request.form()
        if form.get("grant_type") == "authorization_code":
            return self.code_grant(form)
        ok = (form.get("grant_type") == "refresh_token"
              and form.get("refresh_token") in self.refresh_tokens) or (
            form.get("grant_type") == "password"
            and self.users.get(form.get("username", "")) == form.get("password"))  # fmt: skip
        if not ok:
            return (
                400,
                {"error": "invalid_grant", "error_description": "authentication failure"},
                {},
            )
        token = f"00D!fresh{next(self.ids)}"
        self.valid_tokens.add(token)
        return 200, {"access_token": token, "instance_url": self.url, "token_type": "Bearer",
                     "id": f"{self.url}/id/00D/005", "issued_at": "1"}, {}  # fmt: skip

    def limits(self, _request: Seen) -> Reply:
        return 200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}, {}

    def query(self, request: Seen) -> Reply:
        soql = request.query["q"][0]
        match = re.match(r"SELECT Id, Email FROM (\w+) WHERE Email IN \((.*)\)", soql)
        assert match, soql
        emails = {e.replace("\\'", "'") for e in re.findall(r"'((?:[^'\\]|\\.)*)'", match[2])}
        rows = [{"attributes": {"type": match[1]}, "Id": i, "Email": r["Email"]}
                for i, r in self.records[match[1]].items()
                if r.get("Email", "").lower() in emails and not r.get("IsConverted")]  # fmt: skip
        return 200, {"totalSize": len(rows), "done": True, "records": rows}, {}

    def upsert_lead(self, request: Seen, vectra_id: str) -> Reply:
        body = request.json()
        if "invalid" in body.get("Email", ""):
            message = f"Email: invalid email address: {body['Email']}"
            error = {"message": message, "errorCode": "INVALID_EMAIL_ADDRESS", "fields": ["Email"]}
            return 400, [error], {}
        found = next((i for i, r in self.records["Lead"].items()
                      if r.get("Vectra_Id__c") == vectra_id), None)  # fmt: skip
        if found:
            self.records["Lead"][found].update(body)
            return 200, {"id": found, "success": True, "errors": [], "created": False}, {}
        record_id = self.add("Lead", **body, Vectra_Id__c=vectra_id)
        return 201, {"id": record_id, "success": True, "errors": [], "created": True}, {}

    def patch(self, request: Seen, sobject: str, record_id: str) -> Reply:
        if record_id not in self.records.get(sobject, {}):
            return 404, [{"message": "The requested resource does not exist",
                          "errorCode": "NOT_FOUND"}], {}  # fmt: skip
        self.records[sobject][record_id].update(request.json())
        return 204, None, {}

    def create(self, request: Seen, sobject: str) -> Reply:
        body = request.json()
        if not body.get("WhoId"):
            message = "Required fields are missing: [WhoId]"
            error = {"message": message, "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["WhoId"]}
            return 400, [error], {}
        return 201, {"id": self.add(sobject, **body), "success": True, "errors": []}, {}
