"""Placing accounts by API: one call, the file import's rules, all or nothing."""

from accounts.imports.models import PlacementImport
from accounts.models import Account, Event, Placement, Transaction
from debtors.models import Debtor
from recovery import tenancy
from tests.api.conftest import assert_error


def record(ref, **values):
    base = {
        "creditor_reference": ref,
        "first_name": "Dana",
        "last_name": "Whitfield",
        "date_of_birth": "1984-03-09",
        "ssn_last4": "4821",
        "address1": "12 Harbor Lane",
        "city": "Portland",
        "state": "ME",
        "zip": "04101",
        "phone": "(207) 555-0143",
        "principal": "1180.00",
        "interest": "42.15",
        "fees": "25.00",
        "total_balance": "1247.15",
        "charge_off_date": "2024-11-30",
    }
    return {**base, **values}


def counts(office):
    with tenancy.office_context(office.id):
        return (Placement.objects.count(), Account.objects.count(), Debtor.objects.count())


def test_a_placement_and_its_accounts_in_one_call(api, office_a, world, make_key):
    creditor = world["creditor_1"]
    body = {
        "creditor": creditor.pk,
        "reference": "June batch",
        "accounts": [record("INV-1"), record("INV-2", principal=900, interest="", fees="",
                                               total_balance="")],
    }  # fmt: skip
    response = api(make_key(office_a)).post("/api/v1/placements/", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["reference"] == "June batch" and data["account_count"] == 2
    assert data["total_placed"] == "2147.15"
    assert {a["creditor_reference"] for a in data["accounts"]} == {"INV-1", "INV-2"}
    with tenancy.office_context(office_a.id):
        accounts = Account.objects.filter(placement_id=data["id"])
        # One person with two debts is one debtor; each account opened through the ledger.
        assert len({a.debtor_id for a in accounts}) == 1
        assert Transaction.objects.filter(account__in=accounts, kind="charge").count() == 2
        assert Event.objects.filter(account__in=accounts, kind="placed").count() == 2
        account = accounts.get(creditor_reference="INV-1")
        assert (account.principal_balance, str(account.balance)) == (1180, "1247.15")
        assert account.debtor.contact_points.get(kind="phone").value == "+12075550143"
        # Recorded like a file import, so it can be reviewed and undone the same way.
        assert PlacementImport.objects.get(placement_id=data["id"]).status == "done"


def test_any_bad_account_places_nothing_and_every_problem_is_listed(api, office_a, world, make_key):
    before = counts(office_a)
    body = {
        "creditor": world["creditor_1"].pk,
        "accounts": [
            record("OK-1"),
            record("BAD-1", principal="", total_balance=""),
            record("BAD-2", total_balance="10.00", zip="", phone="12"),
            record("OK-1"),
            record(world["account_1"].creditor_reference),
        ],
    }
    error = assert_error(api(make_key(office_a)).post("/api/v1/placements/", body), 400, "invalid")
    rows = error["fields"]["accounts"]
    assert set(rows) == {"1", "2", "3", "4"}
    assert rows["1"] == {"principal": ["The principal balance is missing."]}
    assert set(rows["2"]) == {"total_balance", "zip", "phone"}
    assert "appears twice" in rows["3"]["creditor_reference"][0]
    assert "already placed" in rows["4"]["creditor_reference"][0]
    assert "nothing was placed" in error["message"]
    assert counts(office_a) == before


def test_shape_errors_are_a_400_with_fields(api, office_a, world, make_key):
    client = api(make_key(office_a))
    error = assert_error(client.post("/api/v1/placements/", {"accounts": []}), 400)
    assert set(error["fields"]) == {"creditor", "accounts"}
    error = assert_error(client.post("/api/v1/placements/", {"creditor": 1, "accounts": "x"}), 400)
    assert "accounts" in error["fields"]


def test_another_offices_or_creditors_creditor_cannot_be_placed_for(
    api, office_a, office_b, world, make_key
):
    from tests.factories import CreditorFactory

    theirs = CreditorFactory(office=office_b)
    body = {"creditor": theirs.pk, "accounts": [record("X-1")]}
    error = assert_error(api(make_key(office_a)).post("/api/v1/placements/", body), 400)
    assert error["fields"] == {"creditor": ["No such creditor."]}
    restricted = api(make_key(office_a, creditor=world["creditor_1"]))
    body["creditor"] = world["creditor_2"].pk
    error = assert_error(restricted.post("/api/v1/placements/", body), 400)
    assert error["fields"] == {"creditor": ["No such creditor."]}
    body["creditor"] = world["creditor_1"].pk
    assert restricted.post("/api/v1/placements/", body).status_code == 201


def test_placements_of_another_office_or_creditor_are_404(api, office_a, office_b, world, make_key):
    from tests.factories import PlacementFactory

    mine = PlacementFactory(office=office_a, creditor=world["creditor_2"])
    theirs = PlacementFactory(office=office_b)
    assert_error(api(make_key(office_a)).get(f"/api/v1/placements/{theirs.pk}/"), 404)
    restricted = api(make_key(office_a, creditor=world["creditor_1"]))
    assert_error(restricted.get(f"/api/v1/placements/{mine.pk}/"), 404)
    assert restricted.get("/api/v1/placements/").json()["results"] == []


def test_a_retry_with_the_same_idempotency_key_places_once(api, office_a, world, make_key):
    client = api(make_key(office_a))
    body = {"creditor": world["creditor_1"].pk, "accounts": [record("IDEM-1")]}
    first = client.post("/api/v1/placements/", body, HTTP_IDEMPOTENCY_KEY="batch-7")
    again = client.post("/api/v1/placements/", body, HTTP_IDEMPOTENCY_KEY="batch-7")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert counts(office_a)[0] == 1
    other = {**body, "accounts": [record("IDEM-2")]}
    error = assert_error(
        client.post("/api/v1/placements/", other, HTTP_IDEMPOTENCY_KEY="batch-7"), 409, "conflict"
    )
    assert "different request" in error["message"]
    assert counts(office_a)[0] == 1
