"""Amazon SES bounce/complaint notifications delivered by mail (SNS JSON, not a DSN)."""

from __future__ import annotations

import json
from typing import Any


def ses_notification(text: str) -> dict[str, Any] | None:
    """The SES notification inside an SNS envelope (or bare), or None."""
    start = text.find("{")
    if start < 0 or "notificationType" not in text:
        return None
    try:
        document = json.loads(text[start : text.rfind("}") + 1], strict=False)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("Message"), str):
        try:
            document = json.loads(document["Message"], strict=False)
        except ValueError:
            return None
    if not isinstance(document, dict) or "notificationType" not in document:
        return None
    return document


def ses_fields(document: dict[str, Any]) -> dict[str, str]:
    """Map a notification to DSN-like fields: kind, action, status, recipient, diagnostic."""
    kind = str(document.get("notificationType", "")).lower()
    if kind == "complaint":
        complaint = document.get("complaint") or {}
        people = complaint.get("complainedRecipients") or [{}]
        return {
            "kind": "complaint",
            "recipient": str(people[0].get("emailAddress") or ""),
            "feedback-type": str(complaint.get("complaintFeedbackType") or "abuse"),
        }
    bounce = document.get("bounce") or {}
    people = bounce.get("bouncedRecipients") or [{}]
    first = people[0] if isinstance(people[0], dict) else {}
    transient = str(bounce.get("bounceType", "")).lower() == "transient"
    return {
        "kind": "bounce",
        "action": str(first.get("action") or "failed"),
        "status": str(first.get("status") or ""),
        "recipient": str(first.get("emailAddress") or ""),
        "diagnostic-code": str(first.get("diagnosticCode") or bounce.get("bounceSubType") or ""),
        "transient": "yes" if transient else "",
    }
