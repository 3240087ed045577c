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
"""

from collections import defaultdict

import phonenumbers
from django.utils import timezone
from phonenumbers import timezone as phone_timezone

from accounts.imports.models import PlacementMatch
from accounts.imports.writer import ChunkCounts, ChunkWriter, contact_point_specs
from accounts.models import Account
from accounts.services import OPENING_TABLES, account_open_staged
from accounts.staging import Staging
from debtors.models import ContactPoint, Source
from debtors.services import phone_type_of
from debtors.timezones import _MAX_MEANINGFUL_ZONES as MAX_MEANINGFUL_ZONES
from debtors.timezones import candidate_zones
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
_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: ContactPoint.PhoneType.MOBILE.value,
    phonenumbers.PhoneNumberType.FIXED_LINE: ContactPoint.PhoneType.LANDLINE.value,
    phonenumbers.PhoneNumberType.VOIP: ContactPoint.PhoneType.VOIP.value,
}


def _json_list(items):
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


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


def _phone_facts(e164):
    """(phone type, zones as JSON, zone source) of an E.164 number, as
    `contact_point_build` derives them (`phone_type_of`, `candidate_zones`) but with one
    type lookup instead of three parses and two lookups (the costliest step of an
    import). North American numbers only; others take the app's own functions."""
    if not (e164.startswith("+1") and e164[2:].isdigit()):
        zones, source = candidate_zones(kind=PHONE, value=e164)
        return phone_type_of(e164), _json_list(zones), source
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(e164[2:]))
    ntype = phonenumbers.number_type(number)
    kind = _PHONE_TYPES.get(ntype, ContactPoint.PhoneType.UNKNOWN.value)
    # phonenumbers.timezone.time_zones_for_number, with the type already known.
    if ntype == phonenumbers.PhoneNumberType.UNKNOWN:
        zones = []
    elif not phonenumbers.is_number_type_geographical(ntype, 1):
        zones = list(phone_timezone._country_level_time_zones_for_number(number))
    else:
        zones = list(phone_timezone.time_zones_for_geographical_number(number))
    # debtors.timezones.zones_for_phone: an unknown or too-wide answer says nothing.
    zones = [z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE]
    if not zones or len(zones) > MAX_MEANINGFUL_ZONES:
        return kind, "[]", "unknown"
    return kind, _json_list(sorted(zones)), "area_code"


def _zip_facts(postal_code):
    zones, source = candidate_zones(kind=ADDRESS, postal_code=postal_code)
    return _json_list(zones), source


class CopyChunkWriter(ChunkWriter):
    """Writes the good rows of one import through COPY, chunk after chunk."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.staging = Staging(TABLES)
        self.phones = _Facts(_phone_facts)
        self.zips = _Facts(_zip_facts)

    def close(self):
        self.staging.close()

    def write(self, rows):
        now = timezone.now()
        office_id = self.office_id
        resolutions = self.matcher.resolve(rows)
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
            [
                (d.pk, office_id, d.kind, d.first_name, d.middle_name, d.last_name,
                 d.business_name, encrypt(d.date_of_birth) if d.date_of_birth else "",
                 encrypt(d.ssn_last4) if d.ssn_last4 else "", d.dob_bidx, d.ssn_last4_bidx,
                 d.last_name_bidx, d.match_bidx, d.language, now)
                for d in new_debtors
            ],
        )  # fmt: skip
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
        present = set()
        if existing:
            present = set(
                ContactPoint.objects.filter(debtor_id__in=existing).values_list(
                    "debtor_id", "kind", "value"
                )
            )
        points, owners, has_primary = [], [], set()
        source = Source.PLACEMENT.value
        for n, (row, r) in enumerate(zip(rows, resolutions, strict=True)):
            # New debtors have no id yet: tell them apart by the instance.
            owner = ("new", id(r.debtor)) if r.is_new or r.debtor.pk is None else r.debtor.pk
            for kind, f in contact_point_specs(row.values):
                kind = kind.value
                if kind == ADDRESS:
                    parts = [f["line1"], f["line2"], f["city"],
                             f"{f['state']} {f['postal_code']}".strip()]  # fmt: skip
                    value = ", ".join(p for p in parts if p)
                    zones, zone_source = self.zips[f["postal_code"]]
                    phone_type = ""
                elif kind == PHONE:
                    value = f["value"]
                    phone_type, zones, zone_source = self.phones[value]
                else:
                    value, phone_type, zones, zone_source = f["value"], "", "[]", "unknown"
                key = (owner, kind, value)
                if key in present:
                    continue
                present.add(key)
                # The first of each kind on a new debtor is where we reach them first.
                primary = False
                if not isinstance(owner, int) and (owner, kind) not in has_primary:
                    primary = True
                    has_primary.add((owner, kind))
                points.append(
                    (kind, value, phone_type, f.get("line1", ""), f.get("line2", ""),
                     f.get("city", ""), f.get("state", ""), f.get("postal_code", ""),
                     f.get("is_work", False), primary, source, zones, zone_source, now)
                )  # fmt: skip
                owners.append(n)
        return points, owners
