"""Erasure requests under the GDPR (EU-GDPR): record the request, restrict processing at
once, and erase the debtor's personal data when nothing needs it any more.

What keeps the data: the retention duty (F-RETAIN: 3 years after the last collection
activity on any of the debtor's debts) and an open legal claim (an open dispute, an
account in litigation, a complaint without an outcome). Erasing replaces or removes the
personal data (names, date of birth, SSN, contact points' values and addresses, message
bodies, letters, portal messages, notes, plan notes, work items' text, circumstance
details, the files of the debtor's letters, notices, receipts and uploads) and keeps the ledger,
the decisions and the timeline (amounts, dates, rule ids), which hold none.

Never writes the erased data anywhere, not even in the timeline entry that says it was
erased."""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Account, AccountStatus, Event, Note, Transaction
from accounts.services import event_record
from campaigns.exits import enrollments_exit
from campaigns.models import Message
from compliance.jurisdictions import RETENTION_YEARS
from compliance.models import Complaint, ContactAttempt, Dispute, ErasureRequest
from compliance.rules.countries import in_eu
from compliance.services.dates import day_end, day_label
from debtors.models import Circumstance, ContactPoint, Debtor
from payments.models import PaymentPlan
from portal.models import PortalMessage
from recovery import tenancy
from recovery.models import Document, Membership, Office, Role, WorkItem
from recovery.services import work_items_close

ERASED = "[erased]"


def erasure_task_title(request):
    return f"Erasure request #{request.pk}: erase when nothing keeps the data"


def _years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def last_collection_activity(debtor):
    """The latest day anything was collected, posted or attempted on the debtor's debts."""
    accounts = Account.objects.filter(debtor=debtor)
    days = [timezone.localdate(a.placed_at) for a in accounts]
    posted = Transaction.objects.filter(account__debtor=debtor).aggregate(
        day=Max("effective_date")
    )["day"]
    contacted = ContactAttempt.objects.filter(debtor=debtor, debtor_initiated=False).aggregate(
        at=Max("occurred_at")
    )["at"]
    days += [d for d in (posted, contacted and timezone.localdate(contacted)) if d]
    return max(days) if days else None


def erasure_blockers(debtor, today):
    """(the day retention ends or None, [what still needs the data, in words])."""
    kept = []
    last = last_collection_activity(debtor)
    until = _years_after(last, RETENTION_YEARS) if last else None
    if until and until > today:
        kept.append(f"records retained until {day_label(until)}, {until.year} (F-RETAIN)")
    accounts = Account.objects.filter(debtor=debtor)
    open_disputes = Dispute.objects.filter(account__in=accounts).exclude(
        status__in=[Dispute.Status.RESOLVED, Dispute.Status.WITHDRAWN]
    )
    if open_disputes.exists():
        kept.append("an open dispute")
    if accounts.filter(status=AccountStatus.LEGAL).exists():
        kept.append("an account in litigation")
    if Complaint.objects.filter(debtor=debtor, outcome=Complaint.Outcome.PENDING).exists():
        kept.append("a complaint awaiting its outcome")
    return until, kept


