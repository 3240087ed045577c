"""The account page's compliance card and its quick actions: each records what the
rules need, as of the date received, in one transaction, and the gate acts on it at
once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Event, Note
from compliance import services
from compliance.models import Complaint, Dispute, Hold
from debtors.models import Circumstance, Consent
from recovery import tenancy
from recovery.models import Document, WorkItem
from tests.factories import CreditorFactory, MembershipFactory


def office_today(office):
    return timezone.localdate(timezone=ZoneInfo(office.time_zone))


def start_of(office, day):
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(office.time_zone))


def action_url(scene, action):
    return f"/o/{scene.office.slug}/compliance/accounts/{scene.account.pk}/{action}/"


def account_url(scene):
    return f"/o/{scene.office.slug}/accounts/{scene.account.pk}/"


def now_decision(scene, channel):
    """What the gate says about this channel right now (recorded nowhere)."""
    return scene.decide_one(channel, at=timezone.now(), record=False)


def rows(scene, model, **filters):
    with tenancy.office_context(scene.office.id):
        return list(model.objects.filter(**filters))


# ---------- the card ----------


def test_the_card_shows_holds_with_who_set_them_and_lift_only_for_supervisors(
    client, login, scene, agent_a
):
    supervisor = MembershipFactory(office=scene.office, role="supervisor")
    with tenancy.office_context(scene.office.id):
        services.hold_place(
            debtor=scene.debtor, kind="hardship", scope="debtor", source="agent",
            reason="Lost job", set_by=supervisor.user,
        )  # fmt: skip
        services.consent_record(
            contact_point=scene.phone, channel="sms", kind="opt_out", source="sms_reply",
            method="STOP reply",
        )  # fmt: skip
    login(agent_a)
    page = client.get(account_url(scene)).content.decode()
    assert 'id="compliance"' in page
    assert "Hardship forbearance" in page and "Lost job" in page
    assert f"set by {supervisor.user.display_name}" in page
    assert "Opted out" in page and "STOP reply" in page
    assert "Dispute period ended" in page  # the Scene's notice went out 60 days before NOON
    assert "Record a dispute" in page and "Record incoming correspondence" in page
    assert "/lift/" not in page
    login(supervisor)
    assert "/lift/" in client.get(account_url(scene)).content.decode()


def test_a_creditor_user_sees_no_actions_and_may_not_post_them(client, login, scene):
    creditor_user = MembershipFactory(
        office=scene.office, role="creditor", creditor=scene.account.creditor
    )
    login(creditor_user)
    page = client.get(account_url(scene))
    assert page.status_code == 200
    assert "Record a dispute" not in page.content.decode()
    response = client.post(
        action_url(scene, "dispute"),
        {"received_via": "letter", "received_on": office_today(scene.office), "extent": "whole"},
    )
    assert response.status_code == 403
    assert not rows(scene, Dispute)


def test_another_creditors_user_cannot_reach_the_account(client, login, scene):
    other = CreditorFactory(office=scene.office)
    login(MembershipFactory(office=scene.office, role="creditor", creditor=other))
    assert client.get(account_url(scene)).status_code == 404


# ---------- record a dispute ----------


def test_a_dispute_pauses_collection_from_the_date_received(client, login, scene, agent_a):
    login(agent_a)
    received = office_today(scene.office) - timedelta(days=1)
    response = client.post(
        action_url(scene, "dispute"),
        {
            "received_via": "phone",
            "received_on": received.isoformat(),
            "extent": "part",
            "partial_amount": "120.50",
            "reason": "Already paid part",
            "original_creditor_requested": "on",
        },
        follow=True,
    )
    assert "Dispute recorded" in response.content.decode()
    [dispute] = rows(scene, Dispute)
    assert dispute.received_at == start_of(scene.office, received)
    assert dispute.is_partial and str(dispute.disputed_amount) == "120.50"
    assert dispute.original_creditor_requested and dispute.received_via == "phone"
    assert rows(scene, Event, account=scene.account, kind="dispute")
    assert "F-DISPUTE" in now_decision(scene, "email").rule_ids


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"extent": "part"}, "Give the disputed amount, or choose the whole debt."),
        ({"extent": "part", "partial_amount": "9999"}, "no more than the balance (500.00 USD)"),
        ({"received_on": "tomorrow"}, "The date received cannot be in the future."),
        ({"received_on": "31/02/2026"}, "Enter a date like 2026-03-31."),
    ],
)
def test_a_bad_dispute_says_what_to_fix_and_writes_nothing(
    client, login, scene, agent_a, data, message
):
    login(agent_a)
    post = {"received_via": "letter", "received_on": office_today(scene.office), "extent": "whole"}
    post.update(data)
    if post["received_on"] == "tomorrow":
        post["received_on"] = office_today(scene.office) + timedelta(days=1)
    response = client.post(action_url(scene, "dispute"), post)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "Nothing was recorded yet" in page
    assert not rows(scene, Dispute) and not rows(scene, Hold)
    assert not rows(scene, Event, kind="dispute")


# ---------- incoming correspondence ----------


def correspondence(client, scene, classification, **extra):
    data = {
        "received_on": office_today(scene.office).isoformat(),
        "received_via": "letter",
        "classification": classification,
        **extra,
    }
    return client.post(action_url(scene, "correspondence"), data, follow=True)


def test_a_cease_letter_blocks_email_at_once(client, login, scene, agent_a):
    assert now_decision(scene, "email").outcome != "block"
    login(agent_a)
    response = correspondence(client, scene, "cease", note="Please stop writing to me")
    assert "a cease hold stops contact with this debtor" in response.content.decode()
    [hold] = rows(scene, Hold, kind="cease")
    assert hold.scope == "debtor" and hold.set_by == agent_a.user
    assert hold.effective_from == start_of(scene.office, office_today(scene.office))
    outcome = now_decision(scene, "email")
    assert outcome.outcome == "block" and "F-CEASE" in outcome.rule_ids
    assert rows(scene, Event, account=scene.account, kind="letter")
    assert rows(scene, Note, account=scene.account, body__contains="Please stop writing")
    # A second letter saying the same is filed; the one hold stands.
    again = correspondence(client, scene, "cease")
    assert "a cease was already in force" in again.content.decode()
    assert len(rows(scene, Hold, kind="cease")) == 1
    assert len(rows(scene, Event, summary__startswith="Incoming letter")) == 2


def test_a_dispute_letter_received_days_ago_takes_effect_that_day(client, login, scene, agent_a):
    login(agent_a)
    received = office_today(scene.office) - timedelta(days=3)
    correspondence(client, scene, "dispute", received_on=received.isoformat())
    [dispute] = rows(scene, Dispute)
    assert dispute.received_at == start_of(scene.office, received)
    assert dispute.received_via == "letter"
    assert "F-DISPUTE" in now_decision(scene, "letter").rule_ids


def test_an_attorney_notice_routes_contact_to_the_attorney(client, login, scene, agent_a):
    login(agent_a)
    correspondence(client, scene, "attorney", attorney="Lee & Park LLP")
    [circumstance] = rows(scene, Circumstance, kind="attorney")
    assert circumstance.source == "agent" and circumstance.details == {"firm": "Lee & Park LLP"}
    assert circumstance.effective_from == start_of(scene.office, office_today(scene.office))
    outcome = now_decision(scene, "call")
    assert "F-ATTY" in outcome.rule_ids and "Lee & Park LLP" in outcome.explanation


def test_a_bankruptcy_notice_stops_collection(client, login, scene, agent_a):
    login(agent_a)
    correspondence(client, scene, "bankruptcy", bankruptcy_chapter="7", bankruptcy_case="24-1")
    [circumstance] = rows(scene, Circumstance, kind="bankruptcy")
    assert circumstance.details == {"chapter": "7", "case": "24-1"}
    assert "F-STAY" in now_decision(scene, "email").rule_ids


def test_a_complaint_letter_enters_the_register(client, login, scene, agent_a):
    login(agent_a)
    correspondence(
        client, scene, "complaint", complaint_source="state_ag", note="Copy of AG letter"
    )
    [complaint] = rows(scene, Complaint)
    assert complaint.source == "state_ag"
    [task] = rows(scene, WorkItem, kind="review")
    assert task.assignee == agent_a.user and task.due_at == complaint.response_due_at


def test_a_payment_direction_needs_the_direction(client, login, scene, agent_a):
    login(agent_a)
    page = correspondence(client, scene, "payment_direction").content.decode()
    assert "Write down the direction" in page
    assert not rows(scene, Event, summary__startswith="Incoming")
    correspondence(client, scene, "payment_direction", note="Apply to the oldest debt")
    assert rows(scene, Note, body__contains="Payment direction received")


def test_the_scan_is_stored_as_a_document(client, login, scene, agent_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login(agent_a)
    scan = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 cease", content_type="application/pdf")
    response = correspondence(client, scene, "cease", upload=scan)
    assert "The file is stored with the account." in response.content.decode()
    [document] = rows(scene, Document)
    assert document.kind == "upload" and document.account_id == scene.account.pk
    assert document.size == len(b"%PDF-1.4 cease") and len(document.sha256) == 64
    assert document.created_by == agent_a.user


def test_a_file_of_the_wrong_kind_is_refused(client, login, scene, agent_a):
    login(agent_a)
    exe = SimpleUploadedFile("letter.exe", b"MZ", content_type="application/octet-stream")
    page = correspondence(client, scene, "cease", upload=exe).content.decode()
    assert "File extension “exe” is not allowed." in page
    assert not rows(scene, Hold)


def test_nothing_is_half_written_when_a_step_fails(client, login, scene, agent_a, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("storage is down")

    monkeypatch.setattr(services.inbound, "_document_store", broken)
    events = len(rows(scene, Event))
    login(agent_a)
    scan = SimpleUploadedFile("letter.pdf", b"%PDF", content_type="application/pdf")
    client.raise_request_exception = False
    response = correspondence(client, scene, "dispute", upload=scan)
    assert response.status_code == 500
    assert not rows(scene, Dispute) and not rows(scene, Hold)
    assert len(rows(scene, Event)) == events
    assert rows(scene, type(scene.account), pk=scene.account.pk)[0].status == scene.account.status


def test_correspondence_dated_in_the_future_is_refused(client, login, scene, agent_a):
    login(agent_a)
    tomorrow = office_today(scene.office) + timedelta(days=1)
    page = correspondence(client, scene, "cease", received_on=tomorrow.isoformat())
    assert "The date received cannot be in the future." in page.content.decode()
    assert not rows(scene, Hold)


# ---------- opt out / consent ----------


def test_a_stop_recorded_by_an_agent_blocks_texts(client, login, scene, agent_a):
    assert now_decision(scene, "sms").outcome != "block"
    login(agent_a)
    response = client.post(
        action_url(scene, "consent"),
        {
            "target": f"{scene.phone.pk}:sms",
            "kind": "opt_out",
            "method": "STOP reply",
            "effective_on": office_today(scene.office).isoformat(),
        },
        follow=True,
    )
    assert "the debtor opted out of sms" in response.content.decode()
    [consent] = rows(scene, Consent)
    assert consent.source == "agent" and consent.recorded_by == agent_a.user
    outcome = now_decision(scene, "sms")
    assert outcome.outcome == "block" and "T-REVOKE" in outcome.rule_ids
    # Texts only: calls to the same number are not opted out.
    assert "T-REVOKE" not in now_decision(scene, "call").rule_ids


def test_a_channel_must_fit_the_contact_point(client, login, scene, agent_a):
    login(agent_a)
    page = client.post(
        action_url(scene, "consent"),
        {
            "target": f"{scene.phone.pk}:email",
            "kind": "opt_out",
            "method": "in writing",
            "effective_on": office_today(scene.office).isoformat(),
        },
    ).content.decode()
    assert "Choose one of this debtor&#x27;s contact points." in page
    with tenancy.office_context(scene.office.id), pytest.raises(ValidationError) as refused:
        services.consent_record(
            contact_point=scene.phone, channel="email", kind="opt_out", source="agent",
            method="in writing",
        )  # fmt: skip
    assert refused.value.message_dict["channel"] == [
        "A phone can't be reached by email: choose call or sms."
    ]
    assert not rows(scene, Consent)


def test_another_debtors_contact_point_is_refused(client, login, scene, agent_a, office_a):
    from tests.compliance.conftest import Scene

    other = Scene(office_a, phone="+12125550199")
    login(agent_a)
    page = client.post(
        action_url(scene, "consent"),
        {
            "target": f"{other.phone.pk}:sms",
            "kind": "opt_out",
            "method": "in writing",
            "effective_on": office_today(scene.office).isoformat(),
        },
    ).content.decode()
    assert "Choose one of this debtor&#x27;s contact points." in page
    assert not rows(scene, Consent)


# ---------- holds ----------


def test_a_hardship_hold_until_a_date_pauses_collection_until_it_ends(
    client, login, scene, agent_a
):
    login(agent_a)
    until = office_today(scene.office) + timedelta(days=14)
    response = client.post(
        action_url(scene, "hold"),
        {"kind": "hardship", "scope": "account", "reason": "Hospital stay", "until": until},
        follow=True,
    )
    assert f"Hardship forbearance hold placed through {services.day_label(until)}." in (
        response.content.decode()
    )
    [hold] = rows(scene, Hold)
    assert hold.scope == "account" and hold.account_id == scene.account.pk
    assert rows(
        scene,
        Event,
        summary=f"Hardship forbearance hold placed through {services.day_label(until)}",
    )
    assert hold.effective_to == start_of(scene.office, until + timedelta(days=1))
    assert "HOLD" in now_decision(scene, "email").rule_ids
    after = scene.decide_one("email", at=hold.effective_to + timedelta(hours=14), record=False)
    assert "HOLD" not in after.rule_ids


def test_a_hold_needs_a_reason_and_an_end_after_today(client, login, scene, agent_a):
    login(agent_a)
    page = client.post(
        action_url(scene, "hold"), {"kind": "other", "scope": "debtor", "reason": ""}
    ).content.decode()
    assert "Say why collection pauses" in page
    yesterday = office_today(scene.office) - timedelta(days=1)
    page = client.post(
        action_url(scene, "hold"),
        {"kind": "other", "scope": "debtor", "reason": "x", "until": yesterday},
    ).content.decode()
    assert "The hold must end after it starts: choose today or a later date." in page
    assert not rows(scene, Hold)


def test_only_supervisors_and_up_lift_holds(client, login, scene, agent_a):
    with tenancy.office_context(scene.office.id):
        hold = services.hold_place(
            debtor=scene.debtor, kind="other", scope="debtor", source="agent", reason="Check"
        )
    lift = f"/o/{scene.office.slug}/compliance/holds/{hold.pk}/lift/"
    login(agent_a)
    assert client.post(lift, {"account": scene.account.pk}).status_code == 403
    supervisor = MembershipFactory(office=scene.office, role="supervisor")
    login(supervisor)
    assert "Lift the other hold?" in client.get(lift).content.decode()
    response = client.post(lift, {"account": scene.account.pk})
    assert response.status_code == 302
    assert response["Location"] == account_url(scene)
    [hold] = rows(scene, Hold)
    assert hold.effective_to is not None and hold.lifted_by == supervisor.user
    assert rows(scene, Event, summary="Other hold lifted")
    assert "HOLD" not in now_decision(scene, "email").rule_ids


def test_a_dispute_hold_is_not_lifted_by_hand(client, login, scene):
    with tenancy.office_context(scene.office.id):
        dispute = services.dispute_record(account=scene.account, received_via="letter")
    login(MembershipFactory(office=scene.office, role="manager"))
    response = client.post(
        f"/o/{scene.office.slug}/compliance/holds/{dispute.hold_id}/lift/", follow=True
    )
    assert "lifts when verification is sent" in response.content.decode()
    [hold] = rows(scene, Hold)
    assert hold.effective_to is None
