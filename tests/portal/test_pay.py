"""Pay and plans from the portal, through `payments` and its demo gateway."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Event
from payments.models import PaymentPlan
from tests.portal.conftest import in_office


@pytest.fixture(autouse=True)
def eager_celery(settings):
    from recovery.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _pay_through_demo(client, response, capture):
    assert response.status_code == 302, response.content[:800]
    checkout = client.get(response["Location"])
    assert checkout.status_code == 200
    assert "demo" in checkout.content.decode().lower()
    with capture(execute=True):
        done = client.post(response["Location"], {"action": "pay"})
    assert done.status_code == 302
    return client.get(done["Location"])


def test_pay_in_full_with_the_demo_gateway(
    verified, portal_scene, django_capture_on_commit_callbacks
):
    account = portal_scene.account
    page = verified.get(f"/p/accounts/{account.id}/pay/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "$500.00" in body and "Settle for" in body and "open until" in body
    response = verified.post(f"/p/accounts/{account.id}/pay/", {"choice": "full"})
    done = _pay_through_demo(verified, response, django_capture_on_commit_callbacks)
    body = done.content.decode()
    assert "your payment went through" in body
    assert "$0.00" in body
    with in_office(portal_scene.office):
        account.refresh_from_db()
        assert account.balance == 0
        assert Event.objects.filter(account=account, kind="payment").exists()
    assert any("receipt" in m.subject.lower() for m in mail.outbox)


def test_another_amount_must_reach_the_minimum(
    verified, portal_scene, django_capture_on_commit_callbacks
):
    url = f"/p/accounts/{portal_scene.account.id}/pay/"
    response = verified.post(url, {"choice": "other", "amount": "1"})
    assert response.status_code == 400
    assert "Enter an amount from" in response.content.decode()
    response = verified.post(url, {"choice": "other", "amount": "75"})
    _pay_through_demo(verified, response, django_capture_on_commit_callbacks)
    with in_office(portal_scene.office):
        portal_scene.account.refresh_from_db()
        assert portal_scene.account.balance == 425


def test_choose_a_plan_and_see_its_installments(verified, portal_scene):
    url = f"/p/accounts/{portal_scene.account.id}/plans/"
    page = verified.get(url).content.decode()
    assert "a month" in page
    start = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = verified.post(url, {"kind": "choose", "option": "0", "start_date": start})
    assert response.status_code == 302, response.content[:800]
    page = verified.get(response["Location"]).content.decode()
    assert "Your plan is set up" in page and "Upcoming payments" in page
    with in_office(portal_scene.office):
        plan = PaymentPlan.objects.get(account=portal_scene.account)
        assert plan.status == "active" and plan.source == "portal"


def test_a_custom_proposal_goes_to_review(verified, portal_scene):
    url = f"/p/accounts/{portal_scene.account.id}/plans/"
    start = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = verified.post(
        url,
        {
            "kind": "custom",
            "installment_amount": "40",
            "frequency": "monthly",
            "start_date": start,
            "note": "I get paid on the 1st.",
        },
    )
    assert response.status_code == 302, response.content[:800]
    assert "We received your proposal" in verified.get(response["Location"]).content.decode()
    with in_office(portal_scene.office):
        plan = PaymentPlan.objects.get(account=portal_scene.account)
        assert plan.status == "proposed"


def test_time_barred_disclosure_must_be_read_before_paying(verified, portal_scene, monkeypatch):
    from payments import selectors

    monkeypatch.setattr(
        selectors,
        "time_barred_disclosure",
        lambda account, today=None: (
            "The law limits how long you can be sued on a debt. Because of the age of this "
            "debt, we will not sue you for it. Under NY law, if you make a payment, the "
            "creditor may be able to sue you for the rest."
        ),
    )
    url = f"/p/accounts/{portal_scene.account.id}/pay/"
    assert "Under NY law" in verified.get(url).content.decode()
    response = verified.post(url, {"choice": "full"})
    assert response.status_code == 400
    assert "confirm you have read" in response.content.decode()
    verified.cookies["django_language"] = "es"
    assert "Según la ley de NY" in verified.get(url).content.decode()
    response = verified.post(url, {"choice": "full", "disclosure_read": "1"})
    assert response.status_code == 302


def test_the_debtor_moves_their_next_payment_within_the_policy(verified, portal_scene):
    from accounts.models import Event

    url = f"/p/accounts/{portal_scene.account.id}/plans/"
    start = timezone.localdate() + timedelta(days=3)
    verified.post(url, {"kind": "choose", "option": "0", "start_date": start.isoformat()})
    page = verified.get(url).content.decode()
    assert "Move your next payment" in page
    too_late = (start + timedelta(days=40)).isoformat()
    refused = verified.post(url, {"kind": "move", "due_date": too_late, "reason": "payday"})
    assert refused.status_code == 400
    assert "Choose a date between today and" in refused.content.decode()
    no_reason = verified.post(url, {"kind": "move", "due_date": start.isoformat()})
    assert "Tell us why" in no_reason.content.decode()
    new_date = start + timedelta(days=7)
    moved = verified.post(
        url, {"kind": "move", "due_date": new_date.isoformat(), "reason": "payday"}
    )
    assert moved.status_code == 302
    assert "Your payment is moved" in verified.get(moved["Location"]).content.decode()
    with in_office(portal_scene.office):
        plan = PaymentPlan.objects.get(account=portal_scene.account)
        assert plan.installments.get(sequence=1).due_date == new_date
        event = Event.objects.filter(account=portal_scene.account, kind="plan").latest("id")
        assert "My payday changed" in event.summary and event.data["source"] == "portal"


def test_one_payment_split_across_accounts_as_the_debtor_directs(
    verified, portal_scene, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from tests.factories import AccountFactory

    second = AccountFactory(
        office=portal_scene.office,
        debtor=portal_scene.debtor,
        creditor=portal_scene.account.creditor,
        opening_balance="80.00",
        governing_law_state="NY",
    )
    assert "Pay toward several accounts" in verified.get("/p/accounts/").content.decode()
    first_id, second_id = portal_scene.account.id, second.id
    too_much = verified.post("/p/pay/", {f"amount_{first_id}": "10", f"amount_{second_id}": "81"})
    assert too_much.status_code == 400
    assert "Enter amounts from 0 up to each balance" in too_much.content.decode()
    response = verified.post(
        "/p/pay/", {f"amount_{first_id}": "100.00", f"amount_{second_id}": "80.00"}
    )
    done = _pay_through_demo(verified, response, django_capture_on_commit_callbacks)
    assert "your payment went through" in done.content.decode()
    with in_office(portal_scene.office):
        portal_scene.account.refresh_from_db()
        second.refresh_from_db()
        assert portal_scene.account.balance == Decimal("400.00")
        assert second.balance == Decimal("0.00") and second.status == "paid"
