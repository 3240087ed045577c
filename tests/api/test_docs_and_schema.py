"""The OpenAPI schema, its docs served from our own static files, and a schemathesis run
against the schema that must find no server error."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from recovery import services, tenancy
from recovery.wsgi import application
from tests.factories import AccountFactory, CreditorFactory, OfficeFactory


def test_schema_describes_every_resource_with_examples(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    for resource in ("creditors", "placements", "accounts", "debtors", "payments", "events"):
        assert f"/api/v1/{resource}/" in schema["paths"]
    assert "/api/v1/accounts/{id}/recall/" in schema["paths"]
    placement = schema["paths"]["/api/v1/placements/"]["post"]
    assert placement["requestBody"]["content"]["application/json"]["examples"]
    assert "409" in placement["responses"] and "429" in placement["responses"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "date_of_birth" not in str(schema["components"]["schemas"].get("Debtor"))


def test_docs_are_served_by_the_app_with_no_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # No asset from elsewhere: no URL with a host (a CDN or any other), in any attribute
    # or script. (Not a bare "cdn" substring: the page's random CSRF token can hold one.)
    assert not re.search(r"(?:https?:)?//[\w.-]*\.[a-z]{2,}", html.lower())
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


# ---------- schemathesis


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Calling the WSGI app directly (as schemathesis does) would close the database
    connection at the end of each request, and the test's transaction with it; Django's
    own test client disconnects the same signal handlers."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def fuzz_key(db, wsgi_keeps_the_test_connection):
    office = OfficeFactory(slug="fuzz")
    creditor = CreditorFactory(office=office, reference="FZ")
    AccountFactory(office=office, creditor=creditor)
    with tenancy.office_context(office.id):
        _api_key, key = services.api_key_create(name="schemathesis")
    return key


def test_the_api_never_answers_a_server_error(fuzz_key):
    """Every operation of the schema, with valid and invalid input (bounded, so the run
    stays well under a minute): 2xx/4xx only, never a 5xx."""
    api_schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    headers = {"Authorization": f"Bearer {fuzz_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=4,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                response = case.call(headers=headers)
                assert response.status_code < 500, (
                    case.method,
                    case.formatted_path,
                    response.text[:300],
                )

            check()
