"""Sending: the gate again at send time, each message sent at most once, every planned
message ending somewhere."""

import threading
from datetime import timedelta

import pytest
import time_machine
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.db import connection

from accounts.models import Event
from campaigns import planner
from campaigns.dispatch import dispatch_due
from campaigns.models import Message
from compliance import services
from compliance.models import ContactAttempt
from recovery import tenancy
from tests.campaigns.test_planner import campaign_with_steps
from tests.compliance.conftest import NOON, Scene


def planned_email(office):
    office.collector_type = "first_party"
    office.save()
    scene = Scene(office)
    campaign = campaign_with_steps(office, (0, ["email"]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[scene.account], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
    return scene


def dispatch(scene, at=NOON):
    with time_machine.travel(at, tick=False), tenancy.office_context(scene.office.id):
        return dispatch_due(office=scene.office, now=at)


def test_a_due_email_is_gated_rendered_sent_and_recorded(office_a):
    scene = planned_email(office_a)
    counts = dispatch(scene)
    assert counts["sent"] == 1
    [email] = mail.outbox
    assert email.to == ["rosa@example.com"]
    assert "Hello Rosa" in email.body
    assert "/p/" in email.body  # the signed portal link
    assert email.metadata["office_id"] == str(office_a.id)
    assert "Reply STOP" not in email.body and "unsubscribe" in email.body  # F-OPTOUT
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        assert message.status == "sent" and message.provider_message_id != ""
        assert Event.objects.filter(kind="message_sent", account=scene.account).exists()
        assert ContactAttempt.objects.filter(channel="email").count() == 1
    # A second pass sends nothing again.
    assert dispatch(scene)["sent"] == 0
    assert len(mail.outbox) == 1


def test_a_stop_after_planning_blocks_at_send_time(office_a):
    scene = planned_email(office_a)
    with tenancy.office_context(office_a.id):
        services.consent_record(contact_point=scene.email, channel="email", kind="opt_out",
                                source="email_event", method="unsubscribe link",
                                effective_from=NOON - timedelta(minutes=5))  # fmt: skip
    assert dispatch(scene)["blocked"] == 1
    assert mail.outbox == []
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().status == "blocked"
        blocked = Event.objects.get(kind="message_blocked")
        assert "T-REVOKE" in blocked.summary or "opted out" in blocked.summary


def test_out_of_hours_is_deferred_to_the_allowed_instant_then_sent(office_a):
    scene = planned_email(office_a)
    late = NOON.replace(hour=3) + timedelta(days=1)  # 22:00 in New York
    assert dispatch(scene, at=late)["deferred"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
    assert message.status == "deferred"
    assert message.due_at == late.replace(hour=13)  # 08:00 New York
    assert dispatch(scene, at=message.due_at)["sent"] == 1


def test_a_provider_outage_sends_nothing_and_frees_the_slot_for_a_retry(office_a, monkeypatch):
    scene = planned_email(office_a)
    from campaigns.channels import email as channel

    real_send = channel.EmailMessage.send

    def failing(self, *args, **kwargs):
        self.anymail_test_response = AnymailAPIError("ESP down", status_code=503)
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(channel.EmailMessage, "send", failing)
    first = dispatch(scene)
    assert first["retry"] == 1, first
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().status == "planned"
        assert not ContactAttempt.objects.exists()
    monkeypatch.setattr(channel.EmailMessage, "send", real_send)
    counts = dispatch(scene)
    assert counts["sent"] == 1, counts


def test_opening_the_link_in_a_sent_email_counts_once_as_its_click(client, office_a, office_b):
    import re

    scene = planned_email(office_a)
    assert dispatch(scene)["sent"] == 1
    link = re.search(r"https?://[^/\s]+(/p/[^\s]+/)", mail.outbox[0].body).group(1)
    with time_machine.travel(NOON + timedelta(hours=2), tick=False):
        first = client.get(link)
        again = client.get(link)
    # The debtor still goes on to prove who they are; the click is on the timeline once.
    assert first.status_code == again.status_code == 302
    assert first["Location"].endswith("/p/verify/")
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        [click] = Event.objects.filter(kind="response", account=scene.account)
        assert click.data["message_id"] == message.pk and click.channel == "email"
        assert click.summary == "Debtor opened the portal link in an email"
    with tenancy.office_context(office_b.id):
        assert not Event.objects.filter(kind="response").exists()


@pytest.mark.django_db(transaction=True)
def test_a_debtor_another_worker_is_gating_is_left_for_the_next_pass_not_waited_for():
    """Two workers gating the same debtor would serialise on the debtor's row (the caps
    are counted under its lock). The second one skips that debtor's message instead of
    waiting, sends the rest, and the skipped message goes out on the next pass."""
    from debtors.models import Debtor
    from tests.factories import OfficeFactory

    office = OfficeFactory(slug="lock-office", collector_type="first_party")
    busy, free = Scene(office), Scene(office)
    campaign = campaign_with_steps(office, (0, ["email"]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[busy.account, free.account], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with tenancy.office_context(office.id):
                Debtor.objects.select_for_update().get(pk=busy.debtor.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def statuses():
        with tenancy.office_context(office.id):
            return dict(Message.objects.values_list("account_id", "status"))

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with time_machine.travel(NOON, tick=False), tenancy.office_scope(office.id):
            assert dispatch_due(office=office, now=NOON)["sent"] == 1
        assert statuses() == {busy.account.pk: "planned", free.account.pk: "sent"}
    finally:
        release.set()
        holder.join(timeout=30)
    with time_machine.travel(NOON, tick=False), tenancy.office_scope(office.id):
        assert dispatch_due(office=office, now=NOON)["sent"] == 1
    assert statuses() == {busy.account.pk: "sent", free.account.pk: "sent"}
    assert len(mail.outbox) == 2
