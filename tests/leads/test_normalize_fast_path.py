"""The ASCII fast path of email normalisation never accepts what email-validator refuses."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from vectra.leads.normalize import _plain

_CHARS = st.sampled_from([*list("abcXYZ09.-_+@!#'~"), "é", " ", '"'])


@settings(max_examples=3000, deadline=None)
@given(
    st.text(_CHARS, min_size=1, max_size=40).map(lambda s: s if "@" in s else f"{s}@ex-ample.com")
)
def test_fast_path_agrees_with_email_validator(candidate: str) -> None:
    fast = _plain(candidate)
    if fast is None:
        return  # the slow path decides
    try:
        slow = validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AssertionError(f"fast path accepted {candidate!r}; email-validator: {exc}") from exc
    assert fast == slow


def test_special_use_and_malformed_go_to_the_slow_path() -> None:
    for candidate in (
        "a@b.test", "a@b.local", "a..b@c.com", "a@-b.com", "jürgen@münchen.de",
        "ADA@xn--mnchen-3ya.de",
    ):  # fmt: skip
        assert _plain(candidate) is None
    assert _plain("Ada.Lovelace+x@Example.COM") == "ada.lovelace+x@example.com"
