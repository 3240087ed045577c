"""The way in: signed links, the identity check, the lockout."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import Event
from portal.tokens import link_token
from tests.factories import AccountFactory, DebtorFactory
from tests.portal.conftest import in_office, verify


def test_a_link_asks_who_you_are_before_showing_anything(client, portal_scene):
    response = client.get(f"/p/{portal_scene.token}/", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Confirm it" in body
    assert portal_scene.account.office_reference not in body
    assert "500.00" not in body
    assert "debt" not in body.lower()


def test_a_tampered_link_is_refused_with_a_helpful_page(client, portal_scene):
    response = client.get(f"/p/{portal_scene.token[:-3]}abc/")
    assert response.status_code == 400
    assert "This link doesn" in response.content.decode()


def test_an_expired_link_is_refused_and_points_to_the_office_page(client, portal_scene, settings):
    settings.PORTAL_LINK_MAX_AGE_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get(f"/p/{portal_scene.token}/")
    assert response.status_code == 400
    body = response.content.decode()
    assert "This link has expired" in body
    assert f"/p/o/{portal_scene.office.slug}/" in body


def test_a_link_naming_another_offices_debtor_is_refused(client, portal_scene, office_b):
    token = link_token(
        office_id=office_b.id,
        debtor_id=portal_scene.debtor.id,
        account_id=portal_scene.account.id,
    )
    response = client.get(f"/p/{token}/")
    assert response.status_code == 404
    assert "couldn" in response.content.decode()


def test_a_link_whose_account_is_not_the_debtors_is_refused(client, portal_scene):
    other = AccountFactory(office=portal_scene.office)
    token = link_token(
        office_id=portal_scene.office.id, debtor_id=portal_scene.debtor.id, account_id=other.id
    )
    assert client.get(f"/p/{token}/").status_code == 404


def test_right_name_and_birth_date_open_the_account(client, portal_scene):
    response = verify(client, portal_scene, last_name="  delgado ")
    assert response.status_code == 302
    assert response["Location"] == f"/p/accounts/{portal_scene.account.id}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "$500.00" in page.content.decode()
    with in_office(portal_scene.office):
        assert Event.objects.filter(
            account=portal_scene.account, kind="portal_visit", summary__contains="verified"
        ).exists()


def test_a_wrong_answer_says_nothing_about_the_debt(client, portal_scene):
    response = verify(client, portal_scene, dob=("4", "13", "1980"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "didn" in body and "match" in body
    assert "2 more tries" in body
    assert "$500.00" not in body and portal_scene.account.office_reference not in body
    assert client.get(f"/p/accounts/{portal_scene.account.id}/").status_code == 403


def test_three_failures_lock_the_link_even_for_the_right_answer(client, portal_scene):
    for _ in range(2):
        assert verify(client, portal_scene, last_name="Smith").status_code == 400
    locked = verify(client, portal_scene, last_name="Smith")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "paused" in body and "(800) 555-0199" in body
    assert verify(client, portal_scene).status_code == 429
    with in_office(portal_scene.office):
        assert Event.objects.filter(
            account=portal_scene.account, summary__startswith="Portal locked"
        ).exists()


def test_lockout_follows_the_address_across_references(client, portal_scene, settings):
    settings.PORTAL_IP_FAILURE_LIMIT = 3
    slug = portal_scene.office.slug
    for n in range(3):
        client.post(
            f"/p/o/{slug}/",
            {
                "reference": f"NOPE-{n}",
                "last_name": "Delgado",
                "dob_month": "4",
                "dob_day": "12",
                "dob_year": "1980",
            },
        )
    response = client.post(
        f"/p/o/{slug}/",
        {
            "reference": portal_scene.account.office_reference,
            "last_name": "Delgado",
            "dob_month": "4",
            "dob_day": "12",
            "dob_year": "1980",
        },
    )
    assert response.status_code == 429


def test_the_office_page_signs_in_with_reference_and_identity(client, portal_scene):
    response = client.post(
        f"/p/o/{portal_scene.office.slug}/",
        {
            "reference": portal_scene.account.office_reference.lower(),
            "last_name": "Delgado",
            "dob_month": "04",
            "dob_day": "12",
            "dob_year": "1980",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/p/accounts/"


def test_an_unknown_reference_reads_like_a_wrong_answer(client, portal_scene):
    data = {"last_name": "Delgado", "dob_month": "4", "dob_day": "12", "dob_year": "1980"}
    unknown = client.post(f"/p/o/{portal_scene.office.slug}/", {**data, "reference": "X-1"})
    wrong = client.post(
        f"/p/o/{portal_scene.office.slug}/",
        {**data, "reference": portal_scene.account.office_reference, "last_name": "Smith"},
    )
    assert unknown.status_code == wrong.status_code == 400
    assert "didn" in unknown.content.decode() and "didn" in wrong.content.decode()


def test_zip_and_ssn_when_the_office_asks_for_them(client, portal_scene):
    from portal.models import PortalSettings

    with in_office(portal_scene.office):
        PortalSettings.objects.create(verification="zip_ssn4")
    client.get(f"/p/{portal_scene.token}/")
    page = client.get("/p/verify/").content.decode()
    assert "ZIP code" in page and "Date of birth" not in page
    wrong = client.post("/p/verify/", {"postal_code": "10002", "ssn_last4": "1234"})
    assert wrong.status_code == 400
    right = client.post("/p/verify/", {"postal_code": "10001", "ssn_last4": "1234"})
    assert right.status_code == 302


def test_a_session_cannot_reach_another_debtors_account(verified, portal_scene, office_b):
    neighbour = AccountFactory(office=portal_scene.office)
    foreign = AccountFactory(office=office_b, debtor=DebtorFactory(office=office_b))
    for account in (neighbour, foreign):
        for url in (
            f"/p/accounts/{account.id}/",
            f"/p/accounts/{account.id}/dispute/",
            f"/p/accounts/{account.id}/notice.pdf",
            f"/p/accounts/{account.id}/hardship/",
        ):
            assert verified.get(url).status_code == 404, url
    overview = verified.get("/p/accounts/").content.decode()
    assert neighbour.office_reference not in overview
    assert foreign.office_reference not in overview


def test_pages_need_a_verified_session(client, portal_scene):
    response = client.get("/p/accounts/")
    assert response.status_code == 403
    assert "sign in again" in response.content.decode().lower()


def test_sign_out_ends_the_session(verified):
    assert verified.post("/p/signout/").status_code == 200
    assert verified.get("/p/accounts/").status_code == 403


def test_behind_the_proxy_failures_count_per_client_not_per_proxy(client, portal_scene, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    data = {"last_name": "Delgado", "dob_month": "4", "dob_day": "12", "dob_year": "1980"}
    slug = portal_scene.office.slug
    for n in range(3):
        client.post(
            f"/p/o/{slug}/", {**data, "reference": f"NOPE-{n}"}, HTTP_X_FORWARDED_FOR="203.0.113.7"
        )
    # Another person behind the same proxy is not locked out by them.
    response = client.post(
        f"/p/o/{slug}/",
        {**data, "reference": portal_scene.account.office_reference},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302


def test_the_portal_link_command_prints_a_working_link(client, portal_scene):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "portal_link",
        office=portal_scene.office.slug,
        reference=portal_scene.account.office_reference,
        stdout=out,
    )
    path = "/p/" + out.getvalue().strip().split("/p/", 1)[1]
    assert client.get(path).status_code == 302


def test_one_address_is_locked_only_after_many_failures(client, portal_scene, settings):
    settings.PORTAL_IP_FAILURE_LIMIT = 5
    data = {"last_name": "Delgado", "dob_month": "4", "dob_day": "12", "dob_year": "1980"}
    slug = portal_scene.office.slug
    for n in range(4):  # four different people's mistakes behind one carrier address
        client.post(f"/p/o/{slug}/", {**data, "reference": f"NOPE-{n}"})
    ok = client.post(f"/p/o/{slug}/", {**data, "reference": portal_scene.account.office_reference})
    assert ok.status_code == 302
    client.post("/p/signout/")
    client.post(f"/p/o/{slug}/", {**data, "reference": "NOPE-9"})
    locked = client.post(
        f"/p/o/{slug}/", {**data, "reference": portal_scene.account.office_reference}
    )
    assert locked.status_code == 429


def test_links_are_djangos_signed_format_and_follow_a_rotated_secret(settings):
    # Links already in debtors' inboxes must keep opening: the format is signing.dumps's.
    from django.core import signing

    from portal.tokens import SALT, LinkRefused, link_read

    data = {"office_id": 3, "debtor_id": 5, "account_id": 8, "message_id": 13}
    with time_machine.travel("2026-11-17 15:00:00+00:00", tick=False):
        token = link_token(**data)
        assert token == signing.dumps({"o": 3, "d": 5, "a": 8, "m": 13}, salt=SALT)
        assert link_read(token).message_id == 13
        old_secret = settings.SECRET_KEY
        settings.SECRET_KEY = "a-new-secret-" + "x" * 40
        settings.SECRET_KEY_FALLBACKS = [old_secret]
        assert link_read(token).debtor_id == 5  # signed with the old key: still good
        fresh = link_token(**data)
        assert fresh != token and fresh == signing.dumps(
            {"o": 3, "d": 5, "a": 8, "m": 13}, salt=SALT
        )
        settings.SECRET_KEY_FALLBACKS = []
        try:
            link_read(token)
        except LinkRefused as refused:
            assert refused.reason == "invalid"
        else:
            raise AssertionError("a link signed with a retired secret was accepted")
