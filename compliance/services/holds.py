"""Holds: pauses of collection with a source and effective dates. Lifting sets an end;
a hold row is never deleted, so the audit can replay what was in force."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from compliance.models import Dispute, Hold
from compliance.services.dates import day_label


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
