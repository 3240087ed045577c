"""The PostgreSQL writer of placement rows: the rows `writer.ChunkWriter` writes — new
debtors, the creditor's references to them, contact points with their derived time
zones, accounts with their opening ledger entries and "placed" events, match records and
review work items — but as CSV streamed with COPY into temporary staging tables and moved
with one `INSERT … SELECT` per table (`accounts.staging`), instead of model instances
and `bulk_create`.

Ids come from the tables' sequences up front (one query per chunk), so a chunk's rows can
refer to each other before any is written. It runs inside the import's one transaction
and never commits: the staging tables die with it, and a failure anywhere leaves
nothing behind. The unique keys (account number per creditor, customer id per creditor,
contact point per debtor) stay the last word on duplicates. What the rows say is decided
in `writer` (account fields, which contact points a row gives) and `matching` (which
debtor), shared with the ORM writer, so both write the same thing; the tests compare them.

What needs no database — blind indexes, encryption, phone types and time zones — is
done per row by `RowPreparer`, in the process reading the file ahead (`ahead`) when
there is one, so this process mostly hands rows to PostgreSQL. Foreign keys are checked
statement by statement while it writes, not all at commit.
"""

from collections import defaultdict
from typing import NamedTuple

from django.utils import timezone

from accounts.imports.facts import phone_facts, zip_facts
from accounts.imports.lookups import rows_by_keys
from accounts.imports.matching import BlindIndexes, debtor_from_row, row_keys
from accounts.imports.models import PlacementMatch
from accounts.imports.writer import ChunkCounts, ChunkWriter, contact_point_specs
from accounts.models import Account
from accounts.services import OPENING_TABLES, account_open_staged
from accounts.staging import Staging
from debtors.models import ContactPoint, Source
from recovery.crypto import encrypt

BATCH = 2000
PHONE, EMAIL, ADDRESS = (ContactPoint.Kind.PHONE.value, ContactPoint.Kind.EMAIL.value,
                         ContactPoint.Kind.ADDRESS.value)  # fmt: skip
TABLES = {
    "debtor": ("debtors.Debtor", (
        "id", "office_id", "kind", "first_name", "middle_name", "last_name", "business_name",
        "date_of_birth", "ssn_last4", "dob_bidx", "ssn_last4_bidx", "last_name_bidx",
        "match_bidx", "language", "created_at",
    )),
    "debtorreference": ("debtors.DebtorReference", (
        "id", "office_id", "debtor_id", "creditor_id", "reference", "source", "created_at",
    )),
    "contactpoint": ("debtors.ContactPoint", (
        "id", "office_id", "debtor_id", "kind", "value", "phone_type", "line1", "line2", "city",
        "state", "postal_code", "is_work", "is_primary", "source", "candidate_timezones",
        "timezone_source", "created_at",
    )),
    **OPENING_TABLES,
}  # fmt: skip


class _Facts(dict):
    """Derived facts of contact point values, remembered for one import (bounded)."""

    LIMIT = 50_000

    def __init__(self, derive):
        super().__init__()
        self.derive = derive

    def __missing__(self, key):
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[key] = self.derive(key)
        return value


class Prepared(NamedTuple):
    """What a good row will write that the database has no say in (a tuple: it travels
    from the process reading the file cheaply)."""

    keys: object  # matching._Keys
    # Debtor columns from "kind" to "language" (TABLES order), should the row create one.
    debtor: tuple
    # Contact points: columns from "kind" to "is_work", then "candidate_timezones" and
    # "timezone_source" (TABLES order; primary, source and time are decided on writing).
    points: list


class RowPreparer:
    """Prepares good rows for `CopyChunkWriter`: blind indexes, the new debtor's columns
    (date of birth and SSN last 4 encrypted), contact points with their phone types and
    time zones. The costly, per-row, database-free part of writing a row: it runs in the
    child process that reads the file (`ahead`) when there is one. Remembers values for
    one import, bounded."""

    def __init__(self, office_id):
        self.office_id = office_id
        self.bidx = BlindIndexes()
        self.phones = _Facts(phone_facts)
        self.zips = _Facts(zip_facts)
        # Equal dates of birth (SSN last-4s) of one import share a ciphertext: their
        # blind indexes are equal anyway, so this tells a reader of the table nothing new.
        self.ciphers = _Facts(encrypt)

    def __call__(self, row):
        v = row.values
        d = debtor_from_row(v, office_id=self.office_id, bidx=self.bidx, model=_DebtorFields)
        debtor = (
            d.kind, d.first_name, d.middle_name, d.last_name, d.business_name,
            self.ciphers[d.date_of_birth] if d.date_of_birth else "",
            self.ciphers[d.ssn_last4] if d.ssn_last4 else "",
            d.dob_bidx, d.ssn_last4_bidx, d.last_name_bidx, d.match_bidx, d.language,
        )  # fmt: skip
        points = []
        for kind, f in contact_point_specs(v):
            kind = kind.value
            if kind == ADDRESS:
                parts = [f["line1"], f["line2"], f["city"],
                         f"{f['state']} {f['postal_code']}".strip()]  # fmt: skip
                zones, zone_source = self.zips[f["postal_code"]]
                points.append(
                    (kind, ", ".join(p for p in parts if p), "", f["line1"], f["line2"],
                     f["city"], f["state"], f["postal_code"], False, zones, zone_source)
                )  # fmt: skip
            elif kind == PHONE:
                phone_type, zones, zone_source = self.phones[f["value"]]
                points.append((kind, f["value"], phone_type, "", "", "", "", "",
                               f["is_work"], zones, zone_source))  # fmt: skip
            else:
                points.append((kind, f["value"], "", "", "", "", "", "", False, "[]", "unknown"))
        row.prepared = Prepared(keys=row_keys(v, self.bidx), debtor=debtor, points=points)
        return row


