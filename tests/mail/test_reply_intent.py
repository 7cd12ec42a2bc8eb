"""Reply intent on the held-out split of the labelled set, OOO dates and referrals."""

from __future__ import annotations

import datetime as dt

from vectra.mail.inbound.classifier import NeighbourIndex, classify_reply, examples
from vectra.mail.inbound.dates import return_date
from vectra.mail.inbound.intent import INTENTS


def test_labelled_set_is_balanced_and_multilingual() -> None:
    rows = examples()
    for label in INTENTS:
        mine = [e for e in rows if e.intent == label]
        assert len(mine) >= 40, label
        assert {e.lang for e in mine} == {"en", "fr", "de", "es"}, label
    assert {e.intent for e in rows} == set(INTENTS)


def test_held_out_accuracy() -> None:
    rows = examples()
    train = [e for e in rows if e.split == "train"]
    test = [e for e in rows if e.split == "test"]
    assert not {e.text for e in train} & {e.text for e in test}
    index = NeighbourIndex(train)
    hits = sum(classify_reply(e.text, index=index).intent == e.intent for e in test)
    assert len(test) >= 70
    assert hits / len(test) >= 0.90


def test_confidence_is_a_probability() -> None:
    for text in ["Sounds great, send details", "???", "Lorem ipsum dolor sit amet", ""]:
        guess = classify_reply(text)
        assert 0.0 <= guess.confidence <= 1.0
        assert guess.intent in INTENTS


def test_out_of_office_return_dates() -> None:
    received = dt.date(2025, 3, 1)
    cases = {
        "I'm out of the office until Monday, March 17 with limited access.": dt.date(2025, 3, 17),
        "I am on annual leave and will be back on 2 June.": dt.date(2025, 6, 2),
        "Je suis absent jusqu'au 17 mars inclus.": dt.date(2025, 3, 18),
        "Ich bin ab dem 25.08.2025 wieder im Büro.": dt.date(2025, 8, 25),
        "Estoy de vacaciones hasta el 6 de enero de 2026.": dt.date(2026, 1, 6),
        "Out of office, back on January 6.": dt.date(2026, 1, 6),  # next occurrence
    }
    for text, day in cases.items():
        assert return_date(text, received=received) == day, text
    assert return_date("I'm travelling and will reply when I'm back.", received=received) is None
    guess = classify_reply("Je suis en congés jusqu'au 2 juin.")
    assert guess.intent == "out_of_office" and guess.return_on is not None


def test_referral_names_the_new_contact_and_departure_alone_does_not() -> None:
    guess = classify_reply("Tom left the company. Please contact Jane Doe at jane.doe@globex.com.")
    assert (guess.intent, guess.contact_email, guess.contact_name) == (
        "referral", "jane.doe@globex.com", "Jane Doe",
    )  # fmt: skip
    assert classify_reply("Tom is no longer with the company.").intent != "referral"
