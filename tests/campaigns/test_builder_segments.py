"""Entry segments compile to one Q: each field, and/or, and "days since" relative to a day."""

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from campaigns import services
from campaigns.builder.segments import SegmentError, segment_check, segment_q
from campaigns.models import AccountScore, Campaign
from debtors.services import contact_point_add
from recovery import tenancy
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory, MembershipFactory

TODAY = date(2026, 3, 1)


def matching(office, segment, as_of=TODAY):
    with tenancy.office_context(office.id):
        return set(
            Account.objects.filter(segment_q(segment, as_of=as_of)).values_list(
                "office_reference", flat=True
            )
        )


def one(field, **rule):
    return {"op": "and", "rules": [{"field": field, **rule}]}


@pytest.fixture
def book(office_a):
    creditor = CreditorFactory(office=office_a)
    spanish = DebtorFactory(office=office_a, language="es")
    with tenancy.office_context(office_a.id):
        contact_point_add(
            debtor=spanish,
            kind="address",
            value="1 Main St, Albany, NY 12207",
            source="placement",
            line1="1 Main St",
            city="Albany",
            state="NY",
            postal_code="12207",
        )
    placed = timezone.make_aware(timezone.datetime(2026, 1, 1, 12))
    small = AccountFactory(
        office=office_a, office_reference="SMALL", opening_balance="50.00", placed_at=placed
    )
    big = AccountFactory(
        office=office_a,
        office_reference="BIG",
        opening_balance="5000.00",
        creditor=creditor,
        debtor=spanish,
        placed_at=placed - timedelta(days=200),
    )
    mid = AccountFactory(
        office=office_a, office_reference="MID", opening_balance="800.00", placed_at=placed
    )
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=small.pk).update(
            charge_off_date=date(2025, 1, 1),
            last_payment_date=date(2026, 2, 20),
            tags=["medical"],
            governing_law_state="CA",
            debt_type="commercial",
        )
        Account.objects.filter(pk=big.pk).update(status="active", tags=["auto", "vip"])
        Account.objects.filter(pk=mid.pk).update(charge_off_date=date(2025, 12, 1))
    return {"creditor": creditor}


def test_each_field_selects_the_accounts_it_names(office_a, book):
    assert matching(office_a, one("creditor", values=[book["creditor"].pk])) == {"BIG"}
    assert matching(office_a, one("balance", min="100", max="1000")) == {"MID"}
    assert matching(office_a, one("balance", min="1000")) == {"BIG"}
    # Placed Jan 1 2026: 59 days before Mar 1; BIG 200 days earlier.
    assert matching(office_a, one("days_since_placement", min=30, max=90)) == {"SMALL", "MID"}
    assert matching(office_a, one("days_since_placement", min=59)) == {"SMALL", "MID", "BIG"}
    assert matching(office_a, one("days_since_placement", min=60, max=100)) == set()
    assert matching(office_a, one("days_since_charge_off", min=365)) == {"SMALL"}
    assert matching(office_a, one("days_since_charge_off", max=100)) == {"MID"}
    # Never paid counts as "at least N days since the last payment".
    assert matching(office_a, one("days_since_last_payment", min=30)) == {"BIG", "MID"}
    assert matching(office_a, one("days_since_last_payment", max=15)) == {"SMALL"}
    assert matching(office_a, one("state", values=["ny"])) == {"BIG"}  # by address
    assert matching(office_a, one("state", values=["CA"])) == {"SMALL"}  # governing law
    assert matching(office_a, one("language", values=["es"])) == {"BIG"}
    assert matching(office_a, one("debt_type", values=["commercial"])) == {"SMALL"}
    assert matching(office_a, one("status", values=["active"])) == {"BIG"}
    assert matching(office_a, one("tags", values=["vip", "medical"])) == {"BIG", "SMALL"}


def test_and_or_and_nested_groups_combine(office_a, book):
    cheap = {"field": "balance", "max": "900"}
    vip = {"field": "tags", "values": ["vip"]}
    assert matching(office_a, {"op": "and", "rules": [cheap, vip]}) == set()
    assert matching(office_a, {"op": "or", "rules": [cheap, vip]}) == {"SMALL", "MID", "BIG"}
    nested = {
        "op": "and",
        "rules": [
            {"field": "days_since_placement", "min": 30},
            {"op": "or", "rules": [{"field": "tags", "values": ["medical"]}, vip]},
        ],
    }
    assert matching(office_a, nested) == {"SMALL", "BIG"}


def test_days_since_rules_move_with_the_day_they_are_asked_for(office_a, book):
    segment = one("days_since_placement", min=90)
    assert matching(office_a, segment) == {"BIG"}
    assert matching(office_a, segment, as_of=TODAY + timedelta(days=31)) == {"BIG", "SMALL", "MID"}


def test_an_empty_segment_matches_nothing_and_bad_ones_say_why(office_a, book):
    assert matching(office_a, {}) == set()
    assert "minimum is above the maximum" in segment_check(one("balance", min="10", max="5"))
    assert "not a number" in segment_check(one("balance", min="lots"))
    assert "Unknown segment field" in segment_check(one("shoe_size", values=[9]))
    with pytest.raises(SegmentError):
        segment_q({"op": "xor", "rules": [{"field": "balance", "min": 1}]})


