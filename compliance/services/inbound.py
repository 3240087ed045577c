"""Incoming correspondence (letters, emails) classified by staff; each takes effect as
of the day it was received."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record, note_add
from compliance.models import Complaint, Hold
from compliance.services.circumstances import circumstance_record
from compliance.services.complaints import complaint_create
from compliance.services.dates import day_label, day_start
from compliance.services.disputes import dispute_record
from compliance.services.holds import hold_place
from debtors.models import Source
from recovery.models import Document


class Correspondence(models.TextChoices):
    DISPUTE = "dispute", "Dispute"
    CEASE = "cease", "Cease communication / refusal to pay"
    ATTORNEY = "attorney", "Attorney notice"
    BANKRUPTCY = "bankruptcy", "Bankruptcy notice"
    COMPLAINT = "complaint", "Complaint"
    PAYMENT_DIRECTION = "payment_direction", "Payment direction"


@dataclass
class CorrespondenceResult:
    classification: str
    effective_from: datetime
    record: object = None  # the Dispute, Hold, Circumstance, Complaint or Note it made
    document: Document | None = None
    already_in_force: bool = False  # e.g. a second cease letter: the hold stands


@transaction.atomic
def correspondence_record(
    *,
    account,
    classification,
    received_on,
    received_via="letter",
    note="",
    upload=None,
    recorded_by=None,
    attorney="",
    bankruptcy_chapter="",
    bankruptcy_case="",
    complaint_source=Complaint.Source.DEBTOR,
):
    """A letter or email received about an account, classified by staff. Each takes
    effect as of the day it was received (not the day it was keyed in), so the audit's
    "facts known now" shows how slow intake was:

    dispute → a dispute (pauses the account); cease → a cease hold on the debtor;
    attorney / bankruptcy notice → a circumstance of the debtor; complaint → the register;
    payment direction → a note the payment desk follows (F-ALLOC).
    """
    if classification not in Correspondence.values:
        raise ValidationError({"classification": "Choose what the correspondence is."})
    office = account.office
    at = day_start(office=office, day=received_on)
    note = (note or "").strip()
    label = Correspondence(classification).label
    day = day_label(received_on)
    result = CorrespondenceResult(classification=classification, effective_from=at)

    if classification == Correspondence.DISPUTE:
        result.record = dispute_record(
            account=account,
            received_via=received_via,
            reason=note[:300],
            received_at=at,
            recorded_by=recorded_by,
        )
    elif classification == Correspondence.CEASE:
        # A cease already in force since that day covers this letter too.
        existing = _cease_in_force(account.debtor_id, at)
        result.already_in_force = existing is not None
        # The conservative reading: a cease request stops contact about every debt of
        # this debtor, not only the account it names.
        result.record = existing or hold_place(
            debtor=account.debtor,
            kind=Hold.Kind.CEASE,
            scope=Hold.Scope.DEBTOR,
            source=received_via,
            reason=f"Cease request received {day}",
            effective_from=at,
            set_by=recorded_by,
        )
    elif classification in (Correspondence.ATTORNEY, Correspondence.BANKRUPTCY):
        details = {}
        if classification == Correspondence.ATTORNEY and attorney.strip():
            details["firm"] = attorney.strip()[:200]
        if classification == Correspondence.BANKRUPTCY:
            details.update(
                {k: v.strip() for k, v in (("chapter", bankruptcy_chapter),
                                           ("case", bankruptcy_case)) if v.strip()}
            )  # fmt: skip
        result.record = circumstance_record(
            debtor=account.debtor,
            kind=classification,
            details=details,
            source=Source.AGENT,
            effective_from=at,
            recorded_by=recorded_by,
        )
    elif classification == Correspondence.COMPLAINT:
        result.record = complaint_create(
            accounts=[account],
            source=complaint_source,
            received_on=received_on,
            summary=note,
            created_by=recorded_by,
        )
    elif classification == Correspondence.PAYMENT_DIRECTION:
        if not note:
            raise ValidationError(
                {"note": "Write down the direction: which debt the debtor wants paid first."}
            )
        result.record = note_add(
            account=account, body=f"Payment direction received {day}: {note}", author=recorded_by
        )

    if note and classification not in (
        Correspondence.COMPLAINT,
        Correspondence.PAYMENT_DIRECTION,
    ):
        note_add(account=account, body=f"{label} received {day}: {note}", author=recorded_by)
    if upload is not None:
        result.document = _document_store(
            upload, account=account, title=f"{label} received {day}", created_by=recorded_by
        )
    event_record(
        account=account,
        kind=Event.Kind.LETTER,
        actor=recorded_by,
        channel="email" if received_via == "email" else "",
        summary=f"Incoming {received_via.replace('_', ' ')} recorded: {label.lower()}, "
        f"received {day}",
        data={
            "classification": classification,
            "received_on": received_on.isoformat(),
            "document_id": result.document.pk if result.document else None,
            "record_id": getattr(result.record, "pk", None),
        },
    )
    return result


def _cease_in_force(debtor_id, at):
    return (
        Hold.objects.filter(
            debtor_id=debtor_id,
            kind=Hold.Kind.CEASE,
            scope=Hold.Scope.DEBTOR,
            effective_from__lte=at,
        )
        .filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=timezone.now()))
        .order_by("effective_from")
        .first()
    )


def _document_store(upload, *, account, title, created_by):
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return Document.objects.create(
        kind=Document.Kind.UPLOAD,
        title=title[:200],
        file=upload,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        sha256=digest.hexdigest(),
        size=upload.size or 0,
        account=account,
        debtor_id=account.debtor_id,
        created_by=created_by,
    )
