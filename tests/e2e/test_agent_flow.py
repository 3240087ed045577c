"""An agent's first day, in a real browser: log in, find an account, read it, add a
note; an outsider sees nothing of it."""

import pytest
from playwright.sync_api import expect

from debtors.services import contact_point_add
from recovery import tenancy
from tests.factories import PASSWORD, AccountFactory, DebtorFactory, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base, email):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_agent_finds_an_account_reads_it_and_adds_a_note(page, live_server, screenshot):
    from tests.factories import OfficeFactory

    office = OfficeFactory(name="Harbor Recovery Partners", slug="harbor-e2e")
    agent = MembershipFactory(office=office, role="agent", user__full_name="Ana Agent")
    debtor = DebtorFactory(office=office, first_name="Rosa", last_name="Delgado")
    with tenancy.office_context(office.id):
        contact_point_add(debtor=debtor, kind="phone", value="(312) 555-0147", source="placement")
    account = AccountFactory(
        office=office, debtor=debtor, office_reference="HR-100042", opening_balance="1250.75"
    )
    for n in range(3):  # named so that a search for "Delgado" can never match them
        other = DebtorFactory(office=office, first_name="Sam", last_name=f"Other{n}")
        AccountFactory(office=office, debtor=other, office_reference=f"HR-2000{n}")

    log_in(page, live_server.url, agent.user.email)
    page.wait_for_url(f"**/o/{office.slug}/")
    page.get_by_role("link", name="Accounts").first.click()
    page.wait_for_url("**/accounts/")
    expect(page.get_by_role("row").filter(has_text="HR-20001")).to_have_count(1)
    page.get_by_role("searchbox").fill("Delgado")
    # The list narrows as the agent types (htmx), without a page load.
    expect(page.get_by_role("row").filter(has_text="HR-20001")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="HR-100042")
    expect(row).to_have_count(1)
    screenshot(page, "account-list-search")

    row.get_by_role("link").first.click()
    page.wait_for_url(f"**/accounts/{account.pk}/")
    body = page.locator("body")
    assert "1,250.75" in body.inner_text()
    assert "+13125550147" in body.inner_text() or "(312) 555-0147" in body.inner_text()
    assert "1980-04-12" not in body.inner_text()  # date of birth never shown

    page.get_by_label("Note").fill("Asked for a call after 6pm; prefers Spanish.")
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Note saved.").wait_for()
    assert "prefers Spanish" in page.locator("body").inner_text()
    screenshot(page, "account-detail")


def test_outsider_sees_a_404_page(page, live_server):
    from tests.factories import OfficeFactory

    office_a = OfficeFactory(slug="a-e2e")
    office_b = OfficeFactory(slug="b-e2e")
    account = AccountFactory(office=office_a)
    outsider = MembershipFactory(office=office_b, role="admin")
    log_in(page, live_server.url, outsider.user.email)
    page.wait_for_url(f"**/o/{office_b.slug}/")
    for url in (
        f"/o/{office_a.slug}/accounts/{account.pk}/",
        f"/o/{office_b.slug}/accounts/{account.pk}/",
    ):
        response = page.goto(live_server.url + url)
        assert response.status == 404
        assert account.office_reference not in page.locator("body").inner_text()
