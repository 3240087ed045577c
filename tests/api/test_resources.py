"""Creditors, debtors, payments and the timeline: office and creditor scoping, input
errors, idempotent creates, and list query counts that do not grow with rows."""

from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Creditor
from payments.models import Payment
from recovery import tenancy
from tests.api.conftest import assert_error
from tests.factories import AccountFactory


def payment_for(account, amount="50.00"):
    with tenancy.office_context(account.office_id):
        return Payment.objects.create(
            account=account,
            debtor_id=account.debtor_id,
            amount=Decimal(amount),
            currency="USD",
            method="check",
            gateway="offline",
            status="succeeded",
            idempotency_key=f"test-{account.pk}-{amount}",
        )


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# ---------- creditors


def test_creditors_list_retrieve_and_create(api, office_a, world, make_key):
    client = api(make_key(office_a))
    assert {c["reference"] for c in results(client.get("/api/v1/creditors/"))} == {"LD", "MG"}
    one = client.get(f"/api/v1/creditors/{world['creditor_1'].pk}/").json()
    assert one["name"] == "Lakeside Dental"
    response = client.post(
        "/api/v1/creditors/",
        {"name": "Harbor Water", "reference": "HW", "remittance_frequency": "weekly"},
    )
    assert response.status_code == 201, response.content
    with tenancy.office_context(office_a.id):
        assert Creditor.objects.get(reference="HW").allocation_order == [
            "fees",
            "interest",
            "principal",
        ]


def test_creditor_create_bad_input_is_a_400_per_field(api, office_a, world, make_key):
    body = {
        "name": "",
        "reference": "ld",
        "contingency_fee_rate": "1.5",
        "remittance_frequency": "daily",
    }
    error = assert_error(api(make_key(office_a)).post("/api/v1/creditors/", body), 400)
    assert set(error["fields"]) == {
        "name",
        "reference",
        "contingency_fee_rate",
        "remittance_frequency",
    }


def test_creditor_create_is_idempotent_with_a_key(api, office_a, world, make_key):
    client = api(make_key(office_a))
    body = {"name": "Harbor Water", "reference": "HW"}
    first = client.post("/api/v1/creditors/", body, HTTP_IDEMPOTENCY_KEY="c-1")
    again = client.post("/api/v1/creditors/", body, HTTP_IDEMPOTENCY_KEY="c-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert_error(
        client.post("/api/v1/creditors/", {**body, "name": "Other"}, HTTP_IDEMPOTENCY_KEY="c-1"),
        409,
    )
    with tenancy.office_context(office_a.id):
        assert Creditor.objects.filter(reference="HW").count() == 1


def test_idempotency_keys_belong_to_one_api_key(api, office_a, world, make_key):
    body = {"name": "Harbor Water", "reference": "HW"}
    assert (
        api(make_key(office_a))
        .post("/api/v1/creditors/", body, HTTP_IDEMPOTENCY_KEY="k")
        .status_code
        == 201
    )
    # Another integration's key with the same header value does its own work (here: refused).
    response = api(make_key(office_a)).post("/api/v1/creditors/", body, HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 400)


def test_creditors_of_another_office_or_creditor_are_404(api, office_a, world, make_key):
    from tests.factories import CreditorFactory

    theirs = CreditorFactory(office=world["account_b"].office)
    assert_error(api(make_key(office_a)).get(f"/api/v1/creditors/{theirs.pk}/"), 404)
    restricted = api(make_key(office_a, creditor=world["creditor_1"]))
    assert [c["id"] for c in results(restricted.get("/api/v1/creditors/"))] == [
        world["creditor_1"].pk
    ]
    assert_error(restricted.get(f"/api/v1/creditors/{world['creditor_2'].pk}/"), 404)
    assert_error(restricted.post("/api/v1/creditors/", {"name": "X", "reference": "X"}), 403)


# ---------- debtors


def test_debtors_never_show_identity_fields(api, office_a, world, make_key):
    rows = results(api(make_key(office_a)).get("/api/v1/debtors/"))
    assert len(rows) == 2
    text = str(rows)
    for secret in ("date_of_birth", "ssn", "1980-04-12", "1234", "bidx"):
        assert secret not in text
    assert set(rows[0]) == {
        "id", "kind", "first_name", "last_name", "business_name", "language", "created_at",
        "references", "accounts",
    }  # fmt: skip


def test_creditor_key_sees_only_debtors_of_its_accounts(api, office_a, world, make_key):
    debtor_1, debtor_2 = world["account_1"].debtor, world["account_2"].debtor
    # Debtor 2 also owes creditor 1: the key sees them, but only creditor 1's account.
    shared = AccountFactory(office=office_a, creditor=world["creditor_1"], debtor=debtor_2)
    client = api(make_key(office_a, creditor=world["creditor_1"]))
    rows = {r["id"]: r for r in results(client.get("/api/v1/debtors/"))}
    assert set(rows) == {debtor_1.pk, debtor_2.pk}
    assert rows[debtor_2.pk]["accounts"] == [shared.pk]
    lone = AccountFactory(office=office_a, creditor=world["creditor_2"]).debtor
    assert_error(client.get(f"/api/v1/debtors/{lone.pk}/"), 404)
    assert_error(
        api(make_key(office_a)).get(f"/api/v1/debtors/{world['account_b'].debtor_id}/"), 404
    )