def test_a_group_of_states_or_ed_inside_an_and(office_a, book):
    either_state = {
        "op": "or",
        "rules": [{"field": "state", "values": ["CA"]}, {"field": "state", "values": ["NY"]}],
    }
    big = {"field": "balance", "min": "500"}
    assert matching(office_a, {"op": "and", "rules": [either_state, big]}) == {"BIG"}
    assert matching(office_a, {"op": "or", "rules": [either_state, big]}) == {
        "SMALL",
        "BIG",
        "MID",
    }


def test_bad_trees_say_where_the_problem_is():
    ok = {"field": "balance", "min": "1"}
    empty_group = {"op": "and", "rules": [ok, {"op": "or", "rules": []}]}
    assert (
        segment_check(empty_group) == "Group 2: this group is empty: add a condition or remove it."
    )
    inner = {"op": "or", "rules": [ok, {"field": "balance", "min": "9", "max": "2"}]}
    assert (
        segment_check({"op": "and", "rules": [inner]})
        == "Group 1, condition 2: Balance: the minimum is above the maximum."
    )
    too_deep = {"op": "and", "rules": [{"op": "or", "rules": [{"op": "and", "rules": [
        {"op": "or", "rules": [ok]}]}]}]}  # fmt: skip
    assert "nest 2 deep at most" in segment_check(too_deep)
    assert segment_check({"op": "and", "rules": [ok, "balance > 5"]}) == (
        "Condition 2 could not be read; set it again."
    )
    assert segment_check(one("creditor", values=["ACME"])) == (
        "Creditor: choose creditors from the list."
    )
    assert "Choose what the condition is about" in segment_check({"op": "and", "rules": [{}]})
    assert "could not be read" in segment_check(["not", "a", "tree"])


def test_the_live_count_counts_this_offices_open_accounts(client, office_a, office_b, book):
    AccountFactory(office=office_b, opening_balance="900.00")
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    url = f"/o/{office_a.slug}/campaigns/segment-count/"
    segment = json.dumps({"op": "and", "rules": [{"field": "balance", "min": "500"}]})
    html = client.post(url, {"segment": segment}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="segment-count">2</strong> open accounts match today' in html
    bad = json.dumps({"op": "and", "rules": [{"field": "balance", "min": "9", "max": "1"}]})
    html = client.post(url, {"segment": bad}, HTTP_HX_REQUEST="true").content.decode()
    assert "the minimum is above the maximum" in html
    html = client.post(url, {"segment": "{oops"}, HTTP_HX_REQUEST="true").content.decode()
    assert "could not be read" in html
    html = client.post(url, {"segment": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "Add a condition" in html
    assert client.post(url, {"segment": segment}).status_code == 404  # htmx only


def test_the_campaign_form_keeps_a_nested_segment_and_shows_its_errors(client, office_a, book):
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    url = f"/o/{office_a.slug}/campaigns/new/"
    base = {
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "name": "Northeast",
        "steps-0-channels": ["email"],
    }
    either = {"op": "or", "rules": [one("state", values=["MA"])["rules"][0],
                                    one("state", values=["NY"])["rules"][0]]}  # fmt: skip
    bad = {"op": "and", "rules": [either, {"field": "balance", "min": "x"}]}
    page = client.post(url, {**base, "segment": json.dumps(bad)}).content.decode()
    assert "Condition 2: Balance: “x” is not a number." in page
    assert "builder" in page and "segment-builder.js" in page  # the script is served
    page = client.post(url, {**base, "segment": "[1, 2"}).content.decode()
    assert "The entry conditions could not be read" in page
    good = {"op": "and", "rules": [either, {"field": "balance", "min": "500"}]}
    response = client.post(url, {**base, "segment": json.dumps(good)})
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.get(name="Northeast")
        assert campaign.entry_segment == good
        assert list(services.entrants(campaign).values_list("office_reference", flat=True)) == [
            "BIG"
        ]
    detail = client.get(response["Location"]).content.decode()
    assert "(State: MA or State: NY) and Balance at least 500" in detail
    edit = client.get(response["Location"] + "edit/").content.decode()
    assert "&quot;MA&quot;" in edit  # the tree is handed back to the builder as it was


def test_score_bands_match_scored_accounts_only_and_say_how_many_have_none(client, office_a, book):
    with tenancy.office_context(office_a.id):
        for reference, score in (("BIG", 85), ("MID", 79)):
            AccountScore.objects.create(
                account=Account.objects.get(office_reference=reference), score=score
            )
    assert matching(office_a, one("score_band", values=["A"])) == {"BIG"}
    assert matching(office_a, one("score_band", values=["B", "C"])) == {"MID"}
    assert matching(office_a, one("score_band", values=["D"])) == set()  # SMALL has none
    assert segment_check(one("score_band", values=["E"])) == (
        "Unknown score band: E. Choose from A, B, C, D."
    )
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    segment = json.dumps(one("score_band", values=["A", "B"]))
    html = client.post(
        f"/o/{office_a.slug}/campaigns/segment-count/", {"segment": segment}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="segment-count">2</strong>' in html
    assert "1 account has no score yet" in html
