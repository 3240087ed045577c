"""Read queries for accounts, shared by views and the API. Every query here runs on the
scoped managers (current office) and narrows further for creditor users."""

import re

from django.db.models import Q

from accounts.models import Account
from debtors.models import ContactPoint

_DIGITS = re.compile(r"\D+")


def accounts_visible_to(membership):
    qs = Account.objects.all()
    if membership is not None and membership.creditor_id:
        qs = qs.filter(creditor_id=membership.creditor_id)
    return qs


def account_list(*, membership, query="", status="", creditor_id=None, assigned=None):
    qs = accounts_visible_to(membership).select_related("debtor", "creditor", "assigned_agent")
    query = query.strip()
    if query:
        digits = _DIGITS.sub("", query)
        condition = (
            Q(office_reference__iexact=query)
            | Q(creditor_reference__iexact=query)
            | Q(debtor__last_name__istartswith=query)
            | Q(debtor__business_name__istartswith=query)
        )
        parts = query.split()
        if len(parts) >= 2:
            condition |= Q(
                debtor__first_name__istartswith=parts[0], debtor__last_name__istartswith=parts[-1]
            )
        if len(digits) >= 7:
            phone_debtors = ContactPoint.objects.filter(
                kind=ContactPoint.Kind.PHONE, value__endswith=digits[-10:]
            ).values("debtor_id")
            condition |= Q(debtor_id__in=phone_debtors)
        qs = qs.filter(condition)
    if status:
        qs = qs.filter(status=status)
    if creditor_id:
        qs = qs.filter(creditor_id=creditor_id)
    if assigned is not None:
        qs = qs.filter(assigned_agent=assigned)
    return qs.order_by("-priority", "-id")


def account_get(*, membership, account_id):
    """One account visible to this member, or Account.DoesNotExist (→ 404)."""
    return (
        accounts_visible_to(membership)
        .select_related("debtor", "creditor", "placement", "assigned_agent")
        .get(pk=account_id)
    )
