"""The debtor portal in a real browser, at phone and desktop size, with axe-core run
inside every page (zero violations of WCAG 2.1 A/AA and axe's best practices).

Results never depend on the hour the suite runs: the gate is asked about a fixed
moment (tomorrow 10:00 in New York), and nothing asserted depends on the clock.
"""

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Event
from campaigns.rendering import portal_link
from compliance.models import Dispute
from recovery import tenancy
from tests.compliance.conftest import Scene

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NODE = Path(__file__).resolve().parent / "node"
AXE = NODE / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="session")
def axe_script():
    if not AXE.exists():
        # The npm registry's axe-core, into this folder (bin/install_system_deps does the
        # same for `make test`).
        subprocess.run(
            ["npm", "install", "--prefix", str(NODE), "--no-audit", "--no-fund", "--silent"],
            check=False,
            timeout=300,
        )
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install --prefix {NODE}`")
    return str(AXE)


@pytest.fixture(autouse=True)
def fresh_lockouts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def scene(db):
    from tests.factories import OfficeFactory

    office = OfficeFactory(
        name="Harbor Recovery Partners",
        slug="harbor-portal",
        public_phone="(800) 555-0199",
        public_email="help@harbor.example",
        mailing_address="PO Box 100\nPortland, ME 04101",
        business_hours="Mon–Fri 8am–8pm ET",
    )
    scene = Scene(office)
    with tenancy.office_context(office.id):
        scene.account.office_reference = "HR-100042"
        scene.account.itemization_date = timezone.localdate() - timedelta(days=200)
        scene.account.itemization_amount = scene.account.balance
        scene.account.save()
    return scene


def link_from_email(scene, base):
    """The link exactly as a sent email carries it, pointed at the test server."""
    link = portal_link(
        office_id=scene.office.id, debtor_id=scene.debtor.id, account_id=scene.account.id
    )
    return link.replace(settings.PUBLIC_BASE_URL, base)


def check_page(page, name, axe_script, screenshot):
    """axe-core finds nothing, at phone and desktop size; both are photographed."""
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=axe_script)
        violations = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
            ".violations.map(v => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
            AXE_RULES,
        )
        assert violations == [], f"{name} ({label}): " + json.dumps(violations, indent=1)
        screenshot(page, f"portal-{name}-{label}")
    page.set_viewport_size(PHONE)


def verify(page, last_name="Delgado", dob=("4", "12", "1980")):
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Month").fill(dob[0])
    page.get_by_label("Day").fill(dob[1])
    page.get_by_label("Year").fill(dob[2])
    page.get_by_role("button", name="Continue").click()


def gate_at():
    """Tomorrow 10:00 in New York: inside every window, whatever the hour now."""
    return (timezone.now() + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)


def test_link_verify_overview_and_dispute(phone, live_server, scene, axe_script, screenshot):
    page = phone
    at = gate_at()
    assert scene.decide_one("email", at=at).outcome == "allow"

    page.goto(link_from_email(scene, live_server.url))
    page.wait_for_url("**/p/verify/")
    body = page.locator("body").inner_text()
    assert "HR-100042" not in body and "500.00" not in body
    check_page(page, "verify", axe_script, screenshot)

    verify(page)
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    body = page.locator("body").inner_text()
    assert "$500.00" in body and "Original Bank" in body
    assert "This communication is from a debt collector" in body
    check_page(page, "account", axe_script, screenshot)

    page.get_by_role("link", name="All accounts").click()
    page.wait_for_url("**/p/accounts/")
    check_page(page, "overview", axe_script, screenshot)

    page.get_by_role("link", name="See details and options").click()
    page.get_by_role("link", name="Dispute this debt").click()
    page.wait_for_url("**/dispute/")
    check_page(page, "dispute", axe_script, screenshot)
    # Part of the debt with a wrong amount: the error is announced and linked.
    page.get_by_label("Part of the debt").check()
    page.get_by_label("Amount you dispute").fill("9000")
    page.get_by_label("The amount is wrong").check()
    page.get_by_role("button", name="Send my dispute").click()
    alert = page.get_by_role("alert")
    assert "no more than $500.00" in alert.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    check_page(page, "dispute-error", axe_script, screenshot)

    page.get_by_label("Amount you dispute").fill("120")
    page.get_by_label("Tell us more (optional)").fill("The late fee was charged twice.")
    page.get_by_role("button", name="Send my dispute").click()
    page.wait_for_url("**/dispute/sent/")
    assert "What happens next" in page.locator("body").inner_text()
    check_page(page, "dispute-sent", axe_script, screenshot)

    with tenancy.office_context(scene.office.id):
        dispute = Dispute.objects.get(account=scene.account)
        assert dispute.is_partial and dispute.received_via == "portal"
        assert Event.objects.filter(account=scene.account, kind="dispute").exists()
    decision = scene.decide_one("email", at=at)
    assert decision.outcome == "block" and "F-DISPUTE" in decision.rule_ids


def test_other_pages_are_accessible(phone, live_server, scene, axe_script, screenshot):
    from payments.services import plan_create
    from tests.factories import AccountFactory

    # A second account (to split a payment across) and a plan (to move a payment of).
    AccountFactory(
        office=scene.office,
        debtor=scene.debtor,
        creditor=scene.account.creditor,
        opening_balance="80.00",
    )
    with tenancy.office_context(scene.office.id):
        plan_create(
            account=scene.account,
            count=5,
            frequency="monthly",
            start_date=scene.office.today() + timedelta(days=3),
        )
    page = phone
    page.goto(link_from_email(scene, live_server.url))
    verify(page)
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    for name, path in (
        ("preferences", "/p/preferences/"),
        ("messages", "/p/messages/"),
        ("hardship", f"/p/accounts/{scene.account.id}/hardship/"),
        ("validation", f"/p/accounts/{scene.account.id}/validation/"),
        ("money-help", "/p/help/money/"),
        ("pay-several", "/p/pay/"),
        ("plan-move", f"/p/accounts/{scene.account.id}/plans/"),
    ):
        page.goto(live_server.url + path)
        check_page(page, name, axe_script, screenshot)

    page.goto(live_server.url + "/p/preferences/")
    page.get_by_label("Text message").first.check()
    page.get_by_label("Evenings (5pm to 9pm)").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url("**/p/preferences/?saved=1")
    assert page.get_by_role("status").inner_text().startswith("Saved")

    page.goto(live_server.url + "/p/messages/")
    page.get_by_label("Your message").fill("Can I pay on the 15th of each month?")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/p/messages/?sent=1")
    assert "15th of each month" in page.locator("body").inner_text()
    check_page(page, "messages-sent", axe_script, screenshot)


def test_wrong_identity_three_times_locks(phone, live_server, scene, axe_script, screenshot):
    page = phone
    page.goto(link_from_email(scene, live_server.url))
    for attempt in range(3):
        verify(page, last_name="Smith")
        if attempt < 2:
            assert "didn't match" in page.get_by_role("alert").inner_text()
        if attempt == 0:
            check_page(page, "verify-error", axe_script, screenshot)
    body = page.locator("body").inner_text()
    assert "Online access is paused" in body
    assert "(800) 555-0199" in body
    assert "500.00" not in body and "HR-100042" not in body
    check_page(page, "locked", axe_script, screenshot)
    # The right answer now changes nothing until the pause ends.
    page.goto(link_from_email(scene, live_server.url))
    assert "Online access is paused" in page.locator("body").inner_text()


def test_the_spanish_portal(phone, live_server, scene, axe_script, screenshot):
    page = phone
    page.goto(link_from_email(scene, live_server.url))
    page.get_by_role("button", name="Español").click()
    page.get_by_role("heading", name="Confirme que es usted").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    check_page(page, "verify-es", axe_script, screenshot)
    page.get_by_label("Apellido").fill("Delgado")
    page.get_by_label("Mes").fill("4")
    page.get_by_label("Día", exact=True).fill("12")
    page.get_by_label("Año").fill("1980")
    page.get_by_role("button", name="Continuar").click()
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    body = page.locator("body").inner_text()
    assert "Saldo" in body and "Acreedor original" in body
    assert "Esta comunicación proviene de un cobrador de deudas" in body
    check_page(page, "account-es", axe_script, screenshot)
    page.get_by_role("link", name="Disputar esta deuda").click()
    check_page(page, "dispute-es", axe_script, screenshot)
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Dispute this debt").wait_for()


def test_expired_and_tampered_links_get_a_helpful_page(
    phone, live_server, scene, axe_script, screenshot
):
    page = phone
    response = page.goto(link_from_email(scene, live_server.url)[:-4] + "xyz/")
    assert response.status == 400
    assert "This link doesn't work" in page.locator("body").inner_text()
    check_page(page, "link-refused", axe_script, screenshot)

    page.goto(f"{live_server.url}/p/o/{scene.office.slug}/")
    check_page(page, "office-sign-in", axe_script, screenshot)
    page.get_by_label("Account reference").fill("HR-100042")
    verify(page)
    page.wait_for_url("**/p/accounts/")


@pytest.fixture
def eager_celery(settings):
    from recovery.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_pay_in_full_with_the_demo_gateway(
    phone, live_server, scene, axe_script, screenshot, eager_celery, mailoutbox
):
    page = phone
    page.goto(link_from_email(scene, live_server.url))
    verify(page)
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    page.get_by_role("link", name="Make a payment").click()
    page.wait_for_url("**/pay/")
    body = page.locator("body").inner_text()
    assert "Settle for $450.00" in body and "open until" in body
    check_page(page, "pay", axe_script, screenshot)
    page.get_by_label("Pay the full balance: $500.00").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/pay/demo/**")
    assert "demo" in page.locator("body").inner_text().lower()
    screenshot(page, "portal-demo-checkout-phone")
    page.locator("button[value=pay]").click()
    page.wait_for_url("**/pay/done/")
    body = page.locator("body").inner_text()
    assert "your payment went through" in body
    assert "$0.00" in body
    check_page(page, "pay-done", axe_script, screenshot)
    with tenancy.office_context(scene.office.id):
        scene.account.refresh_from_db()
        assert scene.account.balance == 0
        assert Event.objects.filter(account=scene.account, kind="payment").exists()
    assert any("receipt" in m.subject.lower() for m in mailoutbox)


def test_choose_a_plan_with_autopay(phone, live_server, scene, axe_script, screenshot):
    from payments.models import PaymentPlan

    page = phone
    page.goto(link_from_email(scene, live_server.url))
    verify(page)
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    page.get_by_role("link", name="Set up a payment plan").click()
    page.wait_for_url("**/plans/")
    check_page(page, "plans", axe_script, screenshot)
    page.get_by_label("Pay automatically with a card").check()
    page.get_by_role("button", name="Set up this plan").click()
    # The demo gateway's page saves the card and records the authorisation.
    page.wait_for_url("**/pay/demo/**")
    screenshot(page, "portal-demo-save-card-phone")
    page.locator("button[value=save]").click()
    page.wait_for_url("**/plans/?autopay=1")
    body = page.locator("body").inner_text()
    assert "automatic payments" in body and "Upcoming payments" in body
    check_page(page, "plan-created", axe_script, screenshot)
    with tenancy.office_context(scene.office.id):
        plan = PaymentPlan.objects.get(account=scene.account)
        assert plan.autopay and plan.status == "active" and plan.payment_method_id


def test_the_spanish_pay_flow(phone, live_server, scene, axe_script, screenshot, eager_celery):
    page = phone
    page.goto(link_from_email(scene, live_server.url))
    page.get_by_role("button", name="Español").click()
    page.get_by_label("Apellido").fill("Delgado")
    page.get_by_label("Mes").fill("4")
    page.get_by_label("Día", exact=True).fill("12")
    page.get_by_label("Año").fill("1980")
    page.get_by_role("button", name="Continuar").click()
    page.wait_for_url(f"**/p/accounts/{scene.account.id}/")
    page.get_by_role("link", name="Hacer un pago").click()
    page.wait_for_url("**/pay/")
    assert "Liquidar con $450.00" in page.locator("body").inner_text()
    check_page(page, "pay-es", axe_script, screenshot)
    page.get_by_label("Pagar otra cantidad").check()
    page.get_by_label("Cantidad", exact=True).fill("5")
    page.get_by_role("button", name="Continuar al pago").click()
    assert "Escriba una cantidad de" in page.get_by_role("alert").inner_text()
    page.get_by_label("Cantidad", exact=True).fill("100")
    page.get_by_role("button", name="Continuar al pago").click()
    page.wait_for_url("**/pay/demo/**")
    page.locator("button[value=pay]").click()
    page.wait_for_url("**/pay/done/")
    assert "Gracias: su pago se realizó" in page.locator("body").inner_text()
    check_page(page, "pay-done-es", axe_script, screenshot)
