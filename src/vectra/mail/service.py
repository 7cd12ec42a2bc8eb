"""What other domains call on outbound sending (campaign readiness, sequence stops)."""

from __future__ import annotations

from vectra.mail.guardrails import set_kill_switch, stop_sequence
from vectra.mail.mailboxes import has_sending_mailbox

__all__ = ["has_sending_mailbox", "set_kill_switch", "stop_sequence"]
