"""EU-GDPR: an erasure request restricts processing at once and the debtor's personal
data is erased once no retention duty (F-RETAIN) or open legal claim needs it; the
ledger, the decisions and the timeline stay, without the erased data."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account, Event, Note, Transaction
from campaigns.models import Campaign, Enrollment, Message, Step
from compliance import services
from compliance.models import Decision, Dispute, ErasureRequest
from debtors.models import ContactPoint, Debtor
from portal.models import PortalMessage
from recovery import tenancy
from recovery.models import Document, WorkItem
from tests.compliance.conftest import NOON, Scene
from tests.factories import MembershipFactory

TODAY = timezone.localdate()


def rows(scene, model, **filters):
    with tenancy.office_context(scene.office.id):
        return list(model.objects.filter(**filters))


@pytest.fixture
def eu(office_a):
    office_a.country = "IE"
    office_a.save()
    return Scene(office_a)


def age(scene, years=4):
    """Make every trace of collection on the scene's account `years` old."""
    old = timezone.now() - timedelta(days=365 * years + 2)
    with tenancy.office_context(scene.office.id):
        Account.objects.filter(pk=scene.account.pk).update(placed_at=old)
        Transaction.objects.filter(account=scene.account).update(effective_date=old.date())


def ask(scene, **kwargs):
    with tenancy.office_context(scene.office.id):
        return services.erasure_request_record(
            debtor=scene.debtor,
            requested_by=kwargs.pop("requested_by", "debtor"),
            received_via=kwargs.pop("received_via", "email"),
            received_at=kwargs.pop("received_at", NOON - timedelta(days=1)),
            **kwargs,
        )


def test_an_erasure_request_restricts_processing_at_once(eu):
    officer = MembershipFactory(office=eu.office, role="compliance")
    with tenancy.office_context(eu.office.id):
        campaign = Campaign.objects.create(name="Reminders", status="active")
        step = Step.objects.create(campaign=campaign, position=1, channels=["email"])
        Enrollment.objects.create(campaign=campaign, account=eu.account, next_step=step,
                                  next_due_at=NOON)  # fmt: skip
    assert eu.decide_one("email").allowed
    request = ask(eu)
    blocked = eu.decide_one("email")
    assert blocked.outcome == "block" and blocked.rule_ids == ["EU-GDPR"]
    assert blocked.explanation.startswith("Blocked: the debtor asked on Nov 16")
    # The debtor's own action (e.g. a payment) is their consent: its receipt may go.
    assert eu.decide_one("email", debtor_initiated=True).allowed
    # Before the request arrived, nothing stood in the way (the audit replays that).
    assert eu.decide_one("email", at=NOON - timedelta(days=2)).allowed
    assert rows(eu, Enrollment)[0].status == "exited"
    # The account was placed today: the records are kept 3 years (F-RETAIN).
    [request] = rows(eu, ErasureRequest, pk=request.pk)
    assert request.status == "restricted"
    assert request.erasable_on == TODAY.replace(year=TODAY.year + 3)
    assert "(F-RETAIN)" in request.kept_for[0]
    [task] = rows(eu, WorkItem, kind="review")
    assert task.assignee == officer.user and "Erasure request #" in task.title
    assert rows(eu, Debtor)[0].last_name == "Delgado"  # not erased yet
    summaries = {e.summary for e in rows(eu, Event, account=eu.account, kind="hold")}
    assert "Erasure request received (email); processing restricted" in summaries


