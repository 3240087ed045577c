import pytest

from recovery import services, tenancy
from tests.factories import AccountFactory, CreditorFactory


@pytest.fixture
def make_key():
    """An API key of an office (optionally for one creditor): returns the key itself."""

    def _make(office, creditor=None, name="Test integration"):
        with tenancy.office_context(office.id):
            _api_key, key = services.api_key_create(name=name, creditor=creditor)
        return key

    return _make


@pytest.fixture
def api(client):
    """Call the API with a key: api(key).get(url, ...), .post(url, data, ...)."""

    class _Api:
        def __init__(self, key):
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}

        def get(self, url, data=None, **extra):
            return client.get(url, data, **self.headers, **extra)

        def post(self, url, data=None, **extra):
            return client.post(url, data, content_type="application/json", **self.headers, **extra)

    return _Api


@pytest.fixture
def world(office_a, office_b):
    """Two offices; office A has two creditors with an account each, office B one."""
    creditor_1 = CreditorFactory(office=office_a, name="Lakeside Dental", reference="LD")
    creditor_2 = CreditorFactory(office=office_a, name="Metro Gas", reference="MG")
    return {
        "creditor_1": creditor_1,
        "creditor_2": creditor_2,
        "account_1": AccountFactory(office=office_a, creditor=creditor_1, opening_balance="300.00"),
        "account_2": AccountFactory(office=office_a, creditor=creditor_2, opening_balance="700.00"),
        "account_b": AccountFactory(office=office_b),
    }


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]
