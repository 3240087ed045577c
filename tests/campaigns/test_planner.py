"""Planning due steps into the outbox: set-based, idempotent, catching up after outages."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import planner
from campaigns.models import Campaign, Enrollment, Message, Step
from debtors.services import contact_point_add
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
