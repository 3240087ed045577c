"""Which debtor a placement row belongs to.

In order: the creditor's own customer id (an exact `DebtorReference`); then last name +
date of birth + SSN last 4, through the blind index `match_bidx`; then — uncertain — the
same last name and date of birth with a different or missing SSN last 4, which attaches
the row to that debtor and sends it to a person for review (an unmerge undoes it).
Anything else is a new debtor.

Rows are resolved a chunk at a time with three queries however long the chunk, among
the office's debtors (during an import that includes those written from earlier chunks
of the same file) and among the chunk's own rows, so a person with three debts in the
file is one debtor with three accounts. Nothing here writes: new debtors come back
unsaved, and rows of the same new person share one instance.
"""

from dataclasses import dataclass
from typing import NamedTuple

from accounts.imports.lookups import rows_by_keys
from accounts.imports.models import PlacementMatch
from debtors.models import Debtor, DebtorReference
from recovery import tenancy
from recovery.crypto import blind_index

Method = PlacementMatch.Method


@dataclass
class Resolution:
    debtor: Debtor
    # This row creates the debtor (all later rows of the same person point at it).
    is_new: bool
    # How a row was attached to a debtor who already existed; "" for a new debtor.
    method: str = ""
    reason: str = ""
    # The creditor's customer id to link to the debtor (first time we see it).
    new_reference: str = ""


class _Keys(NamedTuple):  # a tuple: it travels between processes (ahead) cheaply
    ref: str | None
    match: str | None
    name_dob: tuple | None
    ssn: str


class BlindIndexes(dict):
    """`blind_index` remembered per value for the length of one import: last names,
    dates of birth and SSN last-4s repeat across rows, and each is hashed twice (to match,
    then to store). Per import, never process-wide, so a changed key is never stale; and
    bounded, so memory stays flat however long the file."""

    LIMIT = 100_000

    def __missing__(self, parts):
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[parts] = blind_index(*parts)
        return value

    def of(self, *parts):
        return self[parts]


def row_keys(values, bidx=None):
    bidx = bidx if bidx is not None else BlindIndexes()
    last, dob, ssn = (values.get(k) for k in ("last_name", "date_of_birth", "ssn_last4"))
    dob_iso = dob.isoformat() if dob else ""
    return _Keys(
        ref=values.get("creditor_debtor_id"),
        match=bidx.of(last, dob_iso, ssn) if last and dob and ssn else None,
        name_dob=(bidx.of(last), bidx.of(dob_iso)) if last and dob else None,
        ssn=bidx.of(ssn) if ssn else "",
    )


def debtor_from_row(values, *, office_id, bidx=None, model=Debtor):
    """An unsaved Debtor carrying the row's identity, blind indexes filled in (exactly as
    `Debtor.refresh_blind_indexes` fills them). `model` may be any class taking the
    fields as keywords (the COPY writer needs the values, not a model instance)."""
    is_business = bool(values.get("business_name")) and not values.get("last_name")
    dob = values.get("date_of_birth")
    debtor = model(
        office_id=office_id,
        kind=Debtor.Kind.BUSINESS if is_business else Debtor.Kind.PERSON,
        first_name=values.get("first_name", ""),
        middle_name=values.get("middle_name", ""),
        last_name=values.get("last_name", ""),
        business_name=values.get("business_name", ""),
        date_of_birth=dob.isoformat() if dob else "",
        ssn_last4=values.get("ssn_last4", ""),
        language=values.get("language", "en"),
    )
    if bidx is None:
        debtor.refresh_blind_indexes()
        return debtor
    d = debtor
    d.dob_bidx = bidx.of(d.date_of_birth) if d.date_of_birth else ""
    d.ssn_last4_bidx = bidx.of(d.ssn_last4) if d.ssn_last4 else ""
    d.last_name_bidx = bidx.of(d.last_name) if d.last_name else ""
    parts = (d.last_name, d.date_of_birth, d.ssn_last4)
    d.match_bidx = bidx.of(*parts) if all(parts) else ""
    return debtor


