"""Managers keep their clients' terms: commission, remittance, and the order in which
payments pay off the balance — which the allocation then follows."""

from decimal import Decimal

import pytest

from accounts.models import Creditor
from payments.services import payment_record_offline
from recovery import tenancy
from recovery.models import Role
from tests.factories import AccountFactory, CreditorFactory, MembershipFactory


@pytest.mark.django_db
def test_a_manager_sets_the_allocation_order_and_payments_follow_it(client, office_a):
    manager = MembershipFactory(office=office_a, role=Role.MANAGER).user
    client.force_login(manager)
    creditor = CreditorFactory(office=office_a, name="Cedar Dental", reference="CD")
    form = {
        "name": "Cedar Dental",
        "reference": "CD",
        "contingency_fee_rate": "0.3",
        "remittance_frequency": "monthly",
        "remittance_email": "",
        "is_active": "on",
        "first": "principal",
        "second": "principal",
        "third": "fees",
    }
    page = client.post(f"/o/{office_a.slug}/creditors/{creditor.pk}/", form)
    assert "Put fees, interest and principal in order, each once." in page.content.decode()
    form.update(second="interest")
    assert client.post(f"/o/{office_a.slug}/creditors/{creditor.pk}/", form).status_code == 302
    with tenancy.office_context(office_a.id):
        creditor.refresh_from_db()
        assert creditor.allocation_order == ["principal", "interest", "fees"]
        assert creditor.contingency_fee_rate == Decimal("0.3000")
    account = AccountFactory(office=office_a, creditor=creditor, opening_balance="100.00")
    with tenancy.office_context(office_a.id):
        from accounts.services import ledger_post

        ledger_post(account=account, kind="fee", fees="20.00")
        payment_record_offline(
            account=account,
            amount="110.00",
            method="check",
            instrument={"check_number": "9"},
            actor=manager,
        )
        account.refresh_from_db()
        assert (account.principal_balance, account.fees_balance) == (Decimal("0"), Decimal("10"))


@pytest.mark.django_db
def test_agents_cannot_reach_creditor_terms_and_references_stay_unique(client, office_a):
    client.force_login(MembershipFactory(office=office_a, role=Role.AGENT).user)
    assert client.get(f"/o/{office_a.slug}/creditors/").status_code == 403
    client.force_login(MembershipFactory(office=office_a, role=Role.ADMIN).user)
    CreditorFactory(office=office_a, reference="TAKEN")
    page = client.post(
        f"/o/{office_a.slug}/creditors/new/",
        {
            "name": "Other",
            "reference": "taken",
            "contingency_fee_rate": "0.25",
            "remittance_frequency": "monthly",
            "is_active": "on",
            "first": "fees",
            "second": "interest",
            "third": "principal",
        },
    )
    assert "Another creditor of this office has this reference." in page.content.decode()
    with tenancy.office_context(office_a.id):
        assert Creditor.objects.count() == 1


@pytest.mark.django_db
def test_a_creditors_plan_policy_starts_from_the_offices_and_overrides_it(client, office_a):
    from payments.models import PlanPolicy
    from payments.selectors import policy_for

    client.force_login(MembershipFactory(office=office_a, role=Role.MANAGER).user)
    creditor = CreditorFactory(office=office_a)
    account = AccountFactory(office=office_a, creditor=creditor)
    with tenancy.office_context(office_a.id):
        PlanPolicy.objects.create(max_months=9, minimum_installment=Decimal("30.00"))
    url = f"/o/{office_a.slug}/payments/policy/creditor/{creditor.pk}/"
    form = client.get(url).context["form"]
    assert form["max_months"].value() == 9  # a copy of the office's to start from
    data = {name: form[name].value() for name in form.fields}
    data.update(max_months="18", frequencies=["monthly"], minimum_installment="30.00")
    data = {k: v for k, v in data.items() if v not in (None, False)}
    assert client.post(url, data).status_code == 302
    with tenancy.office_context(office_a.id):
        assert policy_for(account).max_months == 18
        assert PlanPolicy.objects.get(creditor__isnull=True).max_months == 9
        assert PlanPolicy.objects.count() == 2