class _DebtorFields:
    """A new debtor's fields without a model instance (see `matching.debtor_from_row`)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class _NewDebtor:
    """A debtor a row creates, until it is written: its id, and its prepared columns."""

    __slots__ = ("pk", "columns")

    def __init__(self, row):
        self.pk = None
        self.columns = row.prepared.debtor


class CopyChunkWriter(ChunkWriter):
    """Writes the good rows of one import through COPY, chunk after chunk."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.staging = Staging(TABLES)
        self.prepare = RowPreparer(self.office_id)
        self.matcher.new_debtor = _NewDebtor
        # Foreign keys checked as each chunk is written rather than all at commit: while
        # the next chunk is being read ahead, not after it; and PostgreSQL does not have
        # to queue millions of deferred checks in memory. Back to deferred on closing.
        self.staging.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def close(self):
        self.staging.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.staging.close()

    def write(self, rows):
        now = timezone.now()
        office_id = self.office_id
        for row in rows:
            if row.prepared is None:
                self.prepare(row)
        resolutions = self.matcher.resolve(rows, keys=[row.prepared.keys for row in rows])
        new_debtors = [r.debtor for r in resolutions if r.is_new]
        new_refs = [n for n, r in enumerate(resolutions) if r.new_reference]
        points, owners = self._contact_points(rows, resolutions, now)
        ids = self.staging.reserve_ids(
            {
                "debtor": len(new_debtors),
                "debtorreference": len(new_refs),
                "contactpoint": len(points),
                "account": len(rows),
            }
        )
        for debtor, pk in zip(new_debtors, ids["debtor"], strict=True):
            debtor.pk = pk
        self.staging.load(
            "debtor",
            [(d.pk, office_id, *d.columns, now) for d in new_debtors],
        )
        creditor_id = self.creditor.pk
        references = dict(zip(new_refs, ids["debtorreference"], strict=True))
        self.staging.load(
            "debtorreference",
            [
                (pk, office_id, resolutions[n].debtor.pk, creditor_id,
                 resolutions[n].new_reference, Source.PLACEMENT.value, now)
                for n, pk in references.items()
            ],
        )  # fmt: skip
        added = defaultdict(list)
        cp_rows = []
        for point, n, pk in zip(points, owners, ids["contactpoint"], strict=True):
            debtor = resolutions[n].debtor
            cp_rows.append((pk, office_id, debtor.pk, *point))
            if resolutions[n].method:
                added[n].append(pk)
        self.staging.load("contactpoint", cp_rows)
        placement_id = self.placement.pk
        accounts = []
        for row, r, pk in zip(rows, resolutions, ids["account"], strict=True):
            fields = self._account_fields(row)
            fields.update(id=pk, placement_id=placement_id, debtor_id=r.debtor.pk)
            accounts.append(fields)
        total = account_open_staged(
            staging=self.staging, accounts=accounts, creditor=self.creditor, actor=self.actor
        )
        matched = [n for n, r in enumerate(resolutions) if r.method]
        reviews = {}
        if matched:
            stubs = {n: Account(pk=ids["account"][n], office_id=office_id) for n in matched}
            reviews = self._review_items(rows, resolutions, stubs)
            PlacementMatch.objects.bulk_create(
                [
                    PlacementMatch(
                        office_id=office_id,
                        placement_import=self.placement_import,
                        account_id=ids["account"][n],
                        line=rows[n].line,
                        debtor_id=resolutions[n].debtor.pk,
                        method=resolutions[n].method,
                        reason=resolutions[n].reason,
                        work_item=reviews.get(n),
                        added_contact_point_ids=added.get(n, []),
                        linked_reference_id=references.get(n),
                    )
                    for n in matched
                ],
                batch_size=BATCH,
            )
        return ChunkCounts(
            imported=len(rows),
            total_placed=total,
            debtors_created=len(new_debtors),
            debtors_matched=len(matched),
            matches_to_review=len(reviews),
        )

    def _contact_points(self, rows, resolutions, now):
        """Each row's contact points (tuples in TABLES order after debtor_id), skipping
        ones its debtor already has; and the row index each belongs to."""
        existing = {r.debtor.pk for r in resolutions if not r.is_new and r.debtor.pk}
        present = set(
            rows_by_keys(
                ContactPoint, ("debtor_id", "kind", "value"), ("debtor_id",),
                [(pk,) for pk in existing],
            )
        )  # fmt: skip
        points, owners, has_primary = [], [], set()
        source = Source.PLACEMENT.value
        for n, (row, r) in enumerate(zip(rows, resolutions, strict=True)):
            # New debtors have no id yet: tell them apart by the instance.
            owner = ("new", id(r.debtor)) if r.is_new or r.debtor.pk is None else r.debtor.pk
            for point in row.prepared.points:
                kind, value = point[0], point[1]
                key = (owner, kind, value)
                if key in present:
                    continue
                present.add(key)
                # The first of each kind on a new debtor is where we reach them first.
                primary = False
                if not isinstance(owner, int) and (owner, kind) not in has_primary:
                    primary = True
                    has_primary.add((owner, kind))
                points.append((*point[:9], primary, source, *point[9:], now))
                owners.append(n)
        return points, owners
