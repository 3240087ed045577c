"""The money actions as staff use them: record a check (and see the errors when a field
is wrong), take a payment through the demo gateway's page, refund as a manager only."""

from decimal import Decimal

import pytest
from django.core import mail

from payments.models import Payment
from recovery import tenancy
from recovery.models import Role
from tests.factories import MembershipFactory


def login(client, office, role):
    membership = MembershipFactory(office=office, role=role)
    client.force_login(membership.user)
    return membership.user


def url(scene, name):
    return f"/o/{scene.office.slug}/payments/accounts/{scene.account.pk}/{name}/"


def balance(scene):
    with tenancy.office_context(scene.office.id):
        scene.account.refresh_from_db()
        return scene.account.balance


@pytest.mark.django_db
def test_an_agent_records_a_check_by_phone_and_bad_numbers_are_explained(client, scene):
    login(client, scene.office, Role.AGENT)
    form = {
        "amount": "120",
        "method": "check_by_phone",
        "received_on": "2026-11-01",
        "routing_number": "123456789",
        "account_last4": "12",
        "check_number": "",
    }
    page = client.post(url(scene, "record"), form)
    assert page.status_code == 200
    text = page.content.decode()
    assert "That routing number is not valid" in text
    assert "Enter exactly the last 4 digits" in text
    assert "Enter the check number" in text
    assert balance(scene) == Decimal("500.00")
    form.update(routing_number="021000021", account_last4="6789", check_number="1042")
    done = client.post(url(scene, "record"), form)
    assert done.status_code == 302 and done.url.endswith("#payments")
    assert balance(scene) == Decimal("380.00")
    account_page = client.get(done.url.split("#")[0]).content.decode()
    assert "Check by phone #1042" in account_page


@pytest.mark.django_db
def test_a_demo_payment_goes_through_its_labelled_page_and_sends_a_receipt(
    daytime, client, scene, django_capture_on_commit_callbacks
):
    login(client, scene.office, Role.AGENT)
    ready = client.post(url(scene, "link"), {"amount": "75.25"})
    assert ready.status_code == 200
    assert "Demo gateway — no real money moves" in ready.content.decode()
    link = ready.context["start"].redirect_url
    page = client.get(link)
    assert "Demo gateway" in page.content.decode() and "$75.25" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(link, {"action": "pay"})
    assert paid.status_code == 302
    assert balance(scene) == Decimal("424.75")
    assert mail.outbox[-1].subject.startswith("Receipt: your payment of $75.25")
    # The page cannot be paid twice.
    again = client.post(link, {"action": "pay"})
    assert again.status_code == 302 and balance(scene) == Decimal("424.75")


@pytest.mark.django_db
def test_a_tampered_demo_link_is_refused_kindly(client):
    page = client.get("/pay/demo/not-a-real-token/")
    assert page.status_code == 400
    assert "expired" in page.content.decode()


@pytest.mark.django_db
def test_only_a_manager_refunds_and_never_more_than_was_paid(client, scene):
    agent = login(client, scene.office, Role.AGENT)
    with tenancy.office_context(scene.office.id):
        from payments.services import payment_record_offline

        payment = payment_record_offline(
            account=scene.account,
            amount="100.00",
            method="money_order",
            instrument={"serial_number": "MO-1"},
            actor=agent,
        )
    refund_url = f"/o/{scene.office.slug}/payments/{payment.pk}/refund/"
    assert client.get(refund_url).status_code == 403
    login(client, scene.office, Role.MANAGER)
    too_much = client.post(refund_url, {"amount": "100.01", "reason": "Paid twice"})
    assert "At most 100.00 is left to refund" in too_much.content.decode()
    done = client.post(refund_url, {"amount": "40", "reason": "Paid twice"})
    assert done.status_code == 302
    assert balance(scene) == Decimal("440.00")
    with tenancy.office_context(scene.office.id):
        assert Payment.objects.get(pk=payment.pk).refunded_amount == Decimal("40.00")


@pytest.mark.django_db
def test_autopay_is_set_up_on_the_demo_page_with_the_authorisation_kept(client, scene):
    from payments.services import autopay_setup_start, plan_create

    with tenancy.office_context(scene.office.id):
        plan = plan_create(
            account=scene.account,
            count=5,
            frequency="monthly",
            start_date=scene.account.placed_at.date(),
        )
        start = autopay_setup_start(plan=plan, success_url="/done/", cancel_url="/back/")
    page = client.get(start.redirect_url)
    assert "no real card is saved" in page.content.decode()
    assert "I authorise" in page.content.decode()
    saved = client.post(start.redirect_url, {"action": "save", "card": "4242"})
    assert saved.status_code == 302 and saved.url == "/done/"
    with tenancy.office_context(scene.office.id):
        plan.refresh_from_db()
        assert plan.autopay and plan.payment_method.label == "Demo card ending 4242"
        assert plan.payment_method.authorisation_ip == "127.0.0.1"


@pytest.mark.django_db
def test_a_lump_sum_offer_is_fixed_sent_and_refused_inside_the_validation_period(
    daytime, client, scene, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from compliance.models import ValidationNotice
    from payments.models import SettlementOffer
    from payments.selectors import pay_options

    login(client, scene.office, Role.AGENT)
    with tenancy.office_context(scene.office.id):
        # A validation period still running for 20 more days.
        ValidationNotice.objects.update(period_ends_on=scene.office.today() + timedelta(days=20))
    refused = client.post(
        url(scene, "offer"), {"discount_percent": "10", "days": "14", "channel": "email"}
    )
    assert "would undercut the right to dispute" in refused.content.decode()
    with tenancy.office_context(scene.office.id):
        assert not SettlementOffer.objects.exists()  # nothing half-made
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            url(scene, "offer"), {"discount_percent": "10", "days": "30", "channel": "email"}
        )
    assert made.status_code == 302
    assert mail.outbox[-1].subject.startswith("An offer to settle your account")
    assert "$450.00" in mail.outbox[-1].body
    with tenancy.office_context(scene.office.id):
        offer = SettlementOffer.objects.get()
        assert offer.amount == Decimal("450.00")
        shown = pay_options(scene.account).lump_sum
        assert (shown.amount, shown.expires_on, shown.offer_id) == (
            offer.amount,
            offer.expires_on,
            offer.id,
        )
    too_big = client.post(url(scene, "offer"), {"discount_percent": "50", "days": "30"})
    assert "at most 10%" in too_big.content.decode()
