"""The campaign's sequence editor: steps, delays, templates and variants, with a live preview.

Form fields are named after the sequence's own paths (`steps.0.subject`,
`steps.1.variants.0.weight`), so an error the composer's schema raises for
`email_template.steps.0.subject` lands next to the input it names. Adding or removing a
step or variant is a server round trip that saves nothing (no script needed); saving goes
through the campaigns service, which validates with the mail composer's schema. The preview
renders the unsaved form on a real lead of the campaign through `vectra.mail.preview`.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts.permissions import Permission
from vectra.campaigns import service as campaigns
from vectra.campaigns.schemas import CampaignStatus, CampaignUpdate
from vectra.errors import InvalidInput, VectraError
from vectra.leads import service as leads
from vectra.mail import preview as previews
from vectra.mail.sequence import MAX_STEPS, ReviewMode
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

router = APIRouter(include_in_schema=False)
WriteCtx = Annotated[PageContext, page(Permission.CAMPAIGNS_WRITE)]

MAX_VARIANTS = 10
PICKER_LEADS = 50
_STEP_FIELD = re.compile(r"^steps\.(\d{1,3})\.(delay_days|subject|body)$")
_VARIANT_FIELD = re.compile(r"^steps\.(\d{1,3})\.variants\.(\d{1,3})\.(name|subject|body|weight)$")
REVIEW_MODES = [
    (ReviewMode.EVERY_MESSAGE.value, "Every message"),
    (ReviewMode.FIRST_STEP.value, "First email only"),
    (ReviewMode.WHEN_UNSURE.value, "Only when the checker is unsure"),
]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (the editor's field names are dynamic)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def blank_step(delay_days: int) -> dict[str, Any]:
    return {"delay_days": str(delay_days), "subject": "", "body": "", "variants": []}


def editable(email_template: dict[str, Any] | None) -> dict[str, Any]:
    """A stored sequence as the form shows it (every value a string)."""
    stored = email_template or {}
    steps = []
    for step in stored.get("steps") or []:
        variants = [
            {
                "name": v.get("name") or "",
                "subject": v.get("subject") or "",
                "body": v.get("body") or "",
                "weight": _number(v.get("weight", 1)),
            }
            for v in step.get("variants") or []
        ]
        steps.append(
            {
                "delay_days": str(step.get("delay_days", 0)),
                "subject": step.get("subject") or "",
                "body": step.get("body") or "",
                "variants": variants,
            }
        )
    return {
        "review_mode": stored.get("review_mode") or ReviewMode.EVERY_MESSAGE.value,
        "link_domains": ", ".join(stored.get("link_domains") or []),
        "steps": steps or [blank_step(0)],
    }


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def from_form(fields: dict[str, str]) -> dict[str, Any]:
    """The editor's fields back into the form's shape (strings, indices in order)."""
    steps: dict[int, dict[str, Any]] = {}
    for key, value in fields.items():
        if match := _STEP_FIELD.match(key):
            index = int(match.group(1))
            if index < MAX_STEPS:
                step = steps.setdefault(index, {**blank_step(0), "variants": {}})
                step[match.group(2)] = value
        elif match := _VARIANT_FIELD.match(key):
            index, j = int(match.group(1)), int(match.group(2))
            if index < MAX_STEPS and j < MAX_VARIANTS:
                step = steps.setdefault(index, {**blank_step(0), "variants": {}})
                step["variants"].setdefault(
                    j, {"name": "", "subject": "", "body": "", "weight": ""}
                )
                step["variants"][j][match.group(3)] = value
    ordered = []
    for index in sorted(steps):
        step = steps[index]
        step["variants"] = [step["variants"][j] for j in sorted(step["variants"])]
        ordered.append(step)
    return {
        "review_mode": fields.get("review_mode") or ReviewMode.EVERY_MESSAGE.value,
        "link_domains": fields.get("link_domains", ""),
        "steps": ordered,
    }


def to_template(form: dict[str, Any]) -> dict[str, Any]:
    """The form as an `email_template` for the composer's schema to judge (blank = unset)."""
    steps = []
    for step in form["steps"]:
        variants = []
        for v in step["variants"]:
            variant: dict[str, Any] = {"name": v["name"].strip()}
            for key in ("subject", "body"):
                if v[key].strip():
                    variant[key] = v[key]
            if v["weight"].strip():
                variant["weight"] = v["weight"].strip()
            variants.append(variant)
        steps.append(
            {
                "delay_days": step["delay_days"].strip() or "0",
                "subject": step["subject"],
                "body": step["body"],
                "variants": variants,
            }
        )
    domains = [d.strip() for d in form["link_domains"].replace("\n", ",").split(",") if d.strip()]
    return {"review_mode": form["review_mode"], "link_domains": domains, "steps": steps}


def _next_variant_name(variants: list[dict[str, Any]]) -> str:
    taken = {v["name"] for v in variants}
    for letter in "ABCDEFGHIJ":
        if letter not in taken:
            return letter
    return ""


def apply_edit(form: dict[str, Any], op: str) -> bool:
    """Add or remove a step or variant in place; False when `op` is no such edit."""
    steps = form["steps"]
    parts = op.split(":")
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        return False
    if parts[0] == "add_step" and len(steps) < MAX_STEPS:
        steps.append(blank_step(3 if steps else 0))
    elif parts[0] == "remove_step" and len(numbers) == 1 and 0 <= numbers[0] < len(steps):
        del steps[numbers[0]]
        if not steps:
            steps.append(blank_step(0))
    elif parts[0] == "add_variant" and len(numbers) == 1 and 0 <= numbers[0] < len(steps):
        variants = steps[numbers[0]]["variants"]
        if len(variants) < MAX_VARIANTS:
            variants.append(
                {"name": _next_variant_name(variants), "subject": "", "body": "", "weight": "1"}
            )
    elif parts[0] == "remove_variant" and len(numbers) == 2:
        i, j = numbers
        if 0 <= i < len(steps) and 0 <= j < len(steps[i]["variants"]):
            del steps[i]["variants"][j]
    else:
        return False
    return True


