"""The import pages, as a manager uses them: upload, map, preview, import, results; the
live progress of a background import; who may see them."""

import pytest
from django.core.cache import cache

from accounts.imports import progress, services
from accounts.imports.models import ImportMapping, PlacementImport
from accounts.models import Account
from recovery import tenancy
from recovery.celery import app as celery_app
from tests.accounts.imports.helpers import csv_text, fixture_file, import_create, upload_of
from tests.factories import CreditorFactory, MembershipFactory


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Community Bank")


@pytest.fixture
def manager(office_a):
    return MembershipFactory(office=office_a, role="manager")


def url(office, name="", pi=None):
    base = f"/o/{office.slug}/accounts/imports/"
    return base + (f"{pi.pk}/" if pi else "") + name


def latest(office):
    with tenancy.office_context(office.id):
        return PlacementImport.objects.order_by("-id").first()


def test_manager_uploads_maps_previews_and_imports(client, office_a, creditor, manager):
    client.force_login(manager.user)
    assert "Import placements" in client.get(f"/o/{office_a.slug}/accounts/").text
    assert client.get(url(office_a, "new/")).status_code == 200

    response = client.post(
        url(office_a, "new/"), {"creditor": creditor.pk, "file": fixture_file("bad_rows.csv")}
    )
    pi = latest(office_a)
    assert response.status_code == 302 and response["Location"] == url(office_a, "mapping/", pi)

    page = client.get(url(office_a, "mapping/", pi)).text
    assert "We guessed from the header names" in page
    assert "Charge Off Date  (e.g. 2021-06-30)" in page  # samples from the file itself
    form = {f"map_{k}": h for k, h in pi.mapping_snapshot.items()}
    form.update(mode="valid_only", save_mapping="on", mapping_name="Monthly file")
    response = client.post(url(office_a, "mapping/", pi), form)
    assert response.status_code == 302 and response["Location"] == url(office_a, "preview/", pi)
    with tenancy.office_context(office_a.id):
        saved = ImportMapping.objects.get(creditor=creditor)
        assert saved.name == "Monthly file" and saved.created_by == manager.user

    page = client.get(url(office_a, "preview/", pi)).text
    assert "The first 20 rows as we understood them" in page
    assert "“bob@” is not an email address." in page
    assert "Import 3 accounts, set 18 aside" in page

    response = client.post(url(office_a, "preview/", pi))
    assert response.status_code == 302 and response["Location"] == url(office_a, pi=pi)
    page = client.get(url(office_a, pi=pi)).text
    assert "3 accounts imported; 18 rows set aside" in page
    with tenancy.office_context(office_a.id):
        assert Account.objects.filter(creditor=creditor).count() == 3

    rejected = client.get(url(office_a, "rejected.csv", pi))
    assert rejected["Content-Type"] == "text/csv"
    assert 'filename="bad_rows-rejected.csv"' in rejected["Content-Disposition"]
    body = b"".join(rejected.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].endswith(",error")
    original = client.get(url(office_a, "file/", pi))
    assert b"".join(original.streaming_content).startswith(b"Account Number,")

    # The mapping and preview of a started import no longer change.
    assert "already started" in client.get(url(office_a, "mapping/", pi)).text
    assert client.post(url(office_a, "preview/", pi)).status_code == 200
    assert "Placement imports" in client.get(url(office_a)).text


def test_next_file_of_the_creditor_reuses_the_saved_mapping(client, office_a, creditor, manager):
    with tenancy.office_context(office_a.id):
        ImportMapping.objects.create(
            creditor=creditor, name="Default",
            mapping={"creditor_reference": "Acct", "last_name": "Surname", "principal": "Owed"},
        )  # fmt: skip
    client.force_login(manager.user)
    text = csv_text(["Acct", "Surname", "Owed"], [["R-1", "Ito", "12.00"]])
    client.post(url(office_a, "new/"), {"creditor": creditor.pk, "file": upload_of(text)})
    pi = latest(office_a)
    assert pi.mapping_snapshot == {"creditor_reference": "Acct", "last_name": "Surname",
                                   "principal": "Owed"}  # fmt: skip
    assert "Using the saved mapping “Default”" in client.get(url(office_a, "mapping/", pi)).text


