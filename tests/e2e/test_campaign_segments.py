"""The segment builder in a browser: a manager builds (state NY or state MA) and a
balance of at least 500, watches the live count follow, and saves the tree."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from debtors.services import contact_point_add
from recovery import tenancy
from tests.e2e.test_agent_flow import log_in
from tests.factories import AccountFactory, DebtorFactory, MembershipFactory, OfficeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def account_in(office, state, balance):
    debtor = DebtorFactory(office=office)
    with tenancy.office_context(office.id):
        contact_point_add(debtor=debtor, kind="address", value=f"1 Main St, {state}",
                          source="placement", line1="1 Main St", city="Town", state=state,
                          postal_code="10001")  # fmt: skip
    return AccountFactory(office=office, debtor=debtor, opening_balance=balance)


def test_manager_builds_a_nested_segment_and_the_count_follows(page, live_server, screenshot):
    office = OfficeFactory(name="Harbor Recovery Partners", slug="harbor-seg-e2e")
    manager = MembershipFactory(office=office, role="manager")
    account_in(office, "NY", "900.00")
    account_in(office, "MA", "700.00")
    account_in(office, "MA", "100.00")
    account_in(office, "CA", "900.00")

    log_in(page, live_server.url, manager.user.email)
    page.wait_for_url(f"**/o/{office.slug}/")
    page.goto(f"{live_server.url}/o/{office.slug}/campaigns/new/")
    page.get_by_role("textbox", name="Name").fill("Northeast")
    count = page.locator("#segment-count")
    page.get_by_label("Balance from").fill("500")
    expect(count).to_contain_text("3 open accounts match today")

    builder = page.locator("[data-segment-builder]")
    builder.get_by_role("button", name="+ Group").click()
    group = builder.locator(".seg-group--depth-2")
    expect(group.get_by_label("This group matches")).to_have_value("or")
    group.get_by_label("Condition", exact=True).select_option(label="State")
    group.get_by_label("State", exact=True).fill("NY")
    group.get_by_role("button", name="+ Condition").click()
    group.get_by_label("Condition", exact=True).nth(1).select_option(label="State")
    group.get_by_label("State", exact=True).nth(1).fill("MA")
    expect(count).to_contain_text("2 open accounts match today")
    screenshot(page, "campaign-segment-builder")

    first = page.locator("fieldset.step-form").nth(0)
    first.get_by_label("Email", exact=True).check()
    page.get_by_role("button", name="Save campaign").click()
    page.get_by_text("Campaign saved.").wait_for()
    with tenancy.office_context(office.id):
        segment = Campaign.objects.get(name="Northeast").entry_segment
    assert segment == {
        "op": "and",
        "rules": [
            {"field": "balance", "min": "500"},
            {
                "op": "or",
                "rules": [
                    {"field": "state", "values": ["NY"]},
                    {"field": "state", "values": ["MA"]},
                ],
            },
        ],
    }