def test_erasure_removes_personal_data_and_keeps_the_ledger_and_decisions(
    eu, django_capture_on_commit_callbacks
):
    with tenancy.office_context(eu.office.id):
        eu.debtor.date_of_birth, eu.debtor.ssn_last4 = "1980-02-03", "6789"
        eu.debtor.save()
        Note.objects.create(account=eu.account, body="Rosa said she moved to Cork")
        scan = Document.objects.create(
            kind="upload",
            title="Letter from Rosa Delgado",
            account=eu.account,
            debtor_id=eu.debtor.pk,
            file=ContentFile(b"Dear collector", name="letter.txt"),
        )
        WorkItem.objects.create(
            kind="inbox",
            title="Message from the debtor",
            detail="Rosa: please call me",
            account=eu.account,
        )
        PortalMessage.objects.create(account=eu.account, debtor_id=eu.debtor.pk, direction="in",
                                     body="Hi, this is Rosa Delgado")  # fmt: skip
        Message.objects.create(account=eu.account, debtor_id=eu.debtor.pk, channel="letter",
                               due_at=NOON, letter_html="<p>Dear Rosa Delgado</p>")  # fmt: skip
    eu.decide_one("email")  # a decision on file
    age(eu)
    ledger_before = [(t.principal, t.effective_date) for t in rows(eu, Transaction)]
    assert default_storage.exists(scan.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(eu)
    assert request.status == "erased" and request.erased_at is not None, request.kept_for
    [debtor] = rows(eu, Debtor)
    assert (debtor.first_name, debtor.last_name) == ("", "[erased]")
    assert debtor.date_of_birth == "" and debtor.ssn_last4 == "" and debtor.match_bidx == ""
    for cp in rows(eu, ContactPoint):
        assert "Main St" not in cp.value and "rosa@" not in cp.value and "555" not in cp.value
        assert cp.line1 == "" and cp.postal_code == ""
    assert rows(eu, Note)[0].body == "[erased]"
    assert rows(eu, WorkItem, kind="inbox")[0].detail == "[erased]"
    [document] = rows(eu, Document, pk=scan.pk)
    assert document.title == "[erased]" and not document.file
    assert not default_storage.exists(scan.file.name)
    assert rows(eu, PortalMessage)[0].body == "[erased]"
    assert rows(eu, Message)[0].letter_html == ""
    # The ledger and the decision trail stay.
    assert [(t.principal, t.effective_date) for t in rows(eu, Transaction)] == ledger_before
    assert rows(eu, Decision) and rows(eu, Decision)[0].rule_ids is not None
    events = rows(eu, Event, account=eu.account)
    assert any(e.summary.startswith("Personal data erased") for e in events)
    assert not any("Rosa" in e.summary or "Delgado" in e.summary for e in events)
    # Still nobody contacts the erased debtor.
    assert eu.decide_one("letter").rule_ids == ["EU-GDPR"]


def test_an_open_dispute_keeps_the_data_until_it_is_resolved(eu):
    age(eu)
    with tenancy.office_context(eu.office.id):
        dispute = services.dispute_record(
            account=eu.account,
            received_via="letter",
            received_at=NOON - timedelta(days=3),
            reason="",
        )
    request = ask(eu)
    assert request.status == "restricted" and request.kept_for == ["an open dispute"]
    with tenancy.office_context(eu.office.id):
        assert services.erasures_due_run() == 0
        Dispute.objects.filter(pk=dispute.pk).update(status="resolved")
    out = StringIO()
    call_command("compliance_erase_due", "--office", eu.office.slug, stdout=out)
    assert "Erasure requests performed: 1" in out.getvalue()
    [request] = rows(eu, ErasureRequest)
    assert request.status == "erased"
    assert all(t.status == "done" for t in rows(eu, WorkItem, kind="review"))


def test_the_daily_beat_erases_what_is_due(eu, settings):
    from compliance import tasks

    assert "compliance.tasks.erasures_tick" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    age(eu)
    with tenancy.office_context(eu.office.id):
        dispute = services.dispute_record(
            account=eu.account,
            received_via="letter",
            received_at=NOON - timedelta(days=3),
            reason="",
        )
    ask(eu)
    with tenancy.office_context(eu.office.id):
        Dispute.objects.filter(pk=dispute.pk).update(status="resolved")
    assert tasks.erasures_office.apply(args=[eu.office.id]).get() == 1
    [request] = rows(eu, ErasureRequest)
    assert request.status == "erased"


def test_the_audit_sees_a_request_recorded_late_only_on_what_is_known_now(eu):
    # Received by letter on the 14th, recorded later: a send on the 15th broke it, but
    # the gate could not know at the time.
    ask(eu, received_via="letter", received_at=NOON - timedelta(days=3))
    sent = eu.attempt("letter", at=NOON - timedelta(days=2))
    [at_send] = eu.decide(sent, record=False, known_at="attempt")
    [now] = eu.decide(sent, record=False)
    assert at_send.allowed and now.rule_ids == ["EU-GDPR"]


def test_a_due_erasure_waits_for_its_date(eu):
    ask(eu)
    with tenancy.office_context(eu.office.id):
        assert services.erasures_due_run(today=TODAY + timedelta(days=30)) == 0
        assert services.erasures_due_run(today=TODAY.replace(year=TODAY.year + 3)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requested_by": "neighbour"}, "Say who asked"),
        ({"received_via": "pigeon"}, "Say how the request reached us"),
        ({"received_at": timezone.now() + timedelta(days=2)}, "cannot be in the future"),
    ],
)
def test_a_bad_erasure_request_is_refused_and_nothing_is_written(eu, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        ask(eu, **kwargs)
    assert not rows(eu, ErasureRequest) and eu.decide_one("email").allowed


def test_erasure_requests_need_the_gdpr_and_come_once(office_a, eu):
    ask(eu)
    with pytest.raises(ValidationError, match="on file already"):
        ask(eu)
    office_a.country = "US"
    office_a.save()
    us = Scene(office_a)
    with pytest.raises(ValidationError, match="applies to an office in the EU"):
        ask(us)


def test_a_us_office_with_a_debtor_living_in_the_eu_honours_the_request(office_a):
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        ContactPoint.objects.filter(pk=scene.address.pk).update(country="DE")
    ask(scene)
    assert scene.decide_one("email").rule_ids == ["EU-GDPR"]


# ---------- pages ----------


def test_staff_record_an_erasure_request_and_the_officer_sees_it(client, login, eu, agent_a):
    login(agent_a)
    base = f"/o/{eu.office.slug}"
    page = client.get(f"{base}/accounts/{eu.account.pk}/").content.decode()
    assert "Record an erasure request (GDPR)" in page
    target = f"{base}/compliance/accounts/{eu.account.pk}/erasure/"
    today = eu.office.today()
    bad = client.post(target, {"requested_by": "debtor", "received_on": today.isoformat()})
    assert bad.status_code == 200 and "Say how the request reached us." in bad.content.decode()
    response = client.post(
        target, {"requested_by": "debtor", "received_via": "phone", "received_on": today}
    )
    assert response.status_code == 302
    assert "nobody contacts this debtor" in client.get(response["Location"]).content.decode()
    # Agents do not see the register; the compliance officer does.
    assert client.get(f"{base}/compliance/erasures/").status_code in (403, 404)
    login(MembershipFactory(office=eu.office, role="compliance"))
    listing = client.get(f"{base}/compliance/erasures/").content.decode()
    assert "Restricted" in listing and "erasure possible from" in listing
    assert "records retained until" in listing


def test_the_erasure_form_is_only_offered_where_the_gdpr_applies(client, login, agent_a):
    scene = Scene(agent_a.office)
    login(agent_a)
    page = client.get(f"/o/{scene.office.slug}/accounts/{scene.account.pk}/").content.decode()
    assert "Record an erasure request" not in page
