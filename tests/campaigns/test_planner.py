"""Planning due steps into the outbox: set-based, idempotent, catching up after outages."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from campaigns import planner
from campaigns.models import Campaign, Enrollment, Message, Step
from debtors.services import contact_point_add
from payments.models import Installment, PaymentPlan, PromiseToPay
from recovery import tenancy
from tests.factories import AccountFactory, DebtorFactory


def campaign_with_steps(office, *steps):
    with tenancy.office_context(office.id):
        campaign = Campaign.objects.create(name="Gentle reminders", status="active")
        for position, (wait, channels) in enumerate(steps, start=1):
            Step.objects.create(campaign=campaign, position=position, wait_days=wait,
                                channels=channels)  # fmt: skip
    return campaign


def accounts_with_contacts(office, n):
    accounts = []
    for i in range(n):
        debtor = DebtorFactory(office=office)
        with tenancy.office_context(office.id):
            contact_point_add(debtor=debtor, kind="email", value=f"d{i}@example.com",
                              source="placement")  # fmt: skip
            contact_point_add(debtor=debtor, kind="phone", value=f"+1212555{i:04d}",
                              source="placement")  # fmt: skip
        accounts.append(AccountFactory(office=office, debtor=debtor))
    return accounts


def test_due_steps_are_planned_once_per_channel_and_enrollments_move_on(office_a):
    campaign = campaign_with_steps(office_a, (0, ["email", "sms"]), (5, ["letter"]))
    accounts = accounts_with_contacts(office_a, 3)
    now = timezone.now()
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=accounts, now=now)
        assert planner.plan_due(office_id=office_a.id, now=now) == 6
        assert planner.plan_due(office_id=office_a.id, now=now) == 0  # nothing twice
        messages = Message.objects.filter(channel="email")
        assert messages.count() == 3
        assert all(m.contact_point_id for m in messages)
        second = campaign.steps.get(position=2)
        assert set(Enrollment.objects.values_list("next_step_id", flat=True)) == {second.id}
        # The letter step is due five days later; a tick in between plans nothing.
        assert planner.plan_due(office_id=office_a.id, now=now + timedelta(days=2)) == 0


def test_a_third_partys_number_is_never_chosen_for_a_reminder(office_a):
    campaign = campaign_with_steps(office_a, (0, ["sms"]))
    debtor = DebtorFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        sister = contact_point_add(
            debtor=debtor,
            kind="phone",
            value="+12125550111",
            source="placement",
            relation="relative",
            is_primary=True,
        )
        own = contact_point_add(
            debtor=debtor, kind="phone", value="+12125550112", source="placement"
        )
    account = AccountFactory(office=office_a, debtor=debtor)
    now = timezone.now()
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=[account], now=now)
        planner.plan_due(office_id=office_a.id, now=now)
        message = Message.objects.get(account=account)
        assert message.contact_point_id == own.id != sister.id


def test_a_step_missed_during_an_outage_is_planned_once_late(office_a):
    campaign = campaign_with_steps(office_a, (0, ["email"]), (3, ["email"]))
    accounts = accounts_with_contacts(office_a, 2)
    start = timezone.now() - timedelta(days=20)
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=accounts, now=start)
        # The beat was down for twenty days: the first step is planned once, now.
        assert planner.plan_due(office_id=office_a.id) == 2
        assert planner.plan_due(office_id=office_a.id) == 0
        assert Message.objects.count() == 2


def test_the_last_step_completes_the_enrollment(office_a):
    campaign = campaign_with_steps(office_a, (0, ["email"]))
    [account] = accounts_with_contacts(office_a, 1)
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=[account])
        planner.plan_due(office_id=office_a.id)
        enrollment = Enrollment.objects.get()
    assert enrollment.status == "completed" and enrollment.next_step_id is None


def test_paused_campaigns_plan_nothing(office_a):
    campaign = campaign_with_steps(office_a, (0, ["email"]))
    accounts = accounts_with_contacts(office_a, 2)
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=accounts)
        Campaign.objects.filter(pk=campaign.pk).update(status="paused")
        assert planner.plan_due(office_id=office_a.id) == 0


def test_planning_queries_do_not_grow_with_accounts(office_a, office_b):
    def queries(office, n):
        campaign = campaign_with_steps(office, (0, ["email", "sms"]), (2, ["email"]))
        accounts = accounts_with_contacts(office, n)
        with tenancy.office_context(office.id):
            planner.enroll(campaign=campaign, accounts=accounts)
            with CaptureQueriesContext(connection) as ctx:
                written = planner.plan_due(office_id=office.id)
        assert written == 2 * n
        return len(ctx.captured_queries)

    assert queries(office_a, 2) == queries(office_b, 25)


def test_another_offices_enrollments_are_not_planned(office_a, office_b):
    campaign = campaign_with_steps(office_a, (0, ["email"]))
    accounts = accounts_with_contacts(office_a, 2)
    with tenancy.office_context(office_a.id):
        planner.enroll(campaign=campaign, accounts=accounts)
    with tenancy.office_context(office_b.id):
        assert planner.plan_due(office_id=office_b.id) == 0
    with tenancy.office_context(office_a.id):
        assert Message.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_beats_racing_plan_each_message_once():
    from tests.factories import OfficeFactory

    office = OfficeFactory(slug="race-office")
    campaign = campaign_with_steps(office, (0, ["email", "sms"]))
    accounts = accounts_with_contacts(office, 10)
    now = timezone.now()
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=accounts, now=now)
    barrier = threading.Barrier(2)
    errors = []

    def tick():
        try:
            barrier.wait(timeout=10)
            with tenancy.office_context(office.id):
                planner.plan_due(office_id=office.id, now=now)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    with tenancy.office_context(office.id):
        assert Message.objects.count() == 20


# --- waits relative to an account's date ---------------------------------------------

# 10:00 in New York (the offices' zone): "today" there is March 10.
NOON_ISH = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


def relative_campaign(office, event, days, *, before=False, then=None):
    with tenancy.office_context(office.id):
        campaign = Campaign.objects.create(name=f"Around {event}", status="active")
        Step.objects.create(campaign=campaign, position=1, wait_days=days, wait_event=event,
                            wait_before=before, channels=["email"])  # fmt: skip
        if then is not None:
            Step.objects.create(campaign=campaign, position=2, wait_days=then, channels=["sms"])
    return campaign


def promise(account, due):
    PromiseToPay.objects.create(account=account, amount="50.00", due_date=due)


def planned_for(*accounts):
    return set(Message.objects.filter(account__in=accounts).values_list("account_id", flat=True))


def test_a_step_before_a_promise_date_goes_out_on_the_day_waits_or_is_skipped(office_a):
    campaign = relative_campaign(office_a, "promise_due", 3, before=True)
    on_the_day, later, none, passed = accounts_with_contacts(office_a, 4)
    with tenancy.office_context(office_a.id):
        promise(on_the_day, TODAY + timedelta(days=3))
        promise(later, TODAY + timedelta(days=10))
        promise(passed, TODAY - timedelta(days=1))
        planner.enroll(campaign=campaign, accounts=[on_the_day, later, none, passed],
                       now=NOON_ISH - timedelta(days=1))  # fmt: skip
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH) == 1
        assert planned_for(on_the_day, later, none, passed) == {on_the_day.pk}
        status = dict(Enrollment.objects.values_list("account_id", "status"))
        # No promise, or one already past: the step is skipped and the campaign ends.
        assert (status[none.pk], status[passed.pk]) == ("completed", "completed")
        assert status[later.pk] == "active"
        # Six days on it is still three days early; on the seventh it goes out.
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH + timedelta(days=6)) == 0
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH + timedelta(days=7)) == 1
        assert planned_for(later) == {later.pk}


def test_a_step_after_the_charge_off_date_waits_for_its_day_then_the_next_step_follows(
    office_a,
):
    campaign = relative_campaign(office_a, "charge_off", 2, then=0)
    due, early, no_date = accounts_with_contacts(office_a, 3)
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=due.pk).update(charge_off_date=TODAY - timedelta(days=2))
        Account.objects.filter(pk=early.pk).update(charge_off_date=TODAY - timedelta(days=1))
        planner.enroll(campaign=campaign, accounts=[due, early, no_date], now=NOON_ISH)
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH) == 1
        assert planned_for(due, early, no_date) == {due.pk}
        second = campaign.steps.get(position=2)
        steps = dict(Enrollment.objects.values_list("account_id", "next_step_id"))
        first = campaign.steps.get(position=1)
        # Skipped for the account without a date: it moves on to the next step.
        assert steps == {due.pk: second.id, early.pk: first.id, no_date.pk: second.id}
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH + timedelta(days=1)) == 3
        assert Message.objects.filter(account=early, channel="email").count() == 1
        assert Message.objects.filter(account=no_date, channel="email").count() == 0


def test_placement_days_are_counted_in_the_offices_calendar(office_a):
    campaign = relative_campaign(office_a, "placement", 30)
    late_evening, next_day = accounts_with_contacts(office_a, 2)
    # 23:30 in New York on Feb 8 is already Feb 9 in UTC: still 30 days before Mar 10.
    feb_8_late = datetime(2026, 2, 9, 4, 30, tzinfo=UTC)
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=late_evening.pk).update(placed_at=feb_8_late)
        Account.objects.filter(pk=next_day.pk).update(placed_at=feb_8_late + timedelta(hours=1))
        planner.enroll(campaign=campaign, accounts=[late_evening, next_day], now=NOON_ISH)
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH) == 1
        assert planned_for(late_evening, next_day) == {late_evening.pk}


def test_a_step_on_the_next_installment_due_date(office_a):
    campaign = relative_campaign(office_a, "installment_due", 0)
    in_plan, proposed_only = accounts_with_contacts(office_a, 2)
    with tenancy.office_context(office_a.id):
        for account in (in_plan, proposed_only):
            plan = PaymentPlan.objects.create(
                account=account, status="active" if account == in_plan else "proposed",
                total_amount="100.00", installment_amount="50.00", installment_count=2,
                frequency="monthly", start_date=TODAY,
            )  # fmt: skip
            Installment.objects.create(plan=plan, sequence=1, due_date=TODAY, amount="50.00",
                                       status="paid")  # fmt: skip
            Installment.objects.create(plan=plan, sequence=2, due_date=TODAY, amount="50.00")
        planner.enroll(campaign=campaign, accounts=[in_plan, proposed_only], now=NOON_ISH)
        assert planner.plan_due(office_id=office_a.id, now=NOON_ISH) == 1
        assert planned_for(in_plan, proposed_only) == {in_plan.pk}


def test_planning_relative_waits_takes_the_same_queries_for_more_accounts(office_a, office_b):
    def queries(office, n):
        campaign = relative_campaign(office, "promise_due", 3, before=True, then=2)
        accounts = accounts_with_contacts(office, n)
        with tenancy.office_context(office.id):
            for account in accounts:
                promise(account, TODAY + timedelta(days=2))
            planner.enroll(campaign=campaign, accounts=accounts, now=NOON_ISH)
            with CaptureQueriesContext(connection) as ctx:
                written = planner.plan_due(office_id=office.id, now=NOON_ISH)
        assert written == n
        return len(ctx.captured_queries)

    assert queries(office_a, 2) == queries(office_b, 25)
