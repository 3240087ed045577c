"""A manager builds a two-step campaign in the browser, previews it as a debtor would
receive it, and activates it."""

import pytest
from playwright.sync_api import expect

from campaigns.library import starter_templates_create
from debtors.services import contact_point_add
from recovery import tenancy
from tests.e2e.test_agent_flow import log_in
from tests.factories import AccountFactory, DebtorFactory, MembershipFactory, OfficeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_builds_previews_and_activates_a_campaign(page, live_server, screenshot):
    office = OfficeFactory(
        name="Harbor Recovery Partners", slug="harbor-cmp-e2e", public_phone="(212) 555-0142"
    )
    manager = MembershipFactory(office=office, role="manager", user__full_name="Mia Manager")
    starter_templates_create(office=office)
    debtor = DebtorFactory(office=office, first_name="Rosa", last_name="Delgado", language="es")
    with tenancy.office_context(office.id):
        contact_point_add(debtor=debtor, kind="email", value="rosa@example.com", source="debtor")
    AccountFactory(
        office=office, debtor=debtor, office_reference="HR-100042", opening_balance="1250.75"
    )
    AccountFactory(office=office, office_reference="HR-100043", opening_balance="40.00")

    log_in(page, live_server.url, manager.user.email)
    page.wait_for_url(f"**/o/{office.slug}/")
    page.get_by_role("link", name="Campaigns").first.click()
    page.wait_for_url("**/campaigns/")
    page.get_by_role("link", name="New campaign").first.click()

    page.get_by_role("textbox", name="Name").fill("Spring reminders")
    page.get_by_label("Balance from").fill("100")
    first = page.locator("fieldset.step-form").nth(0)
    first.get_by_label("Email", exact=True).check()
    first.get_by_label("Email template").select_option(label="Friendly reminder · EN")
    second = page.locator("fieldset.step-form").nth(1)
    second.get_by_label("Wait (days)").fill("7")
    second.get_by_label("SMS", exact=True).check()
    second.get_by_label("SMS template").select_option(label="Offer of a payment plan · EN")
    second.get_by_label("a promise to pay is open").check()
    page.get_by_role("button", name="Save campaign").click()

    page.get_by_text("Campaign saved.").wait_for()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring reminders")
    page.get_by_role("link", name="Preview").click()
    page.wait_for_url("**/preview/")
    expect(page.get_by_test_id("enter-today")).to_have_text("1")
    body = page.locator("body").inner_text()
    assert "Hola Rosa" in body  # the Spanish variant, for a Spanish-speaking debtor
    assert "1,250.75" in body
    screenshot(page, "campaign-preview")

    page.get_by_role("button", name="Activate").click()
    page.get_by_text("is active").wait_for()
    expect(page.locator("h1 .badge")).to_have_text("Active")
    screenshot(page, "campaign-activated")
