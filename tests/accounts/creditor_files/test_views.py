"""The creditor-file pages: a manager uploads a file and sees what happened; the
acknowledgement and close/return downloads; agents are refused; another office's
file, import and creditor are 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.creditor_files.models import CreditorFile
from accounts.models import Account
from recovery import tenancy
from tests.accounts.creditor_files.helpers import file_apply
from tests.accounts.imports.helpers import csv_text, import_run, upload_of
from tests.factories import AccountFactory, CreditorFactory, MembershipFactory


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Bank")


@pytest.fixture
def manager(client, office_a):
    membership = MembershipFactory(office=office_a, role="manager")
    client.force_login(membership.user)
    return membership.user


def test_manager_uploads_a_recall_file_and_sees_the_outcome(client, office_a, creditor, manager):
    AccountFactory(office=office_a, creditor=creditor, creditor_reference="V-1")
    upload = SimpleUploadedFile(
        "recalls.csv", csv_text(["Account", "Reason"], [["V-1", "Sold"], ["V-2", "Sold"]]).encode()
    )
    base = f"/o/{office_a.slug}/accounts/imports/creditor-files/"
    response = client.post(
        f"{base}new/",
        {"creditor": creditor.pk, "kind": "recall", "file": upload, "mode": "valid_only"},
    )
    with tenancy.office_context(office_a.id):
        cfile = CreditorFile.objects.get()
        assert Account.objects.get(creditor_reference="V-1").status == "recalled"
    assert response.status_code == 302 and response["Location"] == f"{base}{cfile.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Lakeside Bank has no account V-2 placed with us." in page
    rejected = client.get(f"{base}{cfile.pk}/rejected.csv")
    assert b"V-2,Sold,Account: Lakeside Bank has no account V-2" in b"".join(rejected)
    assert "recalls.csv" in client.get(base).content.decode()


def test_a_file_missing_columns_is_refused_on_the_form(client, office_a, creditor, manager):
    upload = SimpleUploadedFile("x.csv", b"Account,Note\nV-1,hi\n")
    response = client.post(
        f"/o/{office_a.slug}/accounts/imports/creditor-files/new/",
        {"creditor": creditor.pk, "kind": "recall", "file": upload, "mode": "all"},
    )
    assert response.status_code == 200
    assert "The file needs a column with the recall reason" in response.content.decode()


def test_acknowledgement_and_close_return_download(client, office_a, creditor, manager):
    pi = import_run(
        office_a,
        creditor,
        upload_of(
            csv_text(
                ["Account", "Last Name", "Principal"], [["K-1", "Ames", "10"], ["K-2", "", "5"]]
            )
        ),
        mode="valid_only",
    )
    response = client.get(f"/o/{office_a.slug}/accounts/imports/{pi.pk}/acknowledgement.csv")
    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "creditor_reference,office_reference,status,reason,line"
    assert "K-2,,rejected,Last Name: A debtor needs a last name or a business name.,3" in text
    url = f"/o/{office_a.slug}/accounts/creditors/{creditor.pk}/close-return/"
    assert "Reason codes" in client.get(url).content.decode()
    download = client.get(url, {"start": "2020-01-01", "end": "2020-01-31"})
    assert download["Content-Disposition"] == (
        'attachment; filename="LCB-close-return-20200101-20200131.csv"'
    )
    assert client.get(url, {"start": "2020-02-01", "end": "2020-01-31"}).status_code == 200
    assert f'href="{url}"' in client.get(f"/o/{office_a.slug}/creditors/").content.decode()


def test_agents_cannot_upload_creditor_files(client, office_a):
    client.force_login(MembershipFactory(office=office_a, role="agent").user)
    url = f"/o/{office_a.slug}/accounts/imports/creditor-files/new/"
    assert client.get(url).status_code == 403


def test_another_offices_file_and_creditor_are_404(client, office_a, office_b, creditor):
    AccountFactory(office=office_a, creditor=creditor, creditor_reference="V-1")
    cfile = file_apply(office_a, creditor, "recall", ["Account", "Reason"], [["V-1", "Sold"]])
    outsider = MembershipFactory(office=office_b, role="admin")
    client.force_login(outsider.user)
    base = f"/o/{office_b.slug}/accounts"
    assert client.get(f"{base}/imports/creditor-files/{cfile.pk}/").status_code == 404
    assert client.get(f"{base}/creditors/{creditor.pk}/close-return/").status_code == 404


@pytest.fixture
def eager_celery(settings):
    from recovery.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_large_file_is_applied_in_the_background_with_live_progress(
    client,
    office_a,
    creditor,
    manager,
    monkeypatch,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    from accounts.creditor_files import services
    from accounts.imports import progress

    monkeypatch.setattr(services, "INLINE_MAX_ROWS", 2)  # "large": more than two rows
    for n in (1, 2, 3):
        AccountFactory(office=office_a, creditor=creditor, creditor_reference=f"V-{n}")
    rows = [["V-1", "Sold"], ["V-2", "Sold"], ["V-3", "Sold"], ["V-9", "Sold"]]
    upload = SimpleUploadedFile("recalls.csv", csv_text(["Account", "Reason"], rows).encode())
    base = f"/o/{office_a.slug}/accounts/imports/creditor-files/"
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"{base}new/",
            {"creditor": creditor.pk, "kind": "recall", "file": upload, "mode": "valid_only"},
        )
    with tenancy.office_context(office_a.id):
        cfile = CreditorFile.objects.get()
        assert cfile.status == "queued" and cfile.row_estimate == 4
        assert Account.objects.filter(status="recalled").count() == 0  # not yet
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for a worker to start" in page and f"{base}{cfile.pk}/progress/" in page
    assert progress.progress_get(cfile)["phase"] == "queued"
    assert len(queued) == 1
    queued[0]()  # the commit hands it to the worker (eager here)
    with tenancy.office_context(office_a.id):
        cfile.refresh_from_db()
        assert (cfile.status, cfile.rows_applied, cfile.rows_rejected) == ("done", 3, 1)
        assert Account.objects.filter(status="recalled").count() == 3
    assert progress.progress_get(cfile) == {
        "phase": "done",
        "read": 4,
        "imported": 3,
        "rejected": 1,
        "total": 4,
    }
    done = client.get(f"{base}{cfile.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    page = client.get(f"{base}{cfile.pk}/").content.decode()
    assert "Lakeside Bank has no account V-9 placed with us." in page


def test_a_small_file_is_applied_at_once(office_a, creditor):
    AccountFactory(office=office_a, creditor=creditor, creditor_reference="V-1")
    cfile = file_apply(office_a, creditor, "recall", ["Account", "Reason"], [["V-1", "Sold"]])
    assert (cfile.status, cfile.rows_applied) == ("done", 1)
