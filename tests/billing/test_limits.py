"""The limits API other domains call: consume, remaining, count limits, daily cap."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import make_organization
from vectra.billing import limits
from vectra.billing.access import ReadOnly
from vectra.billing.models import Subscription, UsageNotification, UsageRecord
from vectra.billing.plans import PLANS, PlanName
from vectra.billing.service import start_trial
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant
from vectra.errors import InvalidInput, QuotaExceeded

TRIAL = PLANS[PlanName.TRIAL].limits
STARTER = PLANS[PlanName.STARTER].limits


def usage(session: Session, org_id: uuid.UUID) -> UsageRecord:
    return session.scalars(select(UsageRecord).where(UsageRecord.organization_id == org_id)).one()


class TestConsume:
    def test_counts_in_the_period_row_with_the_plan_limits(self, session: Session) -> None:
        org = make_organization(session)
        start_trial(session, org.id)
        limits.consume(session, org.id, "leads", 7)
        limits.consume(session, org.id, "emails")
        record = usage(session, org.id)
        assert (record.leads_used, record.emails_sent) == (7, 1)
        assert (record.leads_limit, record.emails_limit) == (
            TRIAL.leads_per_month,
            TRIAL.emails_per_month,
        )
        # The trial is the period: it starts today and ends with the trial.
        assert record.period_start == utcnow().date()
        assert record.period_end == (utcnow() + dt.timedelta(days=14)).date()

    def test_refuses_what_would_pass_the_limit_and_keeps_the_count(self, session: Session) -> None:
        org = make_organization(session, plan="starter")
        limits.consume(session, org.id, "leads", STARTER.leads_per_month - 5)
        with pytest.raises(QuotaExceeded) as refused:
            limits.consume(session, org.id, "leads", 6)
        message = refused.value.message
        assert str(STARTER.leads_per_month) in message
        assert f"{STARTER.leads_per_month - 5} used" in message
        assert refused.value.status_code == 402
        assert usage(session, org.id).leads_used == STARTER.leads_per_month - 5
        limits.consume(session, org.id, "leads", 5)  # exactly to the limit is allowed
        assert limits.remaining(session, org.id, "leads") == 0

    def test_more_than_the_whole_limit_at_once_is_refused(self, session: Session) -> None:
        org = make_organization(session)
        with pytest.raises(QuotaExceeded):
            limits.consume(session, org.id, "emails", TRIAL.emails_per_month + 1)
        assert limits.remaining(session, org.id, "emails") == TRIAL.emails_per_month

    def test_bad_arguments(self, session: Session) -> None:
        org = make_organization(session)
        with pytest.raises(InvalidInput):
            limits.consume(session, org.id, "meetings", 1)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            limits.consume(session, org.id, "leads", -1)

    def test_works_inside_the_tenant_context(self, session: Session) -> None:
        org = make_organization(session)
        with as_tenant(session, org.id):
            limits.consume(session, org.id, "api_calls", 3)
            assert limits.remaining(session, org.id, "api_calls") == (TRIAL.api_calls_per_month - 3)

    def test_read_only_organization_cannot_consume(self, session: Session) -> None:
        org = make_organization(session)
        subscription = start_trial(session, org.id)
        subscription.status = "past_due"
        session.flush()
        with pytest.raises(ReadOnly) as refused:
            limits.consume(session, org.id, "emails")
        assert refused.value.code == "read_only"
        assert "past due" in refused.value.message
        assert limits.remaining(session, org.id, "emails") == 0

    def test_an_ended_trial_is_read_only_before_the_sweep(self, session: Session) -> None:
        org = make_organization(session)
        subscription = start_trial(session, org.id)
        subscription.trial_end = utcnow() - dt.timedelta(minutes=1)
        session.flush()
        with pytest.raises(ReadOnly, match="trial has ended"):
            limits.consume(session, org.id, "leads")


class TestNotifications:
    def test_80_and_100_percent_recorded_once_per_period(self, session: Session) -> None:
        org = make_organization(session, plan="starter")
        limit = STARTER.emails_per_month
        limits.consume(session, org.id, "emails", int(limit * 0.8) - 1)
        assert session.scalars(select(UsageNotification)).all() == []
        limits.consume(session, org.id, "emails", 1)
        limits.consume(session, org.id, "emails", 1)
        limits.consume(session, org.id, "emails", limit - int(limit * 0.8) - 1)
        rows = session.scalars(
            select(UsageNotification).where(UsageNotification.organization_id == org.id)
        ).all()
        assert sorted((r.resource, r.threshold) for r in rows) == [("emails", 80), ("emails", 100)]
        hundred = next(r for r in rows if r.threshold == 100)
        assert (hundred.used, hundred.limit_value) == (limit, limit)
        # Each recorded threshold queued one mail job in the same transaction.
        jobs = session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'billing.send_usage_notification'"
            )
        ).scalar_one()
        assert jobs == 2


class TestCountLimits:
    def test_check_count_limit(self, session: Session) -> None:
        org = make_organization(session, plan="starter")
        limits.check_count_limit(session, org.id, "users", current=STARTER.users - 1)
        with pytest.raises(QuotaExceeded, match="allows 3 users; you have 3"):
            limits.check_count_limit(session, org.id, "users", current=STARTER.users)
        with pytest.raises(QuotaExceeded):
            limits.check_count_limit(session, org.id, "mailboxes", current=1, adding=3)
        limits.lock_count(session, org.id, "active_campaigns")  # takes an xact lock, no error

    def test_max_daily_limit(self) -> None:
        assert limits.max_daily_limit("starter") == STARTER.max_daily_limit
        assert limits.max_daily_limit(PLANS[PlanName.SCALE]) == 2_000
        assert limits.max_daily_limit(None) == TRIAL.max_daily_limit


class TestAddApiCalls:
    def test_increments_without_refusing(self, session: Session) -> None:
        org = make_organization(session)
        limits.add_api_calls(session, org.id, 5)
        limits.add_api_calls(session, org.id, TRIAL.api_calls_per_month)
        assert usage(session, org.id).api_calls == TRIAL.api_calls_per_month + 5
        assert limits.remaining(session, org.id, "api_calls") == 0
        with pytest.raises(QuotaExceeded):
            limits.consume(session, org.id, "api_calls")


class TestPeriods:
    def test_paid_period_slices_monthly_from_the_anchor(self, session: Session) -> None:
        org = make_organization(session, plan="growth")
        subscription = start_trial(session, org.id)
        subscription.plan, subscription.status = "growth", "active"
        subscription.current_period_start = dt.datetime(2025, 1, 31, 10, 0)
        subscription.current_period_end = dt.datetime(2026, 1, 31, 10, 0)
        session.flush()
        state = limits.billing_state(session, org.id)
        period = limits.usage_period(state, dt.date(2025, 3, 5))
        assert (period.start, period.end) == (dt.date(2025, 2, 28), dt.date(2025, 3, 31))

    def test_no_subscription_is_the_calendar_month(self, session: Session) -> None:
        org = make_organization(session)
        state = limits.billing_state(session, org.id)
        period = limits.usage_period(state, dt.date(2024, 12, 15))
        assert (period.start, period.end) == (dt.date(2024, 12, 1), dt.date(2025, 1, 1))


def test_fifty_concurrent_consumers_never_pass_the_limit(committed_database: Database) -> None:
    """50 threads, each its own transaction, race for a limit 20 short of the plan's."""
    with committed_database.system_session() as session:
        org = make_organization(session, plan="starter")
        org_id = org.id
        start_trial(session, org_id)
        sub = session.scalars(select(Subscription).where(Subscription.organization_id == org_id))
        subscription = sub.one()
        subscription.plan, subscription.status = "starter", "active"
        session.flush()
        limits.consume(session, org_id, "leads", STARTER.leads_per_month - 20)
    # Enough connections that all 50 transactions are open at once.
    racing = Database(committed_database.urls, pool_size=25)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with racing.tenant_session(org_id) as tx:
                tx.execute(text("SELECT 1"))  # hold a connection before the start line
                barrier.wait(timeout=30)
                limits.consume(tx, org_id, "leads", 1)
            result = "ok"
        except QuotaExceeded:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    racing.dispose()
    assert len(outcomes) == 50
    assert outcomes.count("ok") == 20
    assert outcomes.count("refused") == 30
    with committed_database.system_session() as session:
        assert usage(session, org_id).leads_used == STARTER.leads_per_month
