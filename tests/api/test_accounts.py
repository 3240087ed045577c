"""Accounts: list and filter, retrieve with balances, recall; scoping to office and creditor."""

from decimal import Decimal

from accounts.models import Event
from recovery import tenancy
from tests.api.conftest import assert_error
from tests.factories import AccountFactory


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_list_shows_the_offices_accounts_only(api, office_a, world, make_key):
    assert ids(api(make_key(office_a)).get("/api/v1/accounts/")) == {
        world["account_1"].pk,
        world["account_2"].pk,
    }


def test_list_filters_by_status_creditor_balance_and_dates(api, office_a, world, make_key):
    client = api(make_key(office_a))
    url = "/api/v1/accounts/"
    account_1, account_2 = world["account_1"], world["account_2"]
    assert ids(client.get(url, {"creditor": world["creditor_2"].pk})) == {account_2.pk}
    assert ids(client.get(url, {"balance_min": "500"})) == {account_2.pk}
    assert ids(client.get(url, {"balance_max": "300.00"})) == {account_1.pk}
    assert ids(client.get(url, {"status": "new"})) == {account_1.pk, account_2.pk}
    assert ids(client.get(url, {"status": "recalled"})) == set()
    today = account_1.placed_at.date().isoformat()
    assert len(ids(client.get(url, {"placed_after": today, "placed_before": today}))) == 2
    assert ids(client.get(url, {"charge_off_before": "1999-01-01"})) == set()


def test_list_pages_with_a_cursor(api, office_a, world, make_key):
    client = api(make_key(office_a))
    first = client.get("/api/v1/accounts/", {"page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = client.get(first["next"]).json()
    assert {first["results"][0]["id"], second["results"][0]["id"]} == {
        world["account_1"].pk,
        world["account_2"].pk,
    }


def test_retrieve_gives_balances_by_component(api, office_a, world, make_key):
    response = api(make_key(office_a)).get(f"/api/v1/accounts/{world['account_1'].pk}/")
    assert response.status_code == 200
    balances = response.json()["balances"]
    assert balances == {
        "principal": "300.00",
        "interest": "0.00",
        "fees": "0.00",
        "total": "300.00",
        "placed": "300.00",
        "collected": "0.00",
    }
    assert "date_of_birth" not in str(response.json())


def test_another_offices_account_is_a_404(api, office_a, world, make_key):
    client = api(make_key(office_a))
    account_b = world["account_b"].pk
    assert_error(client.get(f"/api/v1/accounts/{account_b}/"), 404, "not_found")
    assert_error(client.post(f"/api/v1/accounts/{account_b}/recall/", {"reason": "x"}), 404)


def test_creditor_key_sees_only_its_creditors_accounts(api, office_a, world, make_key):
    client = api(make_key(office_a, creditor=world["creditor_1"]))
    assert ids(client.get("/api/v1/accounts/")) == {world["account_1"].pk}
    other = world["account_2"].pk
    assert_error(client.get(f"/api/v1/accounts/{other}/"), 404)
    assert_error(client.post(f"/api/v1/accounts/{other}/recall/", {"reason": "x"}), 404)
    assert ids(client.get("/api/v1/accounts/", {"creditor": world["creditor_2"].pk})) == set()


def test_recall_moves_the_account_and_records_the_reason(api, office_a, world, make_key):
    account = world["account_1"]
    response = api(make_key(office_a)).post(
        f"/api/v1/accounts/{account.pk}/recall/", {"reason": "Paid the creditor directly"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "recalled"
    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        assert account.status == "recalled"
        event = Event.objects.get(account=account, kind=Event.Kind.STATUS_CHANGED)
        assert event.data == {
            "from": "new",
            "to": "recalled",
            "reason": "Paid the creditor directly",
        }


def test_recall_needs_a_reason(api, office_a, world, make_key):
    response = api(make_key(office_a)).post(f"/api/v1/accounts/{world['account_1'].pk}/recall/", {})
    error = assert_error(response, 400, "required")
    assert error["fields"] == {"reason": ["This field is required."]}


def test_recalling_twice_is_a_conflict(api, office_a, world, make_key):
    client = api(make_key(office_a))
    url = f"/api/v1/accounts/{world['account_1'].pk}/recall/"
    assert client.post(url, {"reason": "Recalled"}).status_code == 200
    error = assert_error(client.post(url, {"reason": "Recalled"}), 409, "conflict")
    assert "already been recalled" in error["message"]


def test_recall_is_idempotent_with_a_key(api, office_a, world, make_key):
    client = api(make_key(office_a))
    url = f"/api/v1/accounts/{world['account_1'].pk}/recall/"
    first = client.post(url, {"reason": "Recalled"}, HTTP_IDEMPOTENCY_KEY="recall-1")
    again = client.post(url, {"reason": "Recalled"}, HTTP_IDEMPOTENCY_KEY="recall-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with tenancy.office_context(office_a.id):
        assert Event.objects.filter(kind=Event.Kind.STATUS_CHANGED).count() == 1


def test_account_list_query_count_does_not_grow_with_rows(
    api, office_a, world, make_key, django_assert_max_num_queries
):
    client = api(make_key(office_a))
    with django_assert_max_num_queries(12) as few:
        assert len(ids(client.get("/api/v1/accounts/"))) == 2
    for _ in range(8):
        AccountFactory(office=office_a, creditor=world["creditor_1"], opening_balance=Decimal("5"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(client.get("/api/v1/accounts/"))) == 10
