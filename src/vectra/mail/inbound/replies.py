"""A reply's own words: quoted history and signatures removed; automatic replies spotted.

Conventions covered: EN "On ... wrote:", FR "Le ... a écrit :", DE "Am ... schrieb ...:",
ES "El ... escribió:", Outlook header blocks (From:/De :/Von:/Envoyé :/Gesendet:...),
"-----Original Message-----" and its translations, `>` quotes, the "-- " signature
delimiter and mobile sign-offs ("Sent from my iPhone", "Envoyé de mon iPhone"...).
"""

from __future__ import annotations

import re
from email.message import Message

from vectra.mail.inbound import mime

# A line that starts the quoted history: everything from it on is dropped.
_QUOTE_HEADERS = [
    r"^\s*on\b.{0,200}\bwrote\s*:?\s*$",
    r"^\s*le\b.{0,200}\ba\s+[ée]crit\s*:?\s*$",
    r"^\s*am\b.{0,200}\bschrieb\b.{0,120}:?\s*$",
    r"^\s*el\b.{0,200}\bescribi[óo]\s*:?\s*$",
    r"^\s*(el|on|le|am)\b.{0,120}\s*<[^>]+@[^>]+>\s*(escribi[óo]|wrote|a [ée]crit|schrieb)",
    r"^\s*-{2,}\s*(original message|message d'origine|urspr[üu]ngliche nachricht"
    r"|mensaje original|forwarded message|message transf[ée]r[ée]|weitergeleitete nachricht"
    r"|mensaje reenviado)\s*-{2,}",
    r"^\s*_{10,}\s*$",  # Outlook's rule above the quoted header block
    r"^\s*\*?(from|de|von|da)\s*:\*?\s.{0,200}$(?=\n\s*\*?(sent|envoy[ée]|gesendet|enviado|date|datum"
    r"|fecha|to|[àa]|an|para|objet|subject|betreff|asunto)\s*:)",
]
_QUOTE_START = re.compile("|".join(_QUOTE_HEADERS), re.IGNORECASE | re.MULTILINE)
# Gmail wraps long "On ... wrote:" lines; join the wrapped header before matching.
_WRAPPED_ON = re.compile(
    r"^(\s*(on|le|am|el)\b[^\n]{0,200})\n"
    r"([^\n]{0,120}(wrote|a [ée]crit|schrieb|escribi[óo])\s*:?\s*)$",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE = re.compile(
    r"^(--|—|__)\s*$"
    r"|^\s*(sent from my|sent from (outlook|mail|yahoo|gmail)|get outlook for"
    r"|envoy[ée] (de|depuis) (mon|l'application|outlook)"
    r"|von meinem .{0,30}gesendet|gesendet von (meinem|mobil)"
    r"|enviado (desde|de) mi)\b",
    re.IGNORECASE | re.MULTILINE,
)

_AUTO_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-auto-reply",
    "x-mailautoreply",
    "x-vacation",
    "x-ms-exchange-generated-message-source",
)
_AUTO_SUBJECT = re.compile(
    r"\b(auto(matic)?[- ]?(reply|response|antwort|r[ée]ponse|respuesta)|out of (the )?office"
    r"|abwesenheit|absence|absent|vacation|vacances|cong[ée]s|urlaub|fuera de la oficina"
    r"|ausencia|autoreply|autoresponse)\b",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = re.compile(r"auto_reply|bulk|junk|list", re.IGNORECASE)


def reply_text(msg: Message) -> str:
    """The message's text (plain preferred over HTML), excluding attachments."""
    plain: list[str] = []
    html: list[str] = []
    for part in mime.walk(msg):
        ctype = mime.content_type(part)
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:
            disposition = ""
        if disposition == "attachment":
            continue
        if ctype == "text/plain":
            plain.append(mime.part_text(part))
        elif ctype == "text/html":
            html.append(mime.part_text(part))
    return "\n".join(plain) if plain else "\n".join(html)


def strip_quoted(text: str) -> str:
    """Drop the quoted history, `>` lines and the signature; keep the new words."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _WRAPPED_ON.sub(lambda m: m.group(1) + " " + m.group(3).strip(), text)
    cut = _QUOTE_START.search(text)
    if cut:
        text = text[: cut.start()]
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    text = "\n".join(lines)
    sig = _SIGNATURE.search(text)
    if sig and text[: sig.start()].strip():  # a message that is only a signature keeps it
        text = text[: sig.start()]
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def reply_body(msg: Message) -> str:
    """A reply's new text."""
    return strip_quoted(reply_text(msg))


def auto_reply_signal(msg: Message, body: str = "") -> str | None:
    """Which header marks the message automatic (RFC 3834 and vendors' own), or None."""
    auto = (mime.header(msg, "auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in _AUTO_HEADERS:
        value = mime.header(msg, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return name
    suppress = mime.header(msg, "x-auto-response-suppress")
    if suppress and re.search(r"\b(all|oof|autoreply)\b", suppress, re.IGNORECASE):
        # Exchange sets this on its own automatic messages so they do not loop.
        return "x-auto-response-suppress"
    precedence = mime.header(msg, "precedence")
    if precedence and _AUTO_PRECEDENCE.search(precedence):
        return f"Precedence: {precedence.strip().lower()}"
    subject = mime.header(msg, "subject") or ""
    if _AUTO_SUBJECT.search(subject):
        return "subject"
    return None
