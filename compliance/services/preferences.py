"""Contact preferences staff record for a debtor: "don't contact me at work".

One record per statement, never edited: an oral request and its written confirmation
are two rows, so the audit can replay what was known when. The federal rule (F-PREF)
treats the request as an inconvenient place for as long as it stands; Massachusetts
(MA-WORK) lets an oral one lapse after 10 days unless it is confirmed in writing within
7. Timeline events say what was asked and how, never who or which number."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from compliance.jurisdictions import STATES
from debtors.models import ContactPreference, Source

WORK_REQUEST_METHODS = {"oral": "orally", "written": "in writing"}


def _latest_oral_request(debtor, before):
    return (
        ContactPreference.objects.filter(
            debtor=debtor,
            kind=ContactPreference.Kind.NO_CONTACT_AT_WORK,
            value__method="oral",
            effective_from__lte=before,
        )
        .order_by("-effective_from")
        .first()
    )


@transaction.atomic
def work_contact_request_record(*, debtor, method, made_at, recorded_by=None):
    """The debtor asked (`method`: "oral" or "written") at `made_at` not to be contacted
    at work. A written statement within 7 days of an oral one is recorded as its
    confirmation; a later one is a written request in its own right."""
    if method not in WORK_REQUEST_METHODS:
        raise ValidationError({"method": "Say whether the debtor asked orally or in writing."})
    if made_at > timezone.now():
        raise ValidationError({"made_on": "The date the debtor asked cannot be in the future."})
    value = {"method": method}
    confirms = None
    if method == "written":
        oral = _latest_oral_request(debtor, made_at)
        window = timedelta(days=STATES["MA"].days["work_written_confirmation"])
        if oral is not None and made_at - oral.effective_from <= window:
            confirms = oral
            value["confirms"] = oral.pk
    record = ContactPreference(
        debtor=debtor,
        kind=ContactPreference.Kind.NO_CONTACT_AT_WORK,
        value=value,
        source=Source.DEBTOR,
        effective_from=made_at,
    )
    record.full_clean(exclude=["office"])
    record.save()
    how = WORK_REQUEST_METHODS[method]
    summary = (
        "The debtor confirmed in writing: no contact at work"
        if confirms
        else f"The debtor asked {how} not to be contacted at work"
    )
    for account in Account.objects.filter(debtor_id=debtor.pk):
        event_record(
            account=account,
            kind=Event.Kind.HOLD,
            summary=summary,
            actor=recorded_by,
            data={"preference_id": record.pk, "kind": record.kind, "method": method},
        )
    return record
