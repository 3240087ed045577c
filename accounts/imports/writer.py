"""Writing a chunk of good placement rows: new debtors, the creditor's references to
them, contact points with their derived time zones, accounts with their opening ledger
entries and "placed" events, and — for rows attached to a debtor who already existed —
match records and review work items.

A fixed number of bulk inserts per chunk, never one save per row. It runs inside the
import's one transaction and never commits: a failure anywhere leaves nothing behind.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.imports.matching import DebtorMatcher
from accounts.imports.models import PlacementMatch
from accounts.models import ZERO, Account
from accounts.services import account_open_bulk
from debtors.models import ContactPoint, Debtor, DebtorReference, Source
from debtors.services import contact_point_build
from recovery.models import WorkItem

BATCH = 2000
REVIEW_DUE = timedelta(days=2)


@dataclass
class ChunkCounts:
    imported: int = 0
    total_placed: Decimal = ZERO
    debtors_created: int = 0
    debtors_matched: int = 0
    matches_to_review: int = 0

    def __iadd__(self, other):
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def contact_point_specs(values):
    """(kind, fields) of each contact point a row gives, in order: its address (a street
    and a ZIP), its phones (already E.164: the parsers normalise them exactly as
    contact_point_build does) and its email. One place for both writers."""
    if values.get("address1") and values.get("zip"):
        yield (
            ContactPoint.Kind.ADDRESS,
            {
                "line1": values["address1"],
                "line2": values.get("address2", ""),
                "city": values.get("city", ""),
                "state": values.get("state", ""),
                "postal_code": values["zip"],
            },
        )
    for key, is_work in (("phone", False), ("phone_2", False), ("work_phone", True)):
        if values.get(key):
            yield ContactPoint.Kind.PHONE, {"value": values[key], "is_work": is_work}
    if values.get("email"):
        yield ContactPoint.Kind.EMAIL, {"value": values["email"]}


def contact_points_for(values, debtor, have=frozenset()):
    """Unsaved, validated contact points of one row (phones in E.164, time zones derived
    from the ZIP code or the area code by debtors.services.contact_point_build). Phones
    and emails already in `have` ((debtor id, kind, value)) are skipped before the costly
    derivation; the caller still checks what it gets against `have`."""
    points = []
    for kind, fields in contact_point_specs(values):
        if "value" in fields and (debtor.pk, kind, fields["value"]) in have:
            continue
        points.append(
            contact_point_build(debtor=debtor, kind=kind, source=Source.PLACEMENT, **fields)
        )
    return points


class ChunkWriter:
    """Writes the good rows of one import, chunk after chunk."""

    def __init__(self, *, placement_import, placement, actor=None):
        self.placement_import = placement_import
        self.placement = placement
        self.creditor = placement.creditor
        self.office_id = placement.office_id
        self.currency = placement_import.office.default_currency
        self.actor = actor
        self.matcher = DebtorMatcher(creditor=self.creditor)
        self.sequence = 0

    def close(self):
        """Nothing to release (the COPY writer drops its staging tables here)."""

    def write(self, rows):
        resolutions = self.matcher.resolve(rows)
        new_debtors = [r.debtor for r in resolutions if r.is_new]
        Debtor.objects.bulk_create(new_debtors, batch_size=BATCH)
        references = self._references(resolutions)
        added = self._contact_points(rows, resolutions, {id(d) for d in new_debtors})
        accounts = account_open_bulk(
            accounts=[self._account(row, r) for row, r in zip(rows, resolutions, strict=True)],
            actor=self.actor,
            batch_size=BATCH,
        )
        reviews = self._review_items(rows, resolutions, accounts)
        matches = [
            PlacementMatch(
                office_id=self.office_id,
                placement_import=self.placement_import,
                account=accounts[n],
                line=row.line,
                debtor_id=r.debtor.pk,
                method=r.method,
                reason=r.reason,
                work_item=reviews.get(n),
                added_contact_point_ids=added.get(n, []),
                linked_reference=references.get(n),
            )
            for n, (row, r) in enumerate(zip(rows, resolutions, strict=True))
            if r.method
        ]
        PlacementMatch.objects.bulk_create(matches, batch_size=BATCH)
        return ChunkCounts(
            imported=len(accounts),
            total_placed=sum((a.total_placed for a in accounts), ZERO),
            debtors_created=len(new_debtors),
            debtors_matched=len(matches),
            matches_to_review=len(reviews),
        )

    def _references(self, resolutions):
        """Link each new creditor customer id to its debtor; {row index: reference}."""
        references = {
            n: DebtorReference(
                office_id=self.office_id,
                debtor=r.debtor,
                creditor=self.creditor,
                reference=r.new_reference,
                source=Source.PLACEMENT,
            )
            for n, r in enumerate(resolutions)
            if r.new_reference
        }
        DebtorReference.objects.bulk_create(list(references.values()), batch_size=BATCH)
        return {n: ref for n, ref in references.items() if resolutions[n].method}

    def _contact_points(self, rows, resolutions, new_ids):
        """Add each row's contact points to its debtor, skipping ones the debtor already
        has. Returns {row index: ids added} for rows attached to an existing debtor."""
        existing = {r.debtor.pk for r in resolutions if id(r.debtor) not in new_ids}
        present = set()
        if existing:
            present = set(
                ContactPoint.objects.filter(debtor_id__in=existing).values_list(
                    "debtor_id", "kind", "value"
                )
            )
        points, owners, has_primary = [], [], set()
        for n, (row, r) in enumerate(zip(rows, resolutions, strict=True)):
            for point in contact_points_for(row.values, r.debtor, present):
                key = (r.debtor.pk, point.kind, point.value)
                if key in present:
                    continue
                present.add(key)
                # The first of each kind on a new debtor is where we reach them first.
                if id(r.debtor) in new_ids and (r.debtor.pk, point.kind) not in has_primary:
                    point.is_primary = True
                    has_primary.add((r.debtor.pk, point.kind))
                points.append(point)
                owners.append(n)
        ContactPoint.objects.bulk_create(points, batch_size=BATCH)
        added = defaultdict(list)
        for point, n in zip(points, owners, strict=True):
            if resolutions[n].method:
                added[n].append(point.pk)
        return added

    def _account(self, row, resolution):
        return Account(
            creditor=self.creditor,
            placement=self.placement,
            debtor=resolution.debtor,
            **self._account_fields(row),
        )

    def _account_fields(self, row):
        """The new account's own fields from a row (one place for both writers)."""
        v = row.values
        self.sequence += 1
        parts = [v.get(k) or ZERO for k in ("principal", "interest", "fees")]
        # From the row: a debtor matched by id only is a stub that does not know its kind.
        is_business = bool(v.get("business_name")) and not v.get("last_name")
        rate = v.get("interest_rate") or Decimal("0")
        placed_at = self.placement.placed_at
        return dict(
            office_id=self.office_id,
            creditor_reference=v["creditor_reference"],
            office_reference=f"P{self.placement.pk}-{self.sequence:04d}",
            original_creditor=v.get("original_creditor", ""),
            original_account_last4=v.get("original_account", ""),
            debt_type=v.get("debt_type")
            or (Account.DebtType.COMMERCIAL if is_business else Account.DebtType.CONSUMER),
            governing_law_state=v.get("state", ""),
            currency=v.get("currency") or self.currency,
            origination_date=v.get("origination_date"),
            charge_off_date=v.get("charge_off_date"),
            last_payment_date=v.get("last_payment_date"),
            itemization_date=v.get("itemization_date") or v.get("charge_off_date"),
            itemization_amount=sum(parts, ZERO),
            interest_type=Account.InterestType.SIMPLE if rate else Account.InterestType.NONE,
            interest_rate=rate,
            principal_balance=parts[0],
            interest_balance=parts[1],
            fees_balance=parts[2],
            placed_at=placed_at,
            status_changed_at=placed_at,
        )

    def _review_items(self, rows, resolutions, accounts):
        """A review work item per uncertain match; {row index: item}."""
        due = timezone.now() + REVIEW_DUE
        items = {
            n: WorkItem(
                office_id=self.office_id,
                kind=WorkItem.Kind.REVIEW,
                title="Check a debtor match from a placement file",
                detail=(
                    f"Row {row.line} of placement import {self.placement_import.pk} was "
                    f"attached to an existing debtor. {r.reason} Keep the match (mark this "
                    "done), or split the account onto its own debtor from the import's page."
                ),
                account=accounts[n],
                due_at=due,
            )
            for n, (row, r) in enumerate(zip(rows, resolutions, strict=True))
            if r.method == PlacementMatch.Method.UNCERTAIN
        }
        WorkItem.objects.bulk_create(list(items.values()), batch_size=BATCH)
        return items
