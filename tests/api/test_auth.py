"""Keys, their office, errors and limits: what every endpoint of the API shares."""

import pytest
from django.db import connection

from recovery import services, tenancy
from recovery.models import ApiKey
from tests.api.conftest import assert_error
from tests.factories import AccountFactory, OfficeFactory

RESOURCES = ["creditors", "placements", "accounts", "debtors", "payments", "events"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_no_key_is_a_401_with_the_error_body(api, db, resource):
    error = assert_error(api(None).get(f"/api/v1/{resource}/"), 401, "not_authenticated")
    assert "credentials" in error["message"]


def test_unknown_key_is_a_401(api, db):
    assert_error(api("rk_nope_nope").get("/api/v1/accounts/"), 401, "authentication_failed")


def test_both_header_schemes_work_and_record_last_use(client, office_a, make_key):
    key = make_key(office_a)
    for scheme in ("Bearer", "Api-Key"):
        response = client.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert response.status_code == 200
    with tenancy.office_context(office_a.id):
        assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize("resource", RESOURCES)
def test_revoked_key_is_a_401_everywhere(api, office_a, make_key, resource):
    key = make_key(office_a)
    with tenancy.office_context(office_a.id):
        services.api_key_revoke(api_key=ApiKey.objects.get())
    assert_error(api(key).get(f"/api/v1/{resource}/"), 401, "authentication_failed")


def test_key_of_a_deactivated_office_is_refused(api, office_a, make_key):
    key = make_key(office_a)
    office_a.is_active = False
    office_a.save()
    assert_error(api(key).get("/api/v1/accounts/"), 401)


@pytest.mark.parametrize("resource", RESOURCES)
def test_requests_beyond_the_rate_are_a_429_for_that_key_only(
    api, office_a, make_key, settings, resource
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"},
    }
    key, other = make_key(office_a), make_key(office_a)
    for _ in range(3):
        assert api(key).get(f"/api/v1/{resource}/").status_code == 200
    response = api(key).get(f"/api/v1/{resource}/")
    error = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0 and error["retry_after"] > 0
    assert api(other).get(f"/api/v1/{resource}/").status_code == 200


def test_unknown_filter_values_are_a_400_with_the_field(api, office_a, make_key):
    error = assert_error(api(make_key(office_a)).get("/api/v1/accounts/?status=nope"), 400)
    assert "status" in error["fields"]


@pytest.mark.django_db(transaction=True)
def test_api_requests_run_with_the_office_set_for_row_level_security(client, make_key):
    """Committed rows, a real request transaction, the application role: only with the
    office set in the database (app.office_id) does row-level security let rows through."""
    office = OfficeFactory(slug="api-rls-a")
    other = OfficeFactory(slug="api-rls-b")
    mine = AccountFactory(office=office)
    AccountFactory(office=other)
    key = make_key(office)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == "recovery_app"
    response = client.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [mine.pk]
    # Nothing carried over to the connection after the request.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(current_setting('app.office_id', true), '')")
            assert cursor.fetchone()[0] == ""