def test_debtors_filter_by_the_creditors_customer_id(api, office_a, world, make_key):
    from debtors.models import DebtorReference

    with tenancy.office_context(office_a.id):
        DebtorReference.objects.create(
            debtor=world["account_1"].debtor, creditor=world["creditor_1"], reference="CUST-9"
        )
    rows = results(api(make_key(office_a)).get("/api/v1/debtors/", {"reference": "CUST-9"}))
    assert [r["id"] for r in rows] == [world["account_1"].debtor_id]
    assert rows[0]["references"] == [{"creditor": world["creditor_1"].pk, "reference": "CUST-9"}]


# ---------- payments


def test_payments_are_scoped_to_office_and_creditor(api, office_a, world, make_key):
    mine, other = payment_for(world["account_1"]), payment_for(world["account_2"])
    theirs = payment_for(world["account_b"])
    client = api(make_key(office_a))
    assert {p["id"] for p in results(client.get("/api/v1/payments/"))} == {mine.pk, other.pk}
    assert client.get(f"/api/v1/payments/{mine.pk}/").json()["amount"] == "50.00"
    assert_error(client.get(f"/api/v1/payments/{theirs.pk}/"), 404)
    restricted = api(make_key(office_a, creditor=world["creditor_1"]))
    assert [p["id"] for p in results(restricted.get("/api/v1/payments/"))] == [mine.pk]
    assert_error(restricted.get(f"/api/v1/payments/{other.pk}/"), 404)
    assert (
        results(client.get("/api/v1/payments/", {"account": world["account_2"].pk}))[0]["id"]
        == other.pk
    )
    assert_error(client.get("/api/v1/payments/", {"received_after": "not a date"}), 400)


# ---------- the timeline


def test_events_filter_by_account_and_kind_and_respect_scoping(api, office_a, world, make_key):
    with tenancy.office_context(office_a.id):
        account_services.note_add(account=world["account_1"], body="Called", author=None)
    client = api(make_key(office_a))
    placed = results(client.get("/api/v1/events/", {"kind": "placed"}))
    assert {e["account"] for e in placed} == {world["account_1"].pk, world["account_2"].pk}
    notes = results(
        client.get("/api/v1/events/", {"account": world["account_1"].pk, "kind": "note"})
    )
    assert [e["summary"] for e in notes] == ["Note added"]
    restricted = api(make_key(office_a, creditor=world["creditor_2"]))
    assert {e["account"] for e in results(restricted.get("/api/v1/events/"))} == {
        world["account_2"].pk
    }
    assert_error(restricted.get(f"/api/v1/events/{notes[0]['id']}/"), 404)
    b_event = results(api(make_key(world["account_b"].office)).get("/api/v1/events/"))[0]["id"]
    assert_error(client.get(f"/api/v1/events/{b_event}/"), 404)
    assert_error(client.get("/api/v1/events/", {"kind": "nope"}), 400)


def test_timeline_date_filters_take_any_iso_offset_and_refuse_the_out_of_range(
    api, office_a, world, make_key
):
    """ISO 8601 allows UTC offsets PostgreSQL does not (beyond ±15:59): the filter takes
    them to UTC and finds the same events; a date that leaves the calendar is a 400."""
    client = api(make_key(office_a))
    everything = results(client.get("/api/v1/events/"))
    assert everything
    far_east = results(
        client.get("/api/v1/events/", {"occurred_after": "2000-01-01T00:00:00+22:24"})
    )
    assert [e["id"] for e in far_east] == [e["id"] for e in everything]
    assert (
        results(client.get("/api/v1/events/", {"occurred_before": "2000-01-01T00:00:00-22:24"}))
        == []
    )
    response = client.get("/api/v1/events/", {"occurred_after": "0001-01-01T00:00:00+23:00"})
    assert_error(response, 400)
    assert "out of range" in response.content.decode()
    assert_error(
        client.get("/api/v1/payments/", {"received_after": "0001-01-01T01:00:00+02:00"}), 400
    )


# ---------- no N+1 on any list


@pytest.mark.parametrize(
    "resource", ["creditors", "placements", "accounts", "debtors", "payments", "events"]
)
def test_list_query_count_does_not_grow_with_rows(
    api, office_a, world, make_key, django_assert_max_num_queries, resource
):
    from tests.factories import CreditorFactory, PlacementFactory

    client = api(make_key(office_a))

    def grow():
        creditor = CreditorFactory(office=office_a)
        placement = PlacementFactory(office=office_a, creditor=creditor)
        account = AccountFactory(office=office_a, creditor=creditor, placement=placement)
        payment_for(account)

    grow()
    with django_assert_max_num_queries(15) as few:
        assert results(client.get(f"/api/v1/{resource}/"))
    for _ in range(5):
        grow()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert results(client.get(f"/api/v1/{resource}/"))
