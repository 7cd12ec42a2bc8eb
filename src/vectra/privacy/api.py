"""Privacy routes: notice settings, objection, subject access export, erasure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vectra.accounts.actor import Actor
from vectra.accounts.organization import update_organization
from vectra.accounts.permissions import Permission
from vectra.accounts.service import get_organization
from vectra.privacy import service
from vectra.privacy.notice import PrivacyNotice, notice_settings
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
Manage = Annotated[Actor, require(Permission.PRIVACY_MANAGE)]


class PersonRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class ObjectionResult(BaseModel):
    leads: int


class ErasureResult(BaseModel):
    leads: int
    emails: int
    meetings: int
    fields_scrubbed: int


class PersonExport(BaseModel):
    email: str
    exported_at: str
    organization_id: str
    tables: dict[str, list[dict[str, Any]]]


@router.get("/notice", response_model=PrivacyNotice)
def get_notice(session: SessionDep, actor: Manage) -> PrivacyNotice:
    return notice_settings(get_organization(session, actor))


@router.put("/notice", response_model=PrivacyNotice)
def put_notice(body: PrivacyNotice, session: SessionDep, actor: Manage) -> PrivacyNotice:
    organization = update_organization(
        session, actor, name=None, changes={"privacy_notice": body.model_dump(mode="json")}
    )
    return notice_settings(organization)


@router.get("/export", response_model=PersonExport)
def export(
    session: SessionDep, actor: Manage, email: Annotated[str, Query(min_length=3, max_length=320)]
) -> PersonExport:
    return PersonExport.model_validate(service.export_person(session, actor, email))


@router.post("/object", response_model=ObjectionResult)
def object_(body: PersonRequest, session: SessionDep, actor: Manage) -> ObjectionResult:
    return ObjectionResult(leads=service.object_to_processing(session, actor, body.email))


@router.post("/erase", response_model=ErasureResult)
def erase(body: PersonRequest, session: SessionDep, actor: Manage) -> ErasureResult:
    return ErasureResult.model_validate(service.erase_person(session, actor, body.email))
