"""Holds: pauses of collection with a source and effective dates. Lifting sets an end;
a hold row is never deleted, so the audit can replay what was in force."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from compliance.facts import policy_in_force
from compliance.models import Dispute, Hold
from compliance.services.dates import day_label, hold_end


@transaction.atomic
def hold_place(
    *,
    debtor,
    kind,
    scope,
    source,
    reason="",
    account=None,
    contact_point=None,
    channel="",
    effective_from=None,
    effective_to=None,
    set_by=None,
):
    """Pause collection from `effective_from` (now by default) until lifted, or until
    `effective_to` when the hold is for a fixed time (e.g. a hardship forbearance)."""
    hold = Hold(
        debtor=debtor,
        kind=kind,
        scope=scope,
        source=source,
        reason=reason,
        account=account,
        contact_point=contact_point,
        channel=channel,
        effective_from=effective_from or timezone.now(),
        effective_to=effective_to,
        set_by=set_by,
    )
    if effective_to is not None and effective_to <= hold.effective_from:
        raise ValidationError(
            {"effective_to": "The hold must end after it starts: choose today or a later date."}
        )
    hold.full_clean(exclude=["office"])
    hold.save()
    accounts = [account] if account else Account.objects.filter(debtor=debtor)
    for acc in accounts:
        event_record(
            account=acc,
            kind=Event.Kind.HOLD,
            actor=set_by,
            summary=f"{hold.get_kind_display()} hold placed"
            # A hold "until" a day ends at the next midnight: name the last day it covers.
            + (
                f" through {day_label(effective_to - timedelta(microseconds=1))}"
                if effective_to
                else ""
            ),
            data={"hold_id": hold.pk, "scope": scope},
        )
    return hold


@transaction.atomic
def hold_lift(*, hold, lifted_by, at=None):
    if hold.effective_to is not None and hold.effective_to <= timezone.now():
        raise ValidationError("This hold has already been lifted.")
    if (
        hold.kind == Hold.Kind.DISPUTE
        and Dispute.objects.filter(hold=hold, status=Dispute.Status.OPEN).exists()
    ):
        # F-DISPUTE: collection stays paused until verification is sent.
        raise ValidationError(
            "A dispute hold lifts when verification is sent to the debtor, not by hand."
        )
    hold.effective_to = at or timezone.now()
    hold.lifted_by = lifted_by
    hold.save(update_fields=["effective_to", "lifted_by"])
    accounts = [hold.account] if hold.account_id else Account.objects.filter(debtor=hold.debtor)
    for acc in accounts:
        event_record(
            account=acc,
            kind=Event.Kind.HOLD,
            actor=lifted_by,
            summary=f"{hold.get_kind_display()} hold lifted",
            data={"hold_id": hold.pk},
        )
    return hold


def hardship_pause_days(office):
    """How long a hardship request pauses collection under the office's policy (0: no
    automatic pause)."""
    return policy_in_force(office, timezone.now()).hardship_pause_days


@transaction.atomic
def hardship_grant(*, debtor=None, account=None, days=None, source, actor=None, reason=""):
    """Hardship forbearance: pause collection contact on the account (or, given only a
    debtor, on all their accounts) for `days` (the office's policy by default), through
    the last day in the office's time zone. Debtor-initiated responses still go out
    (F-RESPONSE); the hold is lifted like any other. Returns the hold, or None when the
    policy pauses nothing (0 days) or a hardship hold already covers the period."""
    if account is None and debtor is None:
        raise ValueError("hardship_grant needs a debtor or an account")
    debtor = debtor or account.debtor
    office = debtor.office
    if days is None:
        days = hardship_pause_days(office)
    if days <= 0:
        return None
    now = timezone.now()
    until = timezone.localdate(now, timezone=_zone(office)) + timedelta(days=days)
    ends = hold_end(office=office, until=until)
    active = Hold.objects.filter(debtor=debtor, kind=Hold.Kind.HARDSHIP, effective_from__lte=now)
    active = active.filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=ends))
    if account is not None:
        active = active.filter(models.Q(scope="debtor") | models.Q(account=account))
    else:
        active = active.filter(scope="debtor")
    if active.exists():
        return None
    return hold_place(
        debtor=debtor,
        kind=Hold.Kind.HARDSHIP,
        scope=Hold.Scope.ACCOUNT if account is not None else Hold.Scope.DEBTOR,
        account=account,
        source=source,
        reason=(reason or "Hardship request")[:300],
        effective_to=ends,
        set_by=actor,
    )


def _zone(office):
    from zoneinfo import ZoneInfo

    return ZoneInfo(office.time_zone)
