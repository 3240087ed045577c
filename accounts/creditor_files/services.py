"""The verb of creditor and vendor files: `creditor_file_apply` stores the file, checks
every row (line, column, message), and applies the good ones through the services that
own each change — all inside one transaction, so an interruption leaves nothing
half-written and "all or nothing" rolls every row back when one is bad.

Re-running a file changes nothing twice: a recalled account stays recalled, a direct
payment is keyed by the creditor's payment reference, a circumstance with the same kind
and start is not recorded again, a contact point the debtor already has is not added.
Such rows count as "unchanged".
"""

import hashlib
import itertools
import os
import zoneinfo
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.creditor_files.fields import (
    FIELDS,
    REFERENCE_KEYS,
    mapping_guess,
    mapping_problems,
    row_rules,
)
from accounts.creditor_files.models import CreditorFile
from accounts.imports import progress
from accounts.imports.parsers import CellError
from accounts.imports.reader import FileProblem, cell_text, document_sheet, sheet_open
from accounts.imports.rejected import RejectedRows
from accounts.imports.services import CONTENT_TYPES
from accounts.imports.validation import Problem, Row, office_today
from accounts.models import Account, AccountStatus
from accounts.services import account_recall
from accounts.tasks import creditor_file_task
from debtors.models import Circumstance, ContactPoint, Debtor, DebtorReference, Source
from debtors.services import contact_point_build
from payments.services.direct import payment_direct_report
from recovery import tenancy
from recovery.crypto import blind_index
from recovery.models import Document

CHUNK_ROWS = 500
INLINE_MAX_ROWS = 2000  # larger files are applied in the background, with progress
ERRORS_KEPT = 200
APPLIED, UNCHANGED = "applied", "unchanged"


class _RollBack(Exception):
    """Raised inside the file's savepoint to undo every row it applied."""


def creditor_file_apply(*, creditor, kind, upload, mode, user=None, background=True):
    """Store and apply one file for `creditor` in the office in context; returns the
    CreditorFile. Raises ValidationError (nothing stored) for a file that cannot be
    read or lacks a column it needs. With `background`, a file of more than
    INLINE_MAX_ROWS rows is queued for a worker instead (status `queued`)."""
    if kind not in CreditorFile.Kind.values:
        raise ValidationError("Choose what kind of file this is.")
    if mode not in CreditorFile.Mode.values:
        raise ValidationError("Choose how to treat rows with problems.")
    name = os.path.basename(getattr(upload, "name", "") or f"{kind}.csv")[-200:]
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    try:
        with sheet_open(upload) as sheet:
            headers, file_format, estimate = sheet.headers, sheet.format, sheet.estimated_rows
    except FileProblem as exc:
        raise ValidationError(str(exc)) from exc
    mapping = mapping_guess(kind, headers)
    problems = mapping_problems(kind, mapping)
    if problems:
        raise ValidationError(problems)
    upload.seek(0)
    with transaction.atomic():
        document = Document(
            office_id=tenancy.current_office_id(),  # named in the storage path
            kind=Document.Kind.UPLOAD,
            title=name,
            content_type=CONTENT_TYPES[file_format],
            sha256=digest.hexdigest(),
            size=upload.size,
            created_by=user,
        )
        document.file.save(name, upload, save=False)
        document.save()
        cfile = CreditorFile.objects.create(
            creditor=creditor,
            kind=kind,
            mode=mode,
            document=document,
            file_name=name,
            sha256=document.sha256,
            mapping=mapping,
            row_estimate=estimate,
            created_by=user,
        )
        if not background or estimate <= INLINE_MAX_ROWS:
            _run(cfile)
            return cfile
        cfile.status = CreditorFile.Status.QUEUED
        cfile.save(update_fields=["status"])
        progress.progress_set(cfile, phase="queued")
        office_id, file_id = cfile.office_id, cfile.pk
        transaction.on_commit(lambda: creditor_file_task.delay(office_id, file_id))
    return cfile


def creditor_file_run(*, office_id, file_id):
    """Apply a queued file (the background task). Idempotent: a finished file is
    returned as it is, so a redelivered task does nothing."""
    with tenancy.office_context(office_id):
        cfile = (
            CreditorFile.objects.select_for_update(of=("self",))
            .select_related("creditor", "document", "created_by")
            .get(pk=file_id)
        )
        if not cfile.is_finished:
            _run(cfile)
        return cfile