def _uncertain_reason(row_ssn, record_ssn):
    if not row_ssn:
        return "Same last name and date of birth; the file gives no SSN last 4."
    if not record_ssn:
        return "Same last name and date of birth; our record has no SSN last 4."
    return "Same last name and date of birth, but a different SSN last 4."


class DebtorMatcher:
    def __init__(self, *, creditor):
        self.creditor = creditor
        self.office_id = tenancy.current_office_id()
        self.bidx = BlindIndexes()
        # The new debtor of a row that matches no one (a writer may make its own kind).
        self.new_debtor = lambda row: debtor_from_row(
            row.values, office_id=self.office_id, bidx=self.bidx
        )

    def _stub(self, debtor_id):
        return Debtor(pk=debtor_id, office_id=self.office_id) if debtor_id else None

    def _lookups(self, keys):
        """The office's debtors for these keys, by customer id, by identity and by last
        name + date of birth (the oldest debtor of each), in three queries."""
        by_ref = dict(
            rows_by_keys(
                DebtorReference, ("reference", "debtor_id"), ("reference",),
                [(k.ref,) for k in keys if k.ref], creditor_id=self.creditor.pk,
            )
        )  # fmt: skip
        by_match, by_name_dob = {}, {}
        matches = [(k.match,) for k in keys if k.match]
        for debtor_id, match in rows_by_keys(
            Debtor, ("id", "match_bidx"), ("match_bidx",), matches
        ):
            by_match.setdefault(match, debtor_id)
        name_dobs = [k.name_dob for k in keys if k.name_dob]
        for debtor_id, *name_dob, ssn in rows_by_keys(
            Debtor, ("id", "last_name_bidx", "dob_bidx", "ssn_last4_bidx"),
            ("last_name_bidx", "dob_bidx"), name_dobs,
        ):  # fmt: skip
            by_name_dob.setdefault(tuple(name_dob), (debtor_id, ssn))
        return by_ref, by_match, by_name_dob

    def resolve(self, rows, keys=None):
        """One Resolution per row, in order (`keys`: the rows' `row_keys`, when known)."""
        if keys is None:
            keys = [row_keys(row.values, self.bidx) for row in rows]
        by_ref, by_match, by_name_dob = self._lookups(keys)
        local_ref, local_match, local_name_dob = {}, {}, {}
        resolutions = []
        for row, k in zip(rows, keys, strict=True):
            debtor, method, reason = None, "", ""
            if k.ref:
                debtor = local_ref.get(k.ref) or self._stub(by_ref.get(k.ref))
                method = Method.CREDITOR_ID
            if debtor is None and k.match:
                debtor = local_match.get(k.match) or self._stub(by_match.get(k.match))
                method = Method.IDENTITY
            if debtor is None and k.name_dob:
                # The older debtor first: one already in the office, then one of this chunk.
                debtor_id, record_ssn = by_name_dob.get(k.name_dob, (None, ""))
                debtor = self._stub(debtor_id)
                if debtor is None and k.name_dob in local_name_dob:
                    debtor, record_ssn = local_name_dob[k.name_dob]
                method, reason = Method.UNCERTAIN, _uncertain_reason(k.ssn, record_ssn)
            resolution = Resolution(debtor=debtor, is_new=debtor is None)
            if debtor is None:
                resolution.debtor = self.new_debtor(row)
            else:
                resolution.method, resolution.reason = method, reason
            if resolution.method == Method.UNCERTAIN:
                # Nothing is learnt from a guess: later rows of this person are guesses
                # too (each reviewed), and no customer id is tied to the wrong debtor.
                resolutions.append(resolution)
                continue
            if k.ref and k.ref not in by_ref and k.ref not in local_ref:
                local_ref[k.ref] = resolution.debtor
                resolution.new_reference = k.ref
            if k.match:
                local_match.setdefault(k.match, resolution.debtor)
            if k.name_dob:
                local_name_dob.setdefault(k.name_dob, (resolution.debtor, k.ssn))
            resolutions.append(resolution)
        return resolutions
