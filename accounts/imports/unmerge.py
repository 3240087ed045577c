"""Undoing a wrong debtor match: an imported account moves off the debtor it was
attached to, onto a new debtor built from its own row of the placement file.

A false match shows one person's debt to another, so this must leave nothing of the row
behind on the wrong debtor: the contact points the row added there are removed, and a
customer-id link the row created follows the account. The row is read again from the
stored file under the import's mapping, so no personal data is copied into the import's
records to make this possible.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.imports.matching import debtor_from_row
from accounts.imports.models import PlacementMatch
from accounts.imports.reader import FileProblem, document_sheet
from accounts.imports.validation import RowChecker, office_today
from accounts.imports.writer import contact_points_for
from accounts.models import Account, Event
from accounts.services import event_record
from debtors.models import ContactPoint, DebtorReference, Source
from recovery.models import WorkItem
from recovery.services import work_items_close


def _row_from_file(placement_import, line):
    with document_sheet(placement_import.document) as sheet:
        checker = RowChecker(
            headers=sheet.headers,
            mapping=placement_import.mapping_snapshot,
            today=office_today(placement_import.office),
            delimiter=sheet.delimiter,
        )
        for number, cells in sheet.rows():
            if number == line:
                return checker.check(number, cells)
            if number > line:
                break
    return None


@transaction.atomic
def account_unmerge(*, match, actor=None):
    """Split a matched account off onto a new debtor made from its file row. Returns the
    new debtor."""
    match = (
        PlacementMatch.objects.select_for_update(of=("self",))
        .select_related("placement_import__document", "placement_import__office", "account")
        .get(pk=match.pk)
    )
    if match.split_at:
        raise ValidationError("This account has already been split off onto its own debtor.")
    account = match.account
    if account.debtor_id != match.debtor_id:
        raise ValidationError(
            "The account has moved to another debtor since it was imported; nothing to undo."
        )
    try:
        row = _row_from_file(match.placement_import, match.line)
    except FileProblem as exc:
        raise ValidationError(f"The stored placement file cannot be read: {exc}") from exc
    if row is None or row.values.get("creditor_reference") != account.creditor_reference:
        raise ValidationError(f"Row {match.line} of the stored file is not this account's row.")

    old_debtor_id = match.debtor_id
    debtor = debtor_from_row(row.values, office_id=account.office_id)
    debtor.save()
    kinds = set()
    for point in contact_points_for(row.values, debtor):
        point.is_primary = point.kind not in kinds
        kinds.add(point.kind)
        point.save()
    # What the row left on the wrong debtor goes.
    ContactPoint.objects.filter(
        pk__in=match.added_contact_point_ids, debtor_id=old_debtor_id
    ).delete()
    ref = row.values.get("creditor_debtor_id")
    if match.linked_reference_id:
        DebtorReference.objects.filter(
            pk=match.linked_reference_id, debtor_id=old_debtor_id
        ).update(debtor=debtor)
    elif (
        ref
        and not DebtorReference.objects.filter(
            creditor_id=account.creditor_id, reference=ref
        ).exists()
    ):
        DebtorReference.objects.create(
            debtor=debtor, creditor_id=account.creditor_id, reference=ref, source=Source.PLACEMENT
        )

    Account.objects.filter(pk=account.pk).update(debtor=debtor)
    account.debtor = debtor
    Event.objects.filter(account=account, kind=Event.Kind.PLACED).update(debtor_id=debtor.pk)
    event_record(
        account=account,
        kind=Event.Kind.DEBTOR_SPLIT,
        actor=actor,
        summary="Split off onto its own debtor: the placement file's match was wrong",
        data={
            "from_debtor_id": old_debtor_id,
            "to_debtor_id": debtor.pk,
            "placement_import_id": match.placement_import_id,
            "line": match.line,
        },
    )
    now = timezone.now()
    match.split_debtor, match.split_at, match.split_by = debtor, now, actor
    match.save(update_fields=["split_debtor", "split_at", "split_by"])
    if match.work_item_id:
        work_items_close(WorkItem.objects.filter(pk=match.work_item_id))
    return debtor