def test_upload_problems_are_explained(client, office_a, creditor, manager):
    client.force_login(manager.user)
    response = client.post(
        url(office_a, "new/"), {"creditor": creditor.pk, "file": upload_of(b"%PDF-1.4", "x.csv")}
    )
    assert "This is a PDF." in response.text
    response = client.post(
        url(office_a, "new/"), {"creditor": creditor.pk, "file": upload_of(b"x", "notes.docx")}
    )
    assert "Upload a CSV or Excel (.xlsx) file." in response.text
    pi = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    client.post(url(office_a, "preview/", pi))
    response = client.post(
        url(office_a, "new/"), {"creditor": creditor.pk, "file": fixture_file("excel_quirks.csv")}
    )
    assert "This file was already imported for Lakeside Community Bank" in response.text


def test_mapping_without_required_columns_is_refused(client, office_a, creditor, manager):
    pi = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    client.force_login(manager.user)
    response = client.post(url(office_a, "mapping/", pi), {"mode": "all", "mapping_name": "x"})
    assert "Choose the column with the creditor&#x27;s account number." in response.text
    assert "Choose the column with the principal balance." in response.text


def test_preview_of_an_unusable_mapping_sends_back_to_the_mapping(
    client, office_a, creditor, manager
):
    text = csv_text(["Ref", "Who", "Owed"], [["R-1", "Ito", "12.00"]])
    with tenancy.office_context(office_a.id):
        pi = services.placement_import_create(creditor=creditor, upload=upload_of(text))
    assert pi.mapping_snapshot == {}  # nothing could be guessed
    client.force_login(manager.user)
    response = client.get(url(office_a, "preview/", pi), follow=True)
    assert response.redirect_chain[-1][0] == url(office_a, "mapping/", pi)
    assert "Choose the column with the principal balance." in response.text


def test_all_or_nothing_preview_with_problems_offers_no_import(client, office_a, creditor, manager):
    pi = import_create(office_a, creditor, fixture_file("bad_rows.csv"), mode="all")
    client.force_login(manager.user)
    page = client.get(url(office_a, "preview/", pi)).text
    assert "With “All or nothing”, nothing would be imported" in page
    assert 'disabled aria-describedby="go-why"' in page


def test_agents_and_creditor_users_may_not_import(client, office_a, creditor):
    for role in ("agent", "supervisor", "compliance"):
        member = MembershipFactory(office=office_a, role=role)
        client.force_login(member.user)
        assert client.get(url(office_a)).status_code == 403
        assert client.get(url(office_a, "new/")).status_code == 403
        assert "Import placements" not in client.get(f"/o/{office_a.slug}/accounts/").text


def test_large_files_run_in_the_background_with_live_progress(
    client, office_a, creditor, manager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INLINE_MAX_ROWS", 1)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    pi = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    client.force_login(manager.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url(office_a, "preview/", pi))
    assert response.status_code == 302
    pi = latest(office_a)
    assert pi.status == "queued"
    page = client.get(url(office_a, pi=pi)).text
    assert 'hx-trigger="every 1s"' in page and "Waiting for a worker to start" in page

    # What the worker reports while its transaction is still open.
    progress.progress_set(pi, phase="importing", read=2, imported=2, rejected=0)
    partial = client.get(url(office_a, "progress/", pi))
    assert partial.status_code == 200
    assert "Importing" in partial.text and 'aria-valuenow="40"' in partial.text

    for callback in callbacks:  # the task is queued after commit; run it (eagerly)
        callback()
    pi = latest(office_a)
    assert pi.status == "done" and pi.rows_imported == 4
    done = client.get(url(office_a, "progress/", pi), HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert "All 4 accounts imported" in client.get(url(office_a, pi=pi)).text
    assert progress.progress_get(pi)["imported"] == 4
    cache.delete(progress.progress_key(office_a.id, pi.pk, "placementimport"))


def test_review_and_split_from_the_import_page(client, office_a, creditor, manager):
    from tests.factories import DebtorFactory

    DebtorFactory(office=office_a, last_name="Delgado", date_of_birth="1984-02-29",
                  ssn_last4="5555")  # fmt: skip
    text = csv_text(["Account", "Last Name", "DOB", "SSN", "Principal"],
                    [["U-1", "Delgado", "1984-02-29", "9999", "50"]])  # fmt: skip
    pi = import_create(office_a, creditor, upload_of(text))
    client.force_login(manager.user)
    client.post(url(office_a, "preview/", pi))
    page = client.get(url(office_a, pi=pi)).text
    assert "Debtor matches to review" in page
    with tenancy.office_context(office_a.id):
        match = pi.matches.get()
    split_url = url(office_a, f"matches/{match.pk}/split/", pi)
    assert "Split onto a new debtor" in client.get(split_url).text
    response = client.post(split_url, follow=True)
    assert "now has its own debtor" in response.text
    assert "Split off" in response.text
