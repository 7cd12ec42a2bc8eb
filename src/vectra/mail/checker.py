"""The draft checker: what a careful reviewer would stop on before a message goes out.

Each finding is a flag `{code, message, blocking}`. Blocking flags (a variable missing, no
postal address for the footer) keep a draft from being approved until it is fixed; the others
make the checker "unsure", which is what the `when_unsure` review mode sends to a person.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

# Phrases that content filters (SpamAssassin rules, Gmail/Outlook heuristics) weigh heavily.
SPAM_PHRASES = (
    "100% free",
    "act now",
    "as seen on",
    "buy now",
    "cash bonus",
    "click here",
    "double your",
    "earn money",
    "extra income",
    "free gift",
    "free trial",
    "guaranteed",
    "limited time",
    "make money",
    "no obligation",
    "once in a lifetime",
    "risk-free",
    "risk free",
    "special promotion",
    "this is not spam",
    "urgent",
    "winner",
    "you have been selected",
    "$$$",
)
MAX_SUBJECT_CHARS = 78
MIN_BODY_WORDS = 20
MAX_BODY_WORDS = 200
_LINK = re.compile(r"https?://[^\s<>\"')]+", re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    blocking: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def link_domains(text: str) -> set[str]:
    """The host names of the http(s) links in `text`."""
    hosts = set()
    for match in _LINK.finditer(text):
        host = (urlsplit(match.group(0)).hostname or "").lower().removeprefix("www.")
        if host:
            hosts.add(host)
    return hosts


def _allowed(host: str, allowed: set[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in allowed)


def check_draft(
    *,
    subject: str,
    body: str,
    missing: list[str],
    personalised_values: list[str],
    allowed_domains: set[str],
    postal_address: str | None,
) -> list[Flag]:
    """Everything a reviewer should look at in this draft (empty: the checker is sure)."""
    flags = [
        Flag("missing_variable", f"The template needs '{name}', which this lead lacks.", True)
        for name in missing
    ]
    if not (postal_address or "").strip():
        flags.append(
            Flag(
                "missing_postal_address",
                "The organization has no postal address for the footer (settings.postal_address).",
                True,
            )
        )
    lowered = f"{subject}\n{body}".lower()
    found = [p for p in SPAM_PHRASES if p in lowered]
    if found:
        flags.append(Flag("spam_words", "Spam-trigger words: " + ", ".join(found)))
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        flags.append(Flag("spam_words", "The subject is mostly capital letters."))
    if subject.count("!") + body.count("!") >= 3:
        flags.append(Flag("spam_words", "Three or more exclamation marks."))
    if not any(v and v.lower() in lowered for v in personalised_values):
        flags.append(
            Flag("missing_personalisation", "Nothing in the message is specific to this lead.")
        )
    unknown = sorted(h for h in link_domains(body) if not _allowed(h, allowed_domains))
    if unknown:
        flags.append(Flag("unknown_link_domain", "Links to unknown domains: " + ", ".join(unknown)))
    words = len(_WORD.findall(body))
    if len(subject) > MAX_SUBJECT_CHARS:
        flags.append(Flag("length", f"The subject is {len(subject)} characters (> 78)."))
    if not subject.strip():
        flags.append(Flag("length", "The subject is empty.", True))
    if words > MAX_BODY_WORDS:
        flags.append(Flag("length", f"The body is {words} words (> {MAX_BODY_WORDS})."))
    elif words < MIN_BODY_WORDS:
        flags.append(Flag("length", f"The body is {words} words (< {MIN_BODY_WORDS})."))
    return flags


def is_blocking(flags: list[dict[str, Any]]) -> bool:
    return any(f.get("blocking") for f in flags)
