"""Read queries for accounts, shared by views and the API. Every query here runs on the
scoped managers (current office) and narrows further for creditor users."""

import re

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import OPEN_STATUSES, ZERO, Account
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


def _money_sum(expression, **filter_):
    return Coalesce(
        Sum(expression, **filter_), Value(ZERO), output_field=DecimalField(max_digits=16)
    )


def office_totals(*, membership, currency):
    """Headline figures for the office home, in one query. Money is summed in one
    currency only; accounts in other currencies are counted, not added."""
    accounts = accounts_visible_to(membership)
    is_open = Q(status__in=OPEN_STATUSES)
    in_currency = Q(currency=currency)
    totals = accounts.aggregate(
        open_count=Count("id", filter=is_open),
        open_balance=_money_sum(
            F("principal_balance") + F("interest_balance") + F("fees_balance"),
            filter=is_open & in_currency,
        ),
        placed=_money_sum("total_placed", filter=in_currency),
        collected=_money_sum("total_collected", filter=in_currency),
        other_currency=Count("id", filter=~in_currency),
    )
    placed = totals["placed"]
    totals["recovery_rate"] = totals["collected"] / placed * 100 if placed else None
    return totals