def _officer(office_id):
    membership = (
        Membership.objects.filter(office_id=office_id, role=Role.COMPLIANCE, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


def _timeline(debtor_id, summary, *, actor, data):
    for account in Account.objects.filter(debtor_id=debtor_id):
        event_record(account=account, kind=Event.Kind.HOLD, summary=summary, actor=actor, data=data)


@transaction.atomic
def erasure_request_record(*, debtor, requested_by, received_via, received_at, recorded_by=None):
    """A request to erase the debtor's personal data. Processing is restricted from
    `received_at` (the gate blocks every contact, campaigns let the accounts go); the
    data is erased now if nothing keeps it, else when it is due (`erasures_due_run`),
    with a task for the compliance officer."""
    if requested_by not in ErasureRequest.Requester.values:
        raise ValidationError(
            {"requested_by": "Say who asked: the debtor or their representative."}
        )
    if received_via not in ErasureRequest.Via.values:
        raise ValidationError({"received_via": "Say how the request reached us."})
    if received_at > timezone.now():
        raise ValidationError({"received_on": "The date received cannot be in the future."})
    if not in_eu(debtor.office, ContactPoint.objects.filter(debtor=debtor)):
        raise ValidationError(
            "The GDPR's right to erasure applies to an office in the EU or a debtor with an "
            "address there; neither is on file for this debtor."
        )
    if ErasureRequest.objects.filter(debtor=debtor).exists():
        raise ValidationError("An erasure request for this debtor is on file already.")
    request = ErasureRequest.objects.create(
        debtor=debtor,
        requested_by=requested_by,
        received_via=received_via,
        received_at=received_at,
        recorded_by=recorded_by,
    )
    for account in Account.objects.filter(debtor=debtor):
        enrollments_exit(account=account, reason="erasure request")
    _timeline(
        debtor.pk,
        f"Erasure request received ({request.get_received_via_display().lower()}); "
        "processing restricted",
        actor=recorded_by,
        data={"erasure_request_id": request.pk, "rule": "EU-GDPR"},
    )
    return erasure_review(request=request, actor=recorded_by)


def erasure_review(*, request, actor=None, today=None):
    """Erase now if nothing keeps the data; else note when it may be and why not yet
    (once, with a task for the compliance officer)."""
    debtor = Debtor.objects.select_related("office").get(pk=request.debtor_id)
    today = today or debtor.office.today()
    until, kept = erasure_blockers(debtor, today)
    if not kept:
        return erasure_perform(request=request, actor=actor)
    changed = request.erasable_on != until or request.kept_for != kept
    request.erasable_on, request.kept_for = until, kept
    request.save(update_fields=["erasable_on", "kept_for"])
    if not changed:
        return request
    title = erasure_task_title(request)
    office = debtor.office
    subject = f"erasure:{request.pk}"
    if not WorkItem.objects.filter(subject=subject, status=WorkItem.Status.OPEN).exists():
        WorkItem.objects.create(
            kind=WorkItem.Kind.REVIEW,
            subject=subject,
            title=title,
            detail="Kept for: " + "; ".join(kept) + ".",
            account=Account.objects.filter(debtor=debtor).order_by("id").first(),
            assignee=_officer(request.office_id) or request.recorded_by,
            due_at=timezone.now() if until is None or until <= today else day_end(office, until),
        )
    _timeline(
        debtor.pk,
        "Erasure waits: " + "; ".join(kept),
        actor=actor,
        data={"erasure_request_id": request.pk, "erasable_on": until and until.isoformat()},
    )
    return request


@transaction.atomic
def erasure_perform(*, request, actor=None):
    """Replace or remove the debtor's personal data; keep the ledger, the decisions and
    the timeline."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == ErasureRequest.Status.ERASED:
        return request
    debtor = Debtor.objects.select_for_update().get(pk=request.debtor_id)
    debtor.first_name = debtor.middle_name = ""
    debtor.last_name = debtor.business_name = ERASED
    debtor.date_of_birth = debtor.ssn_last4 = ""
    debtor.save()  # the blind indexes are recomputed: empty
    points = ContactPoint.objects.filter(debtor=debtor)
    for cp in points:
        # The value is part of a unique key per debtor: keep it unique, and meaningless.
        cp.value = f"{ERASED} {cp.pk}"
        # Kept: kind, state and country (which rules applied), validity, dates.
        cp.line1 = cp.line2 = cp.city = cp.postal_code = ""
        cp.candidate_timezones = []
        cp.save(
            update_fields=["value", "line1", "line2", "city", "postal_code", "candidate_timezones"]
        )
    Circumstance.objects.filter(debtor=debtor).update(details={})
    accounts = Account.objects.filter(debtor=debtor)
    Message.objects.filter(account__in=accounts).update(letter_html="")
    PortalMessage.objects.filter(account__in=accounts).update(body=ERASED)
    Note.objects.filter(account__in=accounts).update(body=ERASED)
    PaymentPlan.objects.filter(account__in=accounts).exclude(note="").update(note=ERASED)
    # Work items' free text (an inbox message quoted, a complaint summary).
    WorkItem.objects.filter(account__in=accounts).exclude(detail="").exclude(
        subject=f"erasure:{request.pk}"
    ).update(detail=ERASED)
    _documents_erase(accounts)
    request.status = ErasureRequest.Status.ERASED
    request.erased_at = timezone.now()
    request.kept_for = []
    request.save(update_fields=["status", "erased_at", "kept_for"])
    work_items_close(WorkItem.objects.filter(subject=f"erasure:{request.pk}"))
    _timeline(
        debtor.pk,
        "Personal data erased (erasure request); the ledger and decisions are kept",
        actor=actor,
        data={"erasure_request_id": request.pk, "rule": "EU-GDPR"},
    )
    return request


# Documents about this debtor alone; placement files and remittance statements cover
# many debtors and are the creditor's records.
DEBTOR_DOCUMENTS = (
    Document.Kind.VALIDATION_NOTICE,
    Document.Kind.LETTER,
    Document.Kind.RECEIPT,
    Document.Kind.UPLOAD,
)


def _documents_erase(accounts):
    """The debtor's letters, notices, receipts and uploads: the row stays (what was sent
    when, its hash), the file goes once the transaction commits."""
    documents = Document.objects.filter(account__in=accounts, kind__in=DEBTOR_DOCUMENTS).exclude(
        file=""
    )
    names = list(documents.values_list("file", flat=True))
    documents.update(file="", title=ERASED, size=0)

    def delete_files():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete_files)


def erasures_due_run(*, today=None):
    """Review every waiting request of the office in context whose retention has ended
    (or that waits on a legal claim): erase those nothing keeps any more. Returns how
    many were erased."""
    erased = 0
    office_id = tenancy.current_office_id()
    today = today or Office.objects.get(pk=office_id).today()
    with tenancy.office_context(office_id):  # the database's wall needs the office too
        waiting = list(
            ErasureRequest.objects.filter(status=ErasureRequest.Status.RESTRICTED)
            .exclude(erasable_on__gt=today)
            .order_by("id")
        )
    for request in waiting:
        # One transaction per request: one that fails leaves the others done.
        with tenancy.office_context(office_id):
            done = erasure_review(request=request, today=today)
        erased += done.status == ErasureRequest.Status.ERASED
    return erased


__all__ = [
    "ERASED",
    "erasure_blockers",
    "erasure_perform",
    "erasure_request_record",
    "erasure_review",
    "erasure_task_title",
    "erasures_due_run",
    "last_collection_activity",
]