def _run(cfile):
    rejected = RejectedRows(list(_headers(cfile)))
    started = timezone.now()
    applier = _Applier(cfile, started)
    try:
        with transaction.atomic():
            with document_sheet(cfile.document) as sheet:
                for chunk in _chunks(_checked_rows(cfile, sheet), CHUNK_ROWS):
                    _progress(cfile, "importing")
                    _resolve(cfile, chunk)
                    for row in chunk:
                        cfile.rows_read += 1
                        outcome = applier.apply(row) if row.ok else None
                        if outcome is None:
                            _reject(cfile, rejected, row)
                        elif outcome == APPLIED:
                            cfile.rows_applied += 1
                        else:
                            cfile.rows_unchanged += 1
            if not cfile.rows_read:
                raise FileProblem("The file has a header row but no rows under it.")
            if cfile.rows_rejected and cfile.mode == CreditorFile.Mode.ALL_OR_NOTHING:
                raise _RollBack
    except _RollBack:
        cfile.rows_applied = cfile.rows_unchanged = 0
    except FileProblem as exc:
        cfile.failure = str(exc)
        cfile.rows_applied = cfile.rows_unchanged = 0
    if cfile.failure:
        cfile.status = CreditorFile.Status.FAILED
    elif cfile.rows_applied or cfile.rows_unchanged:
        cfile.status = CreditorFile.Status.DONE
    else:
        cfile.status = CreditorFile.Status.REJECTED
    if cfile.rows_rejected:
        cfile.rejected_document = rejected.save_document(
            title=f"Rejected rows of {cfile.file_name}", user=cfile.created_by
        )
    rejected.close()
    cfile.save()
    _progress(cfile, "done")


def _progress(cfile, phase):
    progress.progress_set(
        cfile,
        phase=phase,
        read=cfile.rows_read,
        imported=cfile.rows_applied + cfile.rows_unchanged,
        rejected=cfile.rows_rejected,
    )


def _headers(cfile):
    with document_sheet(cfile.document) as sheet:
        return sheet.headers


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _reject(cfile, rejected, row):
    rejected.add(row)
    cfile.rows_rejected += 1
    cfile.error_count += len(row.problems)
    room = max(ERRORS_KEPT - len(cfile.errors), 0)
    cfile.errors.extend(p.as_dict() for p in row.problems[:room])


def _column(cfile, key):
    label = next((f.label for f in FIELDS[cfile.kind] if f.key == key), key)
    return cfile.mapping.get(key) or label


def _checked_rows(cfile, sheet):
    """Rows with every mapped cell parsed and the rules that span cells checked."""
    columns = {key: sheet.headers.index(h) for key, h in cfile.mapping.items()}
    parsers = {f.key: f.parse for f in FIELDS[cfile.kind]}
    today = office_today(cfile.office)
    for line, cells in sheet.rows():
        if not any(cell_text(c).strip() for c in cells):
            continue
        row = Row(line=line, cells=list(cells), values={})
        failed = set()

        def problem(key, message, row=row):
            row.problems.append(Problem(row.line, _column(cfile, key), message))

        for key, index in columns.items():
            try:
                value = parsers[key](cells[index] if index < len(cells) else None)
            except CellError as exc:
                failed.add(key)
                problem(key, str(exc))
                continue
            if value is not None:
                row.values[key] = value
        row_rules(cfile.kind, row.values, failed, problem, today)
        yield row


def _resolve(cfile, rows):
    """Attach the account (and debtor) each row names, three queries per chunk."""
    wanted = {
        k: {r.values[k] for r in rows if r.ok and k in r.values}
        for k in ("creditor_reference", "office_reference", "creditor_debtor_id")
    }
    accounts = Account.objects.filter(creditor=cfile.creditor).select_related("debtor")
    by_creditor_ref = {
        a.creditor_reference: a
        for a in accounts.filter(creditor_reference__in=wanted["creditor_reference"])
    }
    by_office_ref = {
        a.office_reference: a
        for a in accounts.filter(office_reference__in=wanted["office_reference"])
    }
    debtors = {
        r.reference: r.debtor
        for r in DebtorReference.objects.filter(
            creditor=cfile.creditor, reference__in=wanted["creditor_debtor_id"]
        ).select_related("debtor")
    }
    people = _people(cfile, [r for r in rows if r.ok and not set(REFERENCE_KEYS) & set(r.values)])
    for row in rows:
        if not row.ok:
            continue
        v = row.values
        if not set(REFERENCE_KEYS) & set(v):  # a scrub row naming the person
            found = people.get(_person_key(v), [])
            if len(found) == 1:
                row.account, row.debtor = None, found[0]
            else:
                row.problems.append(
                    Problem(
                        row.line,
                        _column(cfile, "last_name"),
                        f"No customer of {cfile.creditor.name} placed with us has this last "
                        "name, date of birth and SSN."
                        if not found
                        else f"{len(found)} people placed with us share this last name, date "
                        "of birth and SSN: add the account number to say which.",
                    )
                )
            continue
        if "creditor_reference" in v:
            key, found = "creditor_reference", by_creditor_ref.get(v["creditor_reference"])
        elif "office_reference" in v:
            key, found = "office_reference", by_office_ref.get(v["office_reference"])
        else:
            key, found = "creditor_debtor_id", debtors.get(v["creditor_debtor_id"])
        if found is None:
            what = "customer" if key == "creditor_debtor_id" else "account"
            row.problems.append(
                Problem(
                    row.line,
                    _column(cfile, key),
                    f"{cfile.creditor.name} has no {what} {v[key]} placed with us.",
                )
            )
        elif isinstance(found, Account):
            row.account, row.debtor = found, found.debtor
        else:
            row.account, row.debtor = None, found