def _form_field(field: str | None) -> str | None:
    """The editor input an error names (`email_template.steps.0.subject` -> `steps.0.subject`)."""
    if not field:
        return None
    return field.removeprefix("email_template").lstrip(".") or "email_template"


def picker_leads(session: SessionDep, ctx: PageContext, campaign_id: uuid.UUID) -> list[Any]:
    """Leads to preview on: the campaign's newest, through the leads service."""
    listing = leads.list_leads(
        session, ctx.actor, campaign_id, leads.LeadFilters(), limit=PICKER_LEADS
    )
    return list(listing.items)


def _preview(
    session: SessionDep,
    ctx: PageContext,
    campaign_id: uuid.UUID,
    lead_id: uuid.UUID | None,
    form: dict[str, Any],
) -> dict[str, Any]:
    """The preview section's context: the rendered steps, or the error that stops it."""
    if lead_id is None:
        return {"preview": None, "preview_error": None, "preview_field": None}
    try:
        rendered = previews.preview_sequence(
            session, ctx.actor, campaign_id, lead_id, to_template(form)
        )
    except InvalidInput as exc:  # a foreign or unknown lead stays a 404
        return {"preview": None, "preview_error": exc.message,
                "preview_field": _form_field(exc.field)}  # fmt: skip
    return {"preview": rendered, "preview_error": None, "preview_field": None}


def _lead_id(value: str | None, choices: list[Any]) -> uuid.UUID | None:
    if value:
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return choices[0].id if choices else None


def _editor(
    request: Request,
    session: SessionDep,
    ctx: PageContext,
    campaign_id: uuid.UUID,
    form: dict[str, Any],
    *,
    lead_value: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(session, ctx.actor, campaign_id)
    choices = picker_leads(session, ctx, campaign.id)
    lead_id = _lead_id(lead_value, choices)
    return render(
        request,
        "campaigns/sequence.html",
        {
            "ctx": ctx,
            "campaign": campaign,
            "form": form,
            "review_modes": REVIEW_MODES,
            "max_steps": MAX_STEPS,
            "max_variants": MAX_VARIANTS,
            "leads": choices,
            "lead_id": lead_id,
            "error": error,
            "error_field": error_field,
            "notice": notice,
            "read_only": campaign.status == CampaignStatus.ARCHIVED.value,
            **_preview(session, ctx, campaign.id, lead_id, form),
        },
        status_code=status_code,
    )


@router.get("/campaigns/{campaign_id}/sequence", response_class=HTMLResponse)
def sequence_editor(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    campaign_id: uuid.UUID,
    lead_id: str | None = None,
    saved: str | None = None,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(session, ctx.actor, campaign_id)
    return _editor(
        request, session, ctx, campaign.id, editable(campaign.email_template),
        lead_value=lead_id, notice="Sequence saved." if saved else None,
    )  # fmt: skip


@router.post("/campaigns/{campaign_id}/sequence")
def sequence_save(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    campaign_id: uuid.UUID,
    fields: FormFields,
) -> Response:
    """Save the sequence, or (for an add/remove/preview button) show the edited form unsaved."""
    check_csrf(ctx.csrf_token, fields.get("csrf_token"))
    campaigns.get_campaign(session, ctx.actor, campaign_id)  # 404 for another tenant's
    form = from_form(fields)
    op = fields.get("op") or "save"
    lead_value = fields.get("lead_id")
    if op != "save":
        # An add/remove button, or Preview (also any unknown or out-of-range button): no save.
        edited = op != "preview" and apply_edit(form, op)
        return _editor(request, session, ctx, campaign_id, form, lead_value=lead_value,
                       notice="Not saved yet." if edited else None)  # fmt: skip
    try:
        with session.begin_nested():
            campaigns.update_campaign(
                session, ctx.actor, campaign_id, CampaignUpdate(email_template=to_template(form))
            )
    except VectraError as exc:
        status = exc.status_code if exc.status_code in (409, 422) else 422
        return _editor(
            request, session, ctx, campaign_id, form, lead_value=lead_value,
            error=exc.message, error_field=_form_field(exc.field), status_code=status,
        )  # fmt: skip
    chosen = _lead_id(lead_value, [])
    suffix = f"&lead_id={chosen}" if chosen else ""
    return RedirectResponse(f"/campaigns/{campaign_id}/sequence?saved=1{suffix}", status_code=303)


@router.post("/campaigns/{campaign_id}/sequence/preview", response_class=HTMLResponse)
def sequence_preview(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    campaign_id: uuid.UUID,
    fields: FormFields,
) -> HTMLResponse:
    """The preview section alone (htmx), rendered from the unsaved form."""
    check_csrf(ctx.csrf_token, fields.get("csrf_token"))
    campaign = campaigns.get_campaign(session, ctx.actor, campaign_id)
    choices = picker_leads(session, ctx, campaign.id)
    lead_id = _lead_id(fields.get("lead_id"), choices)
    context = _preview(session, ctx, campaign.id, lead_id, from_form(fields))
    return render(
        request,
        "campaigns/_sequence_preview.html",
        {"ctx": ctx, "campaign": campaign, "leads": choices, **context},
        status_code=422 if context["preview_error"] else 200,
    )
