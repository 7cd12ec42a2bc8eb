"""The MIME path never raises, whatever the bytes (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vectra.mail.inbound import InboundKind, parse_message

HEADERS = st.sampled_from(
    [
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n',
        b"Content-Type: message/delivery-status\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n",
        b'Content-Type: text/plain; charset="no-such-charset"\r\n',
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"From: =?utf-8?B?broken?= <MAILER-DAEMON@example.com>\r\n",
        b"Subject: Undelivered Mail Returned to Sender\r\n",
        b"Return-Path: <>\r\n",
        b"Auto-Submitted: auto-replied\r\n",
        b"To: b+TOKEN@bounce.example\r\n",
    ]
)
BODY = st.sampled_from(
    [
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n",
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n",
        b"--b--\r\n",
        b"Final-Recipient: rfc822;\r\nStatus: 9.9.9\r\nDiagnostic-Code: smtp;\r\n",
        b"=?=\xff\xfe\x00",
        b"<x@y>: 550 5.1.1 user unknown\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed.kind, InboundKind)


@settings(max_examples=300, deadline=None)
@given(st.lists(HEADERS, max_size=8), st.lists(BODY | st.binary(max_size=80), max_size=10))
def test_mangled_mime_never_raises(headers: list[bytes], body: list[bytes]) -> None:
    raw = b"".join(headers) + b"\r\n" + b"".join(body)
    parsed = parse_message(raw)
    assert isinstance(parsed.kind, InboundKind)
    if parsed.status is not None:
        assert parsed.status[0] in "45"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_reply_text_helpers_never_raise(text: str) -> None:
    from vectra.mail.inbound.dates import return_date
    from vectra.mail.inbound.intent import INTENTS, classify_by_rules
    from vectra.mail.inbound.replies import strip_quoted

    stripped = strip_quoted(text)
    assert len(stripped) <= len(text)
    return_date(text)
    guess = classify_by_rules(text)
    assert guess is None or guess.intent in INTENTS
