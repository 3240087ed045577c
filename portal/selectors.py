"""Reads the portal's pages share. Every query names the office and the debtor of the
verified session explicitly (on top of the scoped manager), so a portal page can only
ever see that debtor's rows in that office."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import Account
from compliance.models import Dispute, Hold
from debtors.models import Consent, ContactPoint, ContactPreference
from portal.models import PortalMessage, PortalSettings
from recovery.models import Document

DOCUMENT_KINDS = (
    Document.Kind.VALIDATION_NOTICE,
    Document.Kind.LETTER,
    Document.Kind.RECEIPT,
)


def portal_settings(office_id):
    return PortalSettings.objects.filter(office_id=office_id).first() or PortalSettings(
        office_id=office_id
    )


def accounts_for_debtor(*, office_id, debtor_id):
    return (
        Account.objects.filter(office_id=office_id, debtor_id=debtor_id)
        .select_related("creditor")
        .order_by("-placed_at", "-id")
    )


# What the overview shows of an account (portal/overview.html).
OVERVIEW_COLUMNS = (
    "office_id",
    "debtor_id",
    "office_reference",
    "principal_balance",
    "interest_balance",
    "fees_balance",
    "currency",
    "status",
    "placed_at",
    "creditor__name",
)


def overview_accounts(*, office_id, debtor_id):
    """The debtor's accounts for the overview in one query, each with `in_dispute` (a
    dispute awaiting verification) and `unread` (the debtor's unread replies, all
    accounts together: the same figure on every row)."""
    open_dispute = Dispute.objects.filter(
        office_id=office_id, account_id=OuterRef("pk"), status=Dispute.Status.OPEN
    )
    unread = (
        unread_replies(office_id=office_id, debtor_id=debtor_id)
        .order_by()
        .values("debtor_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        accounts_for_debtor(office_id=office_id, debtor_id=debtor_id)
        .only(*OVERVIEW_COLUMNS)
        .annotate(in_dispute=Exists(open_dispute), unread=Coalesce(Subquery(unread), 0))
    )


def unread_replies(*, office_id, debtor_id):
    return PortalMessage.objects.filter(
        office_id=office_id,
        debtor_id=debtor_id,
        direction=PortalMessage.Direction.FROM_OFFICE,
        read_at__isnull=True,
    )


def account_for_debtor(*, office_id, debtor_id, account_id):
    """The debtor's account, or 404: the same answer for "missing" and "not yours"."""
    account = (
        Account.objects.filter(office_id=office_id, debtor_id=debtor_id, pk=account_id)
        .select_related("creditor", "debtor")
        .first()
    )
    if account is None:
        raise Http404("No such account")
    return account


def account_by_reference(*, office_id, reference):
    reference = (reference or "").strip()
    if not reference:
        return None
    return (
        Account.objects.filter(office_id=office_id, office_reference__iexact=reference)
        .select_related("debtor")
        .first()
    )


def documents_for_account(account):
    return Document.objects.filter(
        office_id=account.office_id, account_id=account.pk, kind__in=DOCUMENT_KINDS
    ).order_by("-created_at")


def document_for_account(account, document_id):
    document = documents_for_account(account).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document")
    return document


def open_disputes(account):
    return Dispute.objects.filter(
        office_id=account.office_id, account_id=account.pk, status=Dispute.Status.OPEN
    ).order_by("-received_at")


def open_disputes_for(*, office_id, account_ids):
    """Ids of the accounts among `account_ids` with a dispute awaiting verification."""
    return Dispute.objects.filter(
        office_id=office_id, account_id__in=account_ids, status=Dispute.Status.OPEN
    ).values_list("account_id", flat=True)


def holds_in_force(account, now=None):
    now = now or timezone.now()
    return Hold.objects.filter(
        Q(account_id=account.pk) | Q(account__isnull=True),
        office_id=account.office_id,
        debtor_id=account.debtor_id,
        effective_from__lte=now,
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=now))


def preferences_in_force(*, office_id, debtor_id, now=None):
    now = now or timezone.now()
    return ContactPreference.objects.filter(
        office_id=office_id, debtor_id=debtor_id, effective_from__lte=now
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=now))


@dataclass
class ChannelState:
    channel: str
    contact_points: list
    opted_out: bool


# Portal channel → (contact point kind, consent channel)
CHANNELS = {
    "email": (ContactPoint.Kind.EMAIL, "email"),
    "sms": (ContactPoint.Kind.PHONE, "sms"),
    "call": (ContactPoint.Kind.PHONE, "call"),
    "letter": (ContactPoint.Kind.ADDRESS, "letter"),
}


def channel_states(*, office_id, debtor_id, now=None):
    """Per channel: the debtor's contact points that carry it, and whether every one of
    them is opted out now (the latest consent record per point decides)."""
    now = now or timezone.now()
    points = list(
        ContactPoint.objects.filter(office_id=office_id, debtor_id=debtor_id).order_by(
            "-is_primary", "id"
        )
    )
    latest = {}
    consents = Consent.objects.filter(
        office_id=office_id, debtor_id=debtor_id, effective_from__lte=now
    ).order_by("effective_from", "id")
    for c in consents:
        if c.effective_to is None or c.effective_to > now:
            latest[(c.contact_point_id, c.channel)] = c.kind
    states = {}
    for channel, (kind, consent_channel) in CHANNELS.items():
        mine = [p for p in points if p.kind == kind]
        opted_out = bool(mine) and all(
            latest.get((p.pk, consent_channel)) == Consent.Kind.OPT_OUT for p in mine
        )
        states[channel] = ChannelState(channel=channel, contact_points=mine, opted_out=opted_out)
    return states


def messages_for_debtor(*, office_id, debtor_id, account_id=None):
    qs = PortalMessage.objects.filter(office_id=office_id, debtor_id=debtor_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs.select_related("account").order_by("created_at", "id")
