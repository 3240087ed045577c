"""Disputes and their answer (F-DISPUTE): a dispute pauses the whole account until
verification is sent; only sending verification lifts that hold."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record
from compliance.models import Dispute, Hold
from compliance.services.holds import hold_lift, hold_place


@transaction.atomic
def dispute_record(
    *,
    account,
    received_via,
    reason="",
    received_at=None,
    partial_amount=None,
    original_creditor_requested=False,
    recorded_by=None,
):
    """A dispute pauses collection on the whole account until verification is sent."""
    from accounts.services import account_transition

    received_at = received_at or timezone.now()
    if partial_amount is not None and not (0 < partial_amount <= account.balance):
        raise ValidationError(
            {
                "partial_amount": "The disputed part must be more than 0 and no more than "
                f"the balance ({account.balance} {account.currency}); for all of it, choose "
                "the whole debt."
            }
        )
    notices = list(account.validation_notices.order_by("sent_at"))
    within = not notices or any(received_at.date() <= n.period_ends_on for n in notices)
    hold = hold_place(
        debtor=account.debtor,
        kind=Hold.Kind.DISPUTE,
        scope=Hold.Scope.ACCOUNT,
        account=account,
        source=received_via,
        reason=reason,
        effective_from=received_at,
        set_by=recorded_by,
    )
    dispute = Dispute.objects.create(
        account=account,
        debtor=account.debtor,
        received_at=received_at,
        received_via=received_via,
        reason=reason,
        is_partial=partial_amount is not None,
        disputed_amount=partial_amount,
        original_creditor_requested=original_creditor_requested,
        within_validation_period=within,
        hold=hold,
    )
    if account.status not in ("disputed", "paid", "settled", "closed", "recalled"):
        account_transition(
            account=account, status="disputed", actor=recorded_by, reason="dispute received"
        )
    event_record(
        account=account,
        kind=Event.Kind.DISPUTE,
        actor=recorded_by,
        summary="Dispute received" + (" (part of the debt)" if partial_amount else ""),
        data={"dispute_id": dispute.pk, "within_period": within},
    )
    return dispute


@transaction.atomic
def dispute_verification_record(*, dispute, recorded_by, sent_at=None, channel="letter"):
    """Verification (or the original creditor's name and address) was sent: the dispute
    is answered, its hold lifts, and an account paused by it becomes active again."""
    from accounts.services import account_transition

    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError("This dispute has already been answered.")
    sent_at = sent_at or timezone.now()
    if sent_at > timezone.now():
        raise ValidationError("The date verification was sent cannot be in the future.")
    dispute.status = Dispute.Status.VERIFIED
    dispute.verification_sent_at = sent_at
    dispute.save(update_fields=["status", "verification_sent_at"])
    if dispute.hold_id and dispute.hold.effective_to is None:
        hold_lift(hold=dispute.hold, lifted_by=recorded_by, at=sent_at)
    account = dispute.account
    still_open = Dispute.objects.filter(account=account, status=Dispute.Status.OPEN).exists()
    if account.status == "disputed" and not still_open:
        account_transition(account=account, status="active", actor=recorded_by,
                           reason="verification sent")  # fmt: skip
    event_record(account=account, kind=Event.Kind.DISPUTE, actor=recorded_by, channel=channel,
                 summary="Verification sent; collection may resume",
                 data={"dispute_id": dispute.pk})  # fmt: skip
    return dispute
