"""Inbound mail read offline: delivery reports, complaints and replies (issue 8).

`parse_message(raw)` never raises; the database effects (suppression, email status, lead
intent) consume its `InboundMessage` elsewhere.
"""

from __future__ import annotations

from vectra.mail.inbound.bounce_rules import BounceType
from vectra.mail.inbound.parse import InboundKind, InboundMessage, parse_message

__all__ = ["BounceType", "InboundKind", "InboundMessage", "parse_message"]
