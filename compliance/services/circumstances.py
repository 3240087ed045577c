"""Circumstances of a debtor that staff record (deceased, bankruptcy, servicemember,
identity theft, attorney representation, employer forbids contact at work), each with
its source and effective dates. The rules read them (F-DECEASED, F-STAY, SCRA, F-PAID,
F-ATTY, F-WORK); ending one sets its end date, never deletes it, so the audit can replay
what was known when."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from debtors.models import Circumstance, Source

# What each kind keeps besides its dates, and which of those it cannot do without.
DETAIL_FIELDS = {
    Circumstance.Kind.ATTORNEY: ("firm", "attorney_contact"),
    Circumstance.Kind.BANKRUPTCY: ("chapter", "case"),
    Circumstance.Kind.DECEASED: ("representative", "representative_contact"),
    Circumstance.Kind.SERVICEMEMBER: ("branch",),
    Circumstance.Kind.IDENTITY_THEFT: ("report",),
    Circumstance.Kind.WORK_CONTACT_FORBIDDEN: (),
}
REQUIRED_DETAILS = {
    Circumstance.Kind.ATTORNEY: {
        "firm": "Name the attorney or law firm: contact goes through them from now on."
    },
}
BANKRUPTCY_CHAPTERS = ("7", "11", "12", "13")
# How the start of each kind reads on the timeline and the account page.
STARTS = {
    Circumstance.Kind.ATTORNEY: "Attorney representation recorded",
    Circumstance.Kind.BANKRUPTCY: "Bankruptcy filing recorded",
    Circumstance.Kind.DECEASED: "Death of the debtor recorded",
    Circumstance.Kind.SERVICEMEMBER: "Active-duty military service recorded",
    Circumstance.Kind.IDENTITY_THEFT: "Identity-theft report recorded",
    Circumstance.Kind.WORK_CONTACT_FORBIDDEN: "Employer forbids contact at work",
}


def circumstance_started(record):
    """How a recorded circumstance reads: "Bankruptcy filing recorded"."""
    return STARTS[record.kind]


def _clean_details(kind, details):
    details = {k: str(v).strip()[:200] for k, v in (details or {}).items() if str(v).strip()}
    # Any kind may name the vendor whose search found it (scrub files).
    unknown = set(details) - set(DETAIL_FIELDS[kind]) - {"vendor"}
    if unknown:
        raise ValidationError(f"Unexpected details for this kind: {', '.join(sorted(unknown))}.")
    errors = {
        name: message
        for name, message in REQUIRED_DETAILS.get(kind, {}).items()
        if not details.get(name)
    }
    if kind == Circumstance.Kind.BANKRUPTCY and details.get("chapter", "7") not in (
        BANKRUPTCY_CHAPTERS
    ):
        errors["chapter"] = "Choose chapter 7, 11, 12 or 13 (or leave it blank if unknown)."
    if errors:
        raise ValidationError(errors)
    return details


def _timeline(debtor_id, summary, *, actor, data):
    # Decisions and events hold no personal data: the summary names the kind, not people.
    for account in Account.objects.filter(debtor_id=debtor_id):
        event_record(account=account, kind=Event.Kind.HOLD, summary=summary, actor=actor,
                     data=data)  # fmt: skip


@transaction.atomic
def circumstance_record(
    *,
    debtor,
    kind,
    source,
    effective_from,
    effective_to=None,
    details=None,
    recorded_by=None,
):
    """Record something true of the debtor from `effective_from` (when it became true,
    which may be long before today) until `effective_to` (open when unknown)."""
    if kind not in Circumstance.Kind.values:
        raise ValidationError({"kind": "Choose what is true of the debtor."})
    if source not in Source.values:
        raise ValidationError({"source": "Say where the information came from."})
    now = timezone.now()
    if effective_from > now:
        raise ValidationError({"effective_on": "The start date cannot be in the future."})
    if effective_to is not None and effective_to <= effective_from:
        raise ValidationError({"ends_on": "The end date must be after the start date."})
    details = _clean_details(kind, details)
    record = Circumstance(
        debtor=debtor,
        kind=kind,
        source=source,
        details=details,
        effective_from=effective_from,
        effective_to=effective_to,
        recorded_by=recorded_by,
    )
    record.full_clean(exclude=["office"])
    record.save()
    _timeline(
        debtor.pk,
        STARTS[kind],
        actor=recorded_by,
        data={"circumstance_id": record.pk, "kind": kind, "source": source},
    )
    return record


@transaction.atomic
def circumstance_end(*, circumstance, ended_at, ended_by=None):
    """It stopped being true at `ended_at` (a case closed, service ended, the attorney
    withdrew, the report was resolved). The rules stop reading it from then on."""
    circumstance = Circumstance.objects.select_for_update().get(pk=circumstance.pk)
    now = timezone.now()
    if circumstance.effective_to is not None and circumstance.effective_to <= now:
        raise ValidationError("This has already ended.")
    if ended_at > now:
        raise ValidationError({"ended_on": "The end date cannot be in the future."})
    if ended_at <= circumstance.effective_from:
        raise ValidationError({"ended_on": "The end date must be after the start date."})
    circumstance.effective_to = ended_at
    circumstance.ended_by = ended_by
    circumstance.save(update_fields=["effective_to", "ended_by"])
    _timeline(
        circumstance.debtor_id,
        f"{circumstance.get_kind_display()} ended",
        actor=ended_by,
        data={"circumstance_id": circumstance.pk, "kind": circumstance.kind},
    )
    return circumstance