def _person_key(v):
    return blind_index(v["last_name"], v["date_of_birth"].isoformat(), v["ssn_last4"])


def _people(cfile, rows):
    """{blind index: [debtors]} for rows naming a person (last name, date of birth, SSN
    last 4), among the debtors with an account of this creditor: one query."""
    keys = {_person_key(r.values) for r in rows}
    if not keys:
        return {}
    found = {}
    debtors = Debtor.objects.filter(
        match_bidx__in=keys,
        pk__in=Account.objects.filter(creditor=cfile.creditor).values("debtor_id"),
    )
    for debtor in debtors:
        found.setdefault(debtor.match_bidx, []).append(debtor)
    return found


class _Applier:
    """Applies one checked row through the owning service, in a savepoint of its own:
    a row the service refuses becomes a problem and leaves nothing behind."""

    def __init__(self, cfile, started):
        self.cfile, self.started, self.actor = cfile, started, cfile.created_by
        self.zone = zoneinfo.ZoneInfo(cfile.office.time_zone)
        self.seen = {}

    def apply(self, row):
        seen_key = (getattr(row, "account", None), row.values.get("payment_reference"))
        if self.cfile.kind == "balance_update" and seen_key in self.seen:
            row.problems.append(
                Problem(
                    row.line,
                    _column(self.cfile, "payment_reference"),
                    f"This payment appears twice in this file (first on row "
                    f"{self.seen[seen_key]}).",
                )
            )
            return None
        self.seen[seen_key] = row.line
        try:
            with transaction.atomic():
                return getattr(self, self.cfile.kind)(row, row.values)
        except ValidationError as exc:
            for key, messages in _by_field(exc).items():
                column = _column(self.cfile, key) if key else ""
                row.problems.append(Problem(row.line, column, " ".join(messages)))
            return None

    def _start(self, day):
        return timezone.make_aware(datetime.combine(day, time()), self.zone)

    def recall(self, row, v):
        if row.account.status == AccountStatus.RECALLED:
            return UNCHANGED
        account_recall(account=row.account, reason=v["reason"], actor=self.actor)
        return APPLIED

    def balance_update(self, row, v):
        payment = payment_direct_report(
            account=row.account,
            amount=v["amount"],
            received_on=v["received_on"],
            reference=v["payment_reference"],
            actor=self.actor,
        )
        return UNCHANGED if payment.created_at < self.started else APPLIED

    def scrub(self, row, v):
        kind = v["result"]
        details = {"vendor": v["vendor"]}
        ends = None
        if kind == Circumstance.Kind.BANKRUPTCY:
            starts = v["filed_on"]
            details.update(chapter=v.get("chapter", ""), case=v.get("case_number", ""))
        elif kind == Circumstance.Kind.DECEASED:
            starts = v["date_of_death"]
        else:
            starts, ends = v["duty_start"], v.get("duty_end")
        effective_from = self._start(starts)
        if Circumstance.objects.filter(
            debtor=row.debtor, kind=kind, effective_from=effective_from
        ).exists():
            return UNCHANGED
        from compliance.services.circumstances import circumstance_record

        circumstance_record(
            debtor=row.debtor,
            kind=kind,
            # A bankruptcy is a court record the vendor found; the rest come from the
            # vendor's database searches (death master file, DMDC).
            source=Source.COURT if kind == Circumstance.Kind.BANKRUPTCY else Source.VENDOR,
            effective_from=effective_from,
            effective_to=self._start(ends) if ends else None,
            details=details,
            recorded_by=self.actor,
        )
        return APPLIED

    def skip_trace(self, row, v):
        points = []
        if "phone" in v:
            points.append({"kind": ContactPoint.Kind.PHONE, "value": v["phone"]})
        if "address1" in v:
            points.append(
                {
                    "kind": ContactPoint.Kind.ADDRESS,
                    "line1": v["address1"],
                    "line2": v.get("address2", ""),
                    "city": v.get("city", ""),
                    "state": v.get("state", ""),
                    "postal_code": v["zip"],
                }
            )
        added = 0
        for fields in points:
            cp = contact_point_build(debtor=row.debtor, source=Source.SKIP_TRACE, **fields)
            known = ContactPoint.objects.filter(debtor=row.debtor, kind=cp.kind, value=cp.value)
            if known.exists():
                continue
            cp.save()
            added += 1
        return APPLIED if added else UNCHANGED


SERVICE_FIELDS = {
    "received_on": "received_on",
    "amount": "amount",
    "reference": "payment_reference",
    "reason": "reason",
    "chapter": "chapter",
    "effective_on": "",
    "ends_on": "",
}


def _by_field(exc):
    """A service's ValidationError as {our field key or "": [messages]}."""
    if not hasattr(exc, "error_dict"):
        return {"": exc.messages}
    found = {}
    for name, errors in exc.message_dict.items():
        found.setdefault(SERVICE_FIELDS.get(name, ""), []).extend(errors)
    return found
