"""The overview is kept rendered for a few seconds (portal/pagecache.py): a repeat visit
costs no database work, yet what the debtor or the office changes shows at once, each
browser gets its own CSRF token, and the session is checked on every request."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import ledger_post
from compliance import services as compliance
from debtors.models import Debtor
from portal.pagecache import CSRF_PLACEHOLDER
from portal.tokens import link_token
from tests.factories import AccountFactory, DebtorFactory
from tests.portal.conftest import in_office


@pytest.fixture(autouse=True)
def keep_pages(settings):
    settings.PORTAL_PAGE_CACHE_SECONDS = 60


def _balance(page):
    return re.search(r'p-balance__amount">([^<]+)<', page).group(1)


def _token(page):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _tables_read(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    # (In tests the request runs inside the test's transaction, where the middleware's
    # "no office" reset is a statement too; it reads no table.)
    return [q["sql"] for q in queries.captured_queries if " FROM " in q["sql"]]


def test_a_repeat_visit_is_answered_without_the_database(verified, portal_scene):
    first = verified.get("/p/accounts/").content.decode()
    again = verified.get("/p/accounts/")
    assert _tables_read(verified, "/p/accounts/") == []
    assert _balance(again.content.decode()) == _balance(first)
    assert "Hello, Rosa" in again.content.decode()


def test_a_payment_shows_at_once(verified, portal_scene, django_capture_on_commit_callbacks):
    before = _balance(verified.get("/p/accounts/").content.decode())
    account = portal_scene.account
    with django_capture_on_commit_callbacks(execute=True), in_office(portal_scene.office):
        ledger_post(account=account, kind="payment", principal=Decimal("-25.00"))
    after = _balance(verified.get("/p/accounts/").content.decode())
    assert after != before
    assert after == f"${account.balance:,.2f}"


def test_a_dispute_recorded_by_the_office_shows_at_once(
    verified, portal_scene, agent_a, django_capture_on_commit_callbacks
):
    assert "Disputed" not in verified.get("/p/accounts/").content.decode()
    with django_capture_on_commit_callbacks(execute=True), in_office(portal_scene.office):
        compliance.dispute_record(
            account=portal_scene.account,
            received_via="phone",
            reason="Not mine",
            recorded_by=agent_a.user,
        )
    assert "Disputed: collection paused" in verified.get("/p/accounts/").content.decode()


def test_each_browser_gets_its_own_csrf_token(portal_scene):
    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    for browser in browsers:
        browser.get(f"/p/{portal_scene.token}/")
        page = browser.get("/p/verify/").content.decode()
        response = browser.post(
            "/p/verify/",
            {
                "last_name": "Delgado",
                "dob_month": "4",
                "dob_day": "12",
                "dob_year": "1980",
                "csrfmiddlewaretoken": _token(page),
            },
        )
        assert response.status_code == 302
    first, second = (b.get("/p/accounts/").content.decode() for b in browsers)
    assert CSRF_PLACEHOLDER not in first and CSRF_PLACEHOLDER not in second
    # The second browser's page came from the kept copy; its form carries a token this
    # browser's CSRF cookie accepts, so signing out works.
    response = browsers[1].post("/p/signout/", {"csrfmiddlewaretoken": _token(second)})
    assert response.status_code in (200, 302)
    assert browsers[1].get("/p/accounts/").status_code == 403
    # The first browser, still signed in, was not signed out by the second.
    assert browsers[0].get("/p/accounts/").status_code == 200
    assert _token(first) != _token(second)


def test_a_signed_out_session_is_refused_although_the_page_is_kept(verified, portal_scene):
    assert verified.get("/p/accounts/").status_code == 200
    verified.post("/p/signout/")
    response = verified.get("/p/accounts/")
    assert response.status_code == 403
    assert "Hello, Rosa" not in response.content.decode()


def test_another_debtor_never_gets_the_kept_page(verified, portal_scene):
    assert "Hello, Rosa" in verified.get("/p/accounts/").content.decode()
    office = portal_scene.office
    other = DebtorFactory(office=office, first_name="Ana", last_name="Ruiz")
    account = AccountFactory(office=office, debtor=other)
    browser = Client()
    browser.get(f"/p/{link_token(office_id=office.id, debtor_id=other.id, account_id=account.id)}/")
    with in_office(office):
        dob = date.fromisoformat(str(Debtor.objects.get(pk=other.pk).date_of_birth))
    response = browser.post(
        "/p/verify/",
        {
            "last_name": "Ruiz",
            "dob_month": str(dob.month),
            "dob_day": str(dob.day),
            "dob_year": str(dob.year),
        },
    )
    assert response.status_code == 302
    page = browser.get("/p/accounts/").content.decode()
    assert "Hello, Ana" in page and "Rosa" not in page


def test_the_thank_you_note_is_never_kept(verified, portal_scene):
    assert "your payment went through" in verified.get("/p/accounts/?paid=1").content.decode()
    assert "your payment went through" not in verified.get("/p/accounts/").content.decode()


def test_spanish_and_english_are_kept_apart(verified, portal_scene):
    assert "Hello, Rosa" in verified.get("/p/accounts/").content.decode()
    verified.post("/p/language/", {"language": "es", "next": "/p/accounts/"})
    page = verified.get("/p/accounts/").content.decode()
    assert "Hola, Rosa" in page


def test_kept_pages_can_be_turned_off(verified, portal_scene, settings):
    settings.PORTAL_PAGE_CACHE_SECONDS = 0
    verified.get("/p/accounts/")
    assert _tables_read(verified, "/p/accounts/") != []
