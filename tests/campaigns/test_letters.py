"""Letters: gated, rendered to a PDF on the account, queued for the mailing vendor,
handed over once in a print batch, and marked when the post office sends them back."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Event
from campaigns import letters, planner
from campaigns.dispatch import dispatch_due
from campaigns.models import LetterBatch, Message
from compliance import services
from compliance.models import ContactAttempt
from recovery import tenancy
from recovery.models import Document, WorkItem
from tests.campaigns.test_planner import campaign_with_steps
from tests.compliance.conftest import NOON, Scene
from tests.factories import MembershipFactory


def letter_scenes(office, n=1, *, campaign=None):
    """n accounts, each with a letter planned and due at NOON."""
    office.collector_type = "first_party"
    office.mailing_address = "PO Box 12\nAlbany, NY 12201"
    office.save()
    scenes = [Scene(office, phone=f"+1212555{i:04d}") for i in range(n)]
    campaign = campaign or campaign_with_steps(office, (0, ["letter"]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[s.account for s in scenes], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
    return scenes


def dispatch(office, at=NOON):
    with time_machine.travel(at, tick=False), tenancy.office_context(office.id):
        return dispatch_due(office=office, now=at)


def queued_letters(office, n):
    scenes = letter_scenes(office, n)
    assert dispatch(office)["sent"] == n
    return scenes


def window(html, css_class):
    return re.search(rf'<div class="{css_class}">(.*?)</div>', html, re.S).group(1)


def test_a_planned_letter_passes_the_gate_is_stored_sent_and_on_the_timeline(office_a):
    [scene] = letter_scenes(office_a)
    counts = dispatch(office_a)
    assert counts["sent"] == 1, counts
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        assert message.status == "sent" and message.provider == "print_batch"
        assert message.letter_pages >= 1 and message.letter_batch is None
        document = message.letter_document
        assert document.kind == Document.Kind.LETTER and document.account_id == scene.account.pk
        assert document.file.read(5) == b"%PDF-"
        event = Event.objects.get(kind=Event.Kind.LETTER, summary="Letter queued for mailing")
        assert event.account_id == scene.account.pk
        assert event.data["document_id"] == document.pk
        assert ContactAttempt.objects.filter(channel="letter").count() == 1
    html = message.letter_html
    assert "Rosa Delgado" in html and "balance" in html  # the letter says what it is about
    # Through the envelope windows: the return address, the debtor's name and address.
    through_windows = window(html, "return") + window(html, "recipient")
    assert "PO Box 12" in through_windows and "1 Main St" in through_windows
    assert office_a.name not in through_windows
    assert scene.account.office_reference not in through_windows
    for word in ("debt", "collect", "balance", "account", "$"):
        assert word not in through_windows.lower()
    # A second pass queues nothing again.
    assert dispatch(office_a)["sent"] == 0


def test_a_letter_blocked_by_a_cease_hold_is_not_rendered(office_a):
    [scene] = letter_scenes(office_a)
    with tenancy.office_context(office_a.id):
        services.hold_place(
            debtor=scene.debtor,
            kind="cease",
            scope="debtor",
            source="letter",
            effective_from=NOON - timedelta(days=1),
        )
    assert dispatch(office_a)["blocked"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        assert message.status == "blocked" and message.letter_document is None
        assert message.letter_html == ""
        assert not Document.objects.filter(kind=Document.Kind.LETTER).exists()
        assert not Event.objects.filter(summary="Letter queued for mailing").exists()


def manifest_rows(batch):
    with batch.manifest.file.open("rb") as f:
        return list(csv.DictReader(io.StringIO(f.read().decode())))


def test_a_batch_holds_each_queued_letter_once_and_the_next_batch_repeats_none(office_a):
    scenes = queued_letters(office_a, 3)
    with tenancy.office_context(office_a.id):
        batch = letters.letter_batch_create()
        batched = list(Message.objects.filter(letter_batch=batch).order_by("letter_sequence"))
        assert [m.letter_sequence for m in batched] == [1, 2, 3]
        assert batch.letter_count == 3
        assert batch.page_count == sum(m.letter_pages for m in batched)
        with batch.pdf.file.open("rb") as f:
            assert f.read(5) == b"%PDF-"
        rows = manifest_rows(batch)
        assert [r["sequence"] for r in rows] == ["1", "2", "3"]
        for row, message in zip(rows, batched, strict=True):
            assert row["batch_id"] == str(batch.pk)
            assert row["office_reference"] == message.account.office_reference
            assert row["debtor_name"] == "Rosa Delgado"
            address = (row["address_line1"], row["city"], row["state"], row["postal_code"])
            assert address == ("1 Main St", "Town", "NY", "10001")
            assert row["pages"] == str(message.letter_pages)
            assert row["document_id"] == str(message.letter_document_id)
        assert {m.account_id for m in batched} == {s.account.pk for s in scenes}
        # Nothing is waiting now: a second batch is refused rather than repeating them.
        with pytest.raises(ValidationError):
            letters.letter_batch_create()
        with pytest.raises(ValueError, match="cannot be changed"):
            batch.save()
    # A later letter goes in the next batch, alone.
    later = campaign_with_steps_named(office_a, "Second letter")
    letter_scenes(office_a, 1, campaign=later)
    assert dispatch(office_a)["sent"] == 1
    with tenancy.office_context(office_a.id):
        second = letters.letter_batch_create()
        assert second.letter_count == 1
        assert Message.objects.filter(letter_batch=batch).count() == 3
        assert [r["sequence"] for r in manifest_rows(second)] == ["1"]


def campaign_with_steps_named(office, name):
    from campaigns.models import Campaign, Step

    with tenancy.office_context(office.id):
        campaign = Campaign.objects.create(name=name, status="active")
        Step.objects.create(campaign=campaign, position=1, wait_days=0, channels=["letter"])
    return campaign


def test_the_manager_creates_a_batch_downloads_its_files_and_marks_returned_mail(client, office_a):
    queued_letters(office_a, 2)
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    base = f"/o/{office_a.slug}/campaigns/letters/"
    response = client.post(f"{base}batches/")
    with tenancy.office_context(office_a.id):
        batch = LetterBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{base}batches/{batch.pk}/"
    page = client.get(f"{base}batches/{batch.pk}/")
    assert page.status_code == 200 and b"Print batch" in page.content
    pdf = client.get(f"{base}batches/{batch.pk}/letters.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    manifest = client.get(f"{base}batches/{batch.pk}/manifest.csv")
    assert manifest["Content-Type"] == "text/csv"

    with tenancy.office_context(office_a.id):
        first = Message.objects.get(letter_batch=batch, letter_sequence=1)
    response = client.post(f"{base}batches/{batch.pk}/returned/", {"sequence": "1"})
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        first.contact_point.refresh_from_db()
        assert first.contact_point.validity == "returned"
        item = WorkItem.objects.get(kind=WorkItem.Kind.RETURNED_MAIL)
        assert item.account_id == first.account_id and item.status == "open"
        assert Event.objects.filter(
            account_id=first.account_id, summary__startswith="Letter returned"
        ).exists()
        other = Message.objects.get(letter_batch=batch, letter_sequence=2)
        other.contact_point.refresh_from_db()
        assert other.contact_point.validity != "returned"
    # Marking it twice opens no second task.
    client.post(f"{base}batches/{batch.pk}/returned/", {"sequence": "1"})
    with tenancy.office_context(office_a.id):
        assert WorkItem.objects.filter(kind=WorkItem.Kind.RETURNED_MAIL).count() == 1


def test_the_letters_page_costs_the_same_queries_for_one_letter_or_many(
    client, office_a, django_assert_max_num_queries
):
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    url = f"/o/{office_a.slug}/campaigns/letters/"
    queued_letters(office_a, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    later = campaign_with_steps_named(office_a, "More letters")
    letter_scenes(office_a, 3, campaign=later)
    dispatch(office_a)
    with tenancy.office_context(office_a.id):
        letters.letter_batch_create()
    letter_scenes(office_a, 2, campaign=campaign_with_steps_named(office_a, "Even more"))
    dispatch(office_a)
    with django_assert_max_num_queries(len(one)):
        response = client.get(url)
    assert response.status_code == 200 and b"Batch" in response.content
    with tenancy.office_context(office_a.id):
        batch = LetterBatch.objects.get()
    with CaptureQueriesContext(connection) as detail:
        assert client.get(f"{url}batches/{batch.pk}/").status_code == 200
    with django_assert_max_num_queries(len(detail)):
        assert client.get(f"{url}batches/{batch.pk}/").status_code == 200
    assert len(detail) < 15


def test_agents_get_403_and_another_office_gets_404(client, office_a, office_b):
    queued_letters(office_a, 1)
    with tenancy.office_context(office_a.id):
        batch = letters.letter_batch_create()
    base = f"/o/{office_a.slug}/campaigns/letters/"
    client.force_login(MembershipFactory(office=office_a, role="agent").user)
    assert client.get(base).status_code == 403
    assert client.get(f"{base}batches/{batch.pk}/").status_code == 403
    assert client.post(f"{base}batches/").status_code == 403
    client.force_login(MembershipFactory(office=office_b, role="manager").user)
    assert client.get(base).status_code == 404
    other = f"/o/{office_b.slug}/campaigns/letters/batches/{batch.pk}/"
    assert client.get(other).status_code == 404
    assert client.get(f"{other}letters.pdf").status_code == 404
    assert client.post(f"{other}returned/", {"sequence": "1"}).status_code == 404
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().contact_point.validity != "returned"
