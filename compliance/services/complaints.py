"""The complaint register: entry, response due dates with a task, and the outcome."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Event
from accounts.services import event_record, note_add
from compliance.models import Complaint, ComplaintAccount
from compliance.services.dates import day_end, day_label, day_start
from recovery.models import WorkItem
from recovery.services import work_items_close

# Response deadlines the form proposes (the officer may set another date). The CFPB asks
# a company to respond to a complaint it forwards within 15 days (and to close it within
# 60); for complaints from anyone else we default to 30 days, the usual state
# attorney-general deadline.
COMPLAINT_RESPONSE_DAYS_CFPB = 15
COMPLAINT_RESPONSE_DAYS_OTHER = 30


def complaint_response_days(source):
    if source == Complaint.Source.CFPB:
        return COMPLAINT_RESPONSE_DAYS_CFPB
    return COMPLAINT_RESPONSE_DAYS_OTHER


def complaint_task_title(complaint):
    return f"Respond to complaint #{complaint.pk}: {complaint.get_source_display()}"


@transaction.atomic
def complaint_create(
    *, accounts, source, received_on, response_due_on=None, summary="", created_by=None
):
    """Enter a complaint in the register, linked to the accounts it concerns (all of one
    debtor). Puts a review task in the creator's work, due when the response is due, and
    an event on each account's timeline. The summary, free text, is kept as a note."""
    accounts = list(accounts)
    if not accounts:
        raise ValidationError({"account": "Name the account the complaint is about."})
    debtor_ids = {a.debtor_id for a in accounts}
    if len(debtor_ids) != 1:
        raise ValidationError({"account": "A complaint concerns the accounts of one debtor."})
    if source not in Complaint.Source.values:
        raise ValidationError({"source": "Choose where the complaint came from."})
    office = accounts[0].office
    received_at = day_start(office=office, day=received_on)
    due_on = response_due_on or received_on + timedelta(days=complaint_response_days(source))
    if due_on < received_on:
        raise ValidationError(
            {"response_due_on": "The response can't be due before the complaint was received."}
        )
    complaint = Complaint.objects.create(
        debtor_id=accounts[0].debtor_id,
        source=source,
        received_at=received_at,
        response_due_at=day_end(office, due_on),
    )
    for account in accounts:
        ComplaintAccount.objects.create(complaint=complaint, account=account)
        event_record(
            account=account,
            kind=Event.Kind.RESPONSE,
            actor=created_by,
            summary=f"Complaint received ({complaint.get_source_display()}); "
            f"response due {day_label(due_on)}",
            data={"complaint_id": complaint.pk, "source": source},
        )
    summary = (summary or "").strip()
    if summary:
        note_add(
            account=accounts[0],
            body=f"Complaint #{complaint.pk} ({complaint.get_source_display()}): {summary}",
            author=created_by,
        )
    WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW,
        title=complaint_task_title(complaint),
        subject=f"complaint:{complaint.pk}",
        detail=summary[:2000],
        account=accounts[0],
        assignee=created_by,
        due_at=complaint.response_due_at,
    )
    return complaint


@transaction.atomic
def complaint_outcome_record(*, complaint, outcome, root_cause="", recorded_by=None):
    """Close a complaint as upheld or not upheld. An upheld complaint needs its root
    cause: upheld complaints count against the office's compliance KPI."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.outcome != Complaint.Outcome.PENDING:
        raise ValidationError(
            f"The outcome of this complaint was already recorded "
            f"({complaint.get_outcome_display().lower()})."
        )
    if outcome not in (Complaint.Outcome.UPHELD, Complaint.Outcome.NOT_UPHELD):
        raise ValidationError({"outcome": "Choose whether the complaint was upheld."})
    root_cause = (root_cause or "").strip()
    if outcome == Complaint.Outcome.UPHELD and not root_cause:
        raise ValidationError(
            {"root_cause": "Name the root cause of an upheld complaint, so it can be fixed."}
        )
    complaint.outcome = outcome
    complaint.root_cause = root_cause[:200]
    complaint.save(update_fields=["outcome", "root_cause"])
    work_items_close(WorkItem.objects.filter(subject=f"complaint:{complaint.pk}"))
    for account in complaint.accounts.all():
        event_record(
            account=account,
            kind=Event.Kind.RESPONSE,
            actor=recorded_by,
            summary=f"Complaint closed: {complaint.get_outcome_display().lower()}",
            data={"complaint_id": complaint.pk, "outcome": outcome},
        )
    return complaint
