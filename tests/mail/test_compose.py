"""The composer: sandboxed templates, holes flagged, variants stable, drafts idempotent."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.mail.drafting import actor_for, qualified_lead, sequence, setup_org
from vectra.errors import InvalidInput, InvalidTransition, NotFound
from vectra.mail import compose, tokens
from vectra.mail.approval import approve_email
from vectra.mail.drafts import draft_sequence_for_lead, message_parts
from vectra.mail.sequence import Step, Variant, choose_variant, parse_sequence

CONTEXT = compose.build_context(
    lead={"first_name": "Ada", "last_name": None, "company_name": "Acme"},
    enrichment={"industry": "Robotics", "funding": {"stage": "seed"}},
    sender={"first_name": "Grace"},
    organization_name="Vectra",
    opening_line=None,
)


class TestSandbox:
    @pytest.mark.parametrize(
        "source",
        [
            "{{ ''.__class__ }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ lead.__class__ }}",
            "{{ lead['__class__'] }}",
            "{{ cycler.__init__.__globals__ }}",
            "{{ lead._vpath }}",
        ],
    )
    def test_private_names_are_refused_when_the_sequence_is_saved(self, source: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_sequence({"steps": [{"subject": "Hi", "body": source}]})
        assert caught.value.field == "email_template.steps.0.body"

    @pytest.mark.parametrize(
        "source", ["{{ lead | attr('__class__') }}", "{{ ('_' ~ '_class__') | attr }}"]
    )
    def test_escapes_built_at_render_time_are_refused(self, source: str) -> None:
        if "| attr }}" in source:
            source = "{{ lead | attr('_' ~ '_class__') }}"
        with pytest.raises(InvalidInput):
            compose.render_text(source, CONTEXT)

    def test_calling_unsafe_methods_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            compose.render_text("{{ lead.clear() }}{{ lead.pop('first_name') }}", CONTEXT)
        # The sandbox forbids mutating the shared context; nothing was removed.
        assert compose.render_text("{{ lead.first_name }}", CONTEXT).text == "Ada"

    def test_syntax_errors_name_the_field(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_sequence({"steps": [{"subject": "{{ lead.first_name ", "body": "x"}]})
        assert caught.value.field == "email_template.steps.0.subject"


class TestMissingVariables:
    def test_missing_and_none_values_are_recorded_not_guessed(self) -> None:
        rendered = compose.render_text(
            "Hi {{ lead.first_name }} {{ lead.last_name }}, {{ enrichment.funding.amount_usd }}"
            " {{ nothing }}",
            CONTEXT,
        )
        assert rendered.missing == ["enrichment.funding.amount_usd", "lead.last_name", "nothing"]

    def test_default_fills_a_hole_without_flagging(self) -> None:
        rendered = compose.render_text(
            "Hi {{ lead.last_name | default('there') }} at {{ company.name }}", CONTEXT
        )
        assert rendered.text == "Hi there at Acme"
        assert rendered.missing == []

    def test_a_conditional_on_a_missing_value_is_not_a_hole(self) -> None:
        rendered = compose.render_text("{% if enrichment.hiring %}Hiring!{% endif %}ok", CONTEXT)
        assert (rendered.text, rendered.missing) == ("ok", [])

    def test_a_draft_with_a_hole_is_flagged_and_cannot_be_approved(self, session: Session) -> None:
        template = sequence(
            steps=[
                {
                    "subject": "Hello {{ lead.first_name }}",
                    "body": "About your {{ enrichment.funding.stage }} round in {{ lead.phone }}",
                }
            ]
        )
        _org, owner, campaign = setup_org(session, template=template)
        lead = qualified_lead(session, campaign, enrichment_data={})
        actor = actor_for(owner)
        (draft,) = draft_sequence_for_lead(session, actor, lead.id)
        missing = {f["message"] for f in draft.review_flags if f["code"] == "missing_variable"}
        assert len(missing) == 2
        assert any("'enrichment.funding'" in m for m in missing)
        assert any("lead.phone" in m for m in missing)
        assert draft.status == "pending" and draft.needs_review
        with pytest.raises(InvalidTransition):
            approve_email(session, actor, draft.id)


class TestHtml:
    def test_the_html_part_escapes_lead_data(self) -> None:
        context = compose.build_context(
            lead={"company_name": "<script>alert(1)</script>"},
            enrichment={},
            sender={},
            organization_name="V",
            opening_line=None,
        )
        html = compose.render_html(
            "Hello {{ lead.company_name }}\n\nhttps://x.example/a?b=1", context
        )
        assert "<script>" not in html.text
        assert "&lt;script&gt;" in html.text
        assert '<a href="https://x.example/a?b=1">' in html.text
        text = compose.render_text("Hello {{ lead.company_name }}", context)
        assert text.text == "Hello <script>alert(1)</script>"


class TestVariants:
    STEP = Step(
        subject="base",
        body="base body",
        variants=[Variant(name="A", weight=3), Variant(name="B", subject="b subject", weight=1)],
    )

    def test_the_same_lead_always_gets_the_same_variant(self) -> None:
        lead_id = uuid.uuid4()
        picks = {choose_variant(self.STEP, lead_id, 0).variant for _ in range(20)}
        assert len(picks) == 1

    def test_variants_follow_their_weights(self) -> None:
        counts = Counter(choose_variant(self.STEP, uuid.uuid4(), 0).variant for _ in range(4000))
        assert 0.71 < counts["A"] / 4000 < 0.79

    def test_the_step_index_reshuffles_assignment(self) -> None:
        leads = [uuid.uuid4() for _ in range(200)]
        first = [choose_variant(self.STEP, lead, 0).variant for lead in leads]
        second = [choose_variant(self.STEP, lead, 1).variant for lead in leads]
        assert first != second

    def test_a_variant_inherits_what_it_leaves_out(self) -> None:
        lead = next(
            lead
            for lead in (uuid.uuid4() for _ in range(1000))
            if choose_variant(self.STEP, lead, 0).variant == "B"
        )
        chosen = choose_variant(self.STEP, lead, 0)
        assert (chosen.subject, chosen.body) == ("b subject", "base body")


class TestDraftSequence:
    def test_drafts_every_step_once(self, session: Session) -> None:
        _org, owner, campaign = setup_org(session)
        lead = qualified_lead(session, campaign)
        actor = actor_for(owner)
        drafts = draft_sequence_for_lead(session, actor, lead.id)
        assert [d.sequence_step for d in drafts] == [0, 1]
        assert [d.delay_days for d in drafts] == [0, 3]
        assert drafts[0].subject == "Idea for Acme Robotics"
        assert all(d.status == "pending" for d in drafts)
        again = draft_sequence_for_lead(session, actor, lead.id)
        assert [d.id for d in again] == [d.id for d in drafts]

    def test_the_opening_line_names_the_fields_it_used(self, session: Session) -> None:
        _org, owner, campaign = setup_org(session)
        lead = qualified_lead(session, campaign)
        (first, _second) = draft_sequence_for_lead(session, actor_for(owner), lead.id)
        used = first.personalization["fields_used"]
        assert used["enrichment.funding.stage"] == "series_b"
        assert used["enrichment.funding.amount_usd"] == 30_000_000
        assert "Acme Robotics's $30M Series B round" in first.body

    def test_first_step_review_lets_clean_follow_ups_through(self, session: Session) -> None:
        _org, owner, campaign = setup_org(session, template=sequence(review_mode="first_step"))
        lead = qualified_lead(session, campaign)
        first, second = draft_sequence_for_lead(session, actor_for(owner), lead.id)
        assert second.review_flags == []
        assert (first.status, second.status) == ("pending", "approved")

    def test_when_unsure_sends_only_flagged_drafts_to_review(self, session: Session) -> None:
        template = sequence(review_mode="when_unsure")
        template["steps"][1]["body"] += "\n\nAct now: https://unknown-domain.example/x"
        _org, owner, campaign = setup_org(session, template=template)
        lead = qualified_lead(session, campaign)
        first, second = draft_sequence_for_lead(session, actor_for(owner), lead.id)
        assert first.status == "approved" and not first.needs_review
        codes = {f["code"] for f in second.review_flags}
        assert {"spam_words", "unknown_link_domain"} <= codes
        assert second.status == "pending"

    def test_no_postal_address_blocks_every_draft(self, session: Session) -> None:
        _org, owner, campaign = setup_org(
            session, template=sequence(review_mode="when_unsure"), address=None
        )
        lead = qualified_lead(session, campaign)
        drafts = draft_sequence_for_lead(session, actor_for(owner), lead.id)
        assert all(d.status == "pending" for d in drafts)
        assert all(
            any(f["code"] == "missing_postal_address" for f in d.review_flags) for d in drafts
        )

    def test_only_qualified_leads_and_own_leads(self, session: Session) -> None:
        _org, owner, campaign = setup_org(session)
        new_lead = qualified_lead(session, campaign, status="new")
        with pytest.raises(InvalidTransition):
            draft_sequence_for_lead(session, actor_for(owner), new_lead.id)
        other = make_organization(session)
        stranger = make_user(session, other, role="owner")
        lead = qualified_lead(session, campaign)
        with pytest.raises(NotFound):
            draft_sequence_for_lead(session, actor_for(stranger), lead.id)


def test_every_message_carries_footer_tracking_and_unsubscribe(session: Session) -> None:
    template = sequence()
    template["steps"][0]["body"] += "\n\nSee https://acme-robotics.example/case-study"
    _org, owner, campaign = setup_org(session, template=template)
    lead = qualified_lead(session, campaign)
    first, _ = draft_sequence_for_lead(session, actor_for(owner), lead.id)
    parts = message_parts(session, first)
    unsubscribe = tokens.unsubscribe_url(first.id)
    assert "1 Market St" in parts.text and unsubscribe in parts.text
    assert "1 Market St" in parts.html and unsubscribe in parts.html
    assert tokens.open_pixel_url(first.id) in parts.html
    assert 'href="https://acme-robotics.example/case-study"' not in parts.html
    assert tokens.click_url(first.id, "https://acme-robotics.example/case-study") in parts.html


def test_a_template_that_fails_for_a_lead_is_a_422_not_a_crash() -> None:
    with pytest.raises(InvalidInput):
        compose.render_text("{{ 1 / 0 }}", CONTEXT)
