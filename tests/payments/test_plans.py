"""Plans within policy start at once; outside it they wait for a manager; schedules sum
to the total exactly; kept plans close the account, broken ones send it back to its
campaign; autopay tells before it debits, retries a failing card, and never charges
twice for one installment."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign, Enrollment, Step
from payments.models import Installment, Payment, PaymentMethod, PaymentPlan, PlanPolicy
from payments.selectors import installments_for, plan_options
from payments.services import (
    payment_record_offline,
    plan_approve,
    plan_create,
    plan_propose,
)
from payments.services.sweep import money_sweep
from recovery import tenancy
from recovery.models import Role, WorkItem
from tests.factories import MembershipFactory

TODAY = date(2026, 11, 17)  # a Tuesday
TEN_AM_NY = "2026-11-17T15:00:00Z"


@given(
    total=st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100),
    count=st.integers(min_value=1, max_value=120),
)
@settings(max_examples=300)
def test_a_schedule_always_sums_to_the_total_to_the_cent(total, count):
    if total < Decimal("0.01") * count:
        with pytest.raises(ValueError, match="cannot be split"):
            installments_for(total, count)
        return
    amounts = installments_for(total, count)
    assert len(amounts) == count
    assert sum(amounts) == total
    assert all(a >= Decimal("0.01") and a == a.quantize(Decimal("0.01")) for a in amounts)
    # Equal, but for the last, which takes the leftover cents (fewer than `count`).
    assert len(set(amounts[:-1])) <= 1
    assert Decimal(0) <= amounts[-1] - amounts[0] < Decimal("0.01") * count


@pytest.fixture
def frozen():
    with time_machine.travel(TEN_AM_NY, tick=False):
        yield


@pytest.mark.django_db
def test_a_plan_within_policy_starts_and_leaves_the_campaign(scene, frozen):
    with tenancy.office_context(scene.office.id):
        campaign = Campaign.objects.create(name="Reminders", status="active")
        step = Step.objects.create(campaign=campaign, position=1, channels=["email"])
        Enrollment.objects.create(
            campaign=campaign,
            account=scene.account,
            next_step=step,
            next_due_at=scene.account.placed_at,
        )
        [option] = [o for o in plan_options(scene.account) if o.frequency == "monthly"][:1]
        plan = plan_create(
            account=scene.account,
            count=option.count,
            frequency="monthly",
            start_date=TODAY + timedelta(days=3),
        )
        scene.account.refresh_from_db()
        assert plan.status == "active" and scene.account.status == "in_plan"
        assert sum(i.amount for i in plan.installments.all()) == Decimal("500.00")
        assert Enrollment.objects.get().status == "exited"


@pytest.mark.django_db
def test_outside_policy_the_portal_is_refused_and_staff_need_a_manager(scene, frozen):
    supervisor = MembershipFactory(office=scene.office, role=Role.SUPERVISOR).user
    manager = MembershipFactory(office=scene.office, role=Role.MANAGER).user
    with tenancy.office_context(scene.office.id):
        PlanPolicy.objects.create(minimum_installment=Decimal("50.00"), max_months=6)
        with pytest.raises(ValidationError, match="outside what we can set up online"):
            plan_create(
                account=scene.account,
                count=20,
                frequency="monthly",
                start_date=TODAY,
                source="portal",
            )
        assert not PaymentPlan.objects.exists()
        plan = plan_create(
            account=scene.account,
            count=20,
            frequency="monthly",
            start_date=TODAY,
            note="Lost job in October",
        )
        assert plan.status == "proposed" and not plan.within_policy
        assert WorkItem.objects.filter(kind="approval", account=scene.account).exists()
        with pytest.raises(ValidationError, match="a manager must approve"):
            plan_approve(plan=plan, actor=supervisor)
        plan_approve(plan=plan, actor=manager)
        plan.refresh_from_db()
        assert plan.status == "active" and plan.installments.count() == 20
        assert not WorkItem.objects.filter(kind="approval", status="open").exists()


@pytest.mark.django_db
def test_a_debtors_own_proposal_waits_for_an_agent(scene, frozen):
    with tenancy.office_context(scene.office.id):
        plan = plan_propose(
            account=scene.account,
            installment_amount="60.00",
            frequency="monthly",
            start_date=TODAY,
            note="I can do 60",
        )
        assert plan.status == "proposed" and plan.installment_count == 9
        assert sum(installments_for(plan.total_amount, 9)) == Decimal("500.00")
        assert WorkItem.objects.filter(kind="review", account=scene.account).exists()


@pytest.mark.django_db
def test_keeping_every_installment_closes_the_account(scene, frozen, office_a):
    user = MembershipFactory(office=office_a).user
    with tenancy.office_context(scene.office.id):
        plan = plan_create(account=scene.account, count=2, frequency="weekly", start_date=TODAY)
        for item in plan.installments.all():
            payment = payment_record_offline(
                account=scene.account,
                amount=item.amount,
                method="check",
                instrument={"check_number": "7"},
                actor=user,
            )
            Payment.objects.filter(pk=payment.pk).update(installment=item)
            Installment.objects.filter(pk=item.pk).update(status="paid", paid_amount=item.amount)
        from payments.services.plans import plan_complete_if_done

        plan_complete_if_done(plan=plan)
        plan.refresh_from_db()
        scene.account.refresh_from_db()
        assert plan.status == "completed" and scene.account.status == "paid"


@pytest.mark.django_db
def test_a_missed_installment_is_reminded_then_breaks_the_plan_back_to_the_campaign(
    scene, django_capture_on_commit_callbacks
):
    with time_machine.travel(TEN_AM_NY, tick=False), tenancy.office_context(scene.office.id):
        campaign = Campaign.objects.create(name="Reminders", status="active")
        step = Step.objects.create(campaign=campaign, position=1, channels=["email"])
        Enrollment.objects.create(
            campaign=campaign,
            account=scene.account,
            next_step=step,
            next_due_at=scene.account.placed_at,
        )
        plan = plan_create(account=scene.account, count=5, frequency="monthly", start_date=TODAY)
    # Two days late: one kind reminder, the plan holds.
    with time_machine.travel("2026-11-19T15:00:00Z", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = money_sweep(office_id=scene.office.id)
        assert result["plans_broken"] == 0
        assert mail.outbox[-1].subject.startswith("A reminder about your November 17 payment")
        with tenancy.office_context(scene.office.id):
            assert plan.installments.get(sequence=1).status == "missed"
            assert plan.installments.get(sequence=1).reminder_sent_at is not None
    # Past the 5 grace days: broken, and the account is back in its campaign.
    with time_machine.travel("2026-11-24T15:00:00Z", tick=False):
        assert money_sweep(office_id=scene.office.id)["plans_broken"] == 1
        with tenancy.office_context(scene.office.id):
            plan.refresh_from_db()
            scene.account.refresh_from_db()
            assert plan.status == "broken"
            assert scene.account.status == "active"
            enrollment = Enrollment.objects.get()
            assert enrollment.status == "active" and enrollment.next_step == step
            assert not plan.installments.filter(status="scheduled").exists()


@pytest.mark.django_db
def test_autopay_tells_first_then_retries_a_failing_card_then_succeeds(
    scene, django_capture_on_commit_callbacks
):
    def sweep():
        with django_capture_on_commit_callbacks(execute=True):
            return money_sweep(office_id=scene.office.id)

    with (
        time_machine.travel("2026-11-10T15:00:00Z", tick=False),
        tenancy.office_context(scene.office.id),
    ):
        declining = PaymentMethod.objects.create(
            debtor=scene.debtor,
            gateway="demo",
            method_reference="pm_card_0002",
            label="Visa ending 0002",
            authorisation_text="I authorise monthly debits.",
        )
        plan = plan_create(
            account=scene.account,
            count=5,
            frequency="monthly",
            start_date=TODAY,
            autopay=True,
            payment_method=declining,
        )
        first = plan.installments.get(sequence=1)
    # Nov 6: too early for the notice (due Nov 17, 3 business days' notice).
    with time_machine.travel("2026-11-06T15:00:00Z", tick=False):
        assert sweep()["notices"] == 0
    # Nov 12: the notice goes out (F-EFT); nothing is charged before the due date.
    with time_machine.travel("2026-11-12T15:00:00Z", tick=False):
        result = sweep()
        assert result == {"notices": 1, "charged": 0, "plans_broken": 0, "promises_broken": 0}
        assert "we will charge $100.00" in mail.outbox[-1].body
    # Due date: the card is declined; the debtor is told kindly; a retry is scheduled.
    with time_machine.travel(TEN_AM_NY, tick=False):
        assert sweep()["charged"] == 0
        assert sweep()["charged"] == 0  # no second attempt today
        assert "didn't go through" in mail.outbox[-1].subject
        with tenancy.office_context(scene.office.id):
            first.refresh_from_db()
            assert first.autopay_attempts == 1 and first.next_attempt_on == date(2026, 11, 20)
            assert Payment.objects.filter(installment=first, status="failed").count() == 1
            PaymentMethod.objects.filter(pk=declining.pk).update(method_reference="pm_card_4242")
    # The retry day: it goes through, once.
    with time_machine.travel("2026-11-20T15:00:00Z", tick=False):
        assert sweep()["charged"] == 1
        assert sweep()["charged"] == 0
        with tenancy.office_context(scene.office.id):
            first.refresh_from_db()
            scene.account.refresh_from_db()
            assert first.status == "paid"
            assert scene.account.balance == Decimal("400.00")
            assert Payment.objects.filter(installment=first, status="succeeded").count() == 1


@pytest.mark.django_db
def test_plan_changes_say_who_and_why_and_keep_the_total(scene, frozen, client):
    from accounts.models import Event
    from payments.services import installment_reschedule, installment_skip, plan_reduce

    agent = MembershipFactory(office=scene.office, role=Role.AGENT).user
    with tenancy.office_context(scene.office.id):
        plan = plan_create(account=scene.account, count=5, frequency="monthly", start_date=TODAY)
        first, second = plan.installments.order_by("sequence")[:2]
        with pytest.raises(ValidationError, match="Say why"):
            installment_skip(installment=first, reason=" ", actor=agent)
        with pytest.raises(ValidationError, match="Choose a date between"):
            installment_reschedule(
                installment=first, due_date=TODAY + timedelta(days=60), reason="payday", actor=agent
            )
        installment_reschedule(
            installment=first,
            due_date=TODAY + timedelta(days=4),
            reason="payday moved",
            actor=agent,
        )
        skipped = installment_skip(installment=second, reason="car repair", actor=agent)
        assert skipped.due_date == date(2027, 4, 17)  # one month after the last payment
        installment_skip(installment=plan.installments.get(sequence=3), reason="x", actor=agent)
        with pytest.raises(ValidationError, match="2 skips already"):
            installment_skip(installment=plan.installments.get(sequence=4), reason="y", actor=agent)
        plan = plan_reduce(
            plan=plan, installment_amount=Decimal("40.00"), reason="reduced hours", actor=agent
        )
        live = plan.installments.exclude(status="cancelled")
        assert sum(i.amount for i in live) == Decimal("500.00")
        assert {i.amount for i in live} <= {Decimal("40.00"), Decimal("20.00")}
        assert plan.installment_count == 13 and plan.within_policy
        summaries = list(
            Event.objects.filter(account=scene.account, kind="plan", actor=agent).values_list(
                "summary", flat=True
            )
        )
        assert any("payday moved" in s for s in summaries)
        assert any("skipped" in s and "car repair" in s for s in summaries)
        assert any("lowered for hardship" in s and "reduced hours" in s for s in summaries)
        with pytest.raises(ValidationError, match="smallest payment we can set up online"):
            plan_reduce(plan=plan, installment_amount=Decimal("10.00"), reason="r", source="portal")
