"""Checking placement rows: each mapped cell parsed as its field, then the rules that span
cells (what is required, itemization adding up, dates in order, a complete address), then
duplicate account numbers — inside the file and among accounts already placed for the
creditor, with one query per chunk of rows.

Every problem names the row (as Excel numbers it), the column as the file calls it, and
what is wrong in words a person understands. Nothing here writes.
"""

import functools
import zoneinfo
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.imports.fields import DATE_FIELDS, FIELDS_BY_KEY, mapping_clean
from accounts.imports.lookups import rows_by_keys
from accounts.imports.parsers import CellError, parse_date
from accounts.imports.reader import cell_text
from accounts.models import Account

MONEY_PARTS = ("principal", "interest", "fees", "total_balance")
ADDRESS_LIMIT = 300  # ContactPoint.value holds the address on one line
DATE_NAMES = {
    "date_of_birth": "The date of birth",
    "origination_date": "The date the account was opened",
    "charge_off_date": "The charge-off date",
    "last_payment_date": "The last payment date",
    "itemization_date": "The itemization date",
}


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class Row:
    """One data row: its cells as read, the values we understood, what is wrong."""

    line: int
    cells: list
    values: dict
    problems: list = field(default_factory=list)
    # What a writer prepared of a good row ahead of writing it (copy_writer.RowPreparer).
    prepared: object = None

    @property
    def ok(self):
        return not self.problems

    @property
    def total(self):
        """Principal + interest + fees as understood (for the preview)."""
        if self.values.get("principal") is None:
            return None
        return sum((self.values.get(k) or 0 for k in ("principal", "interest", "fees")), 0)

    @property
    def name(self):
        v = self.values
        parts = (v.get("first_name"), v.get("middle_name"), v.get("last_name"))
        return " ".join(p for p in parts if p) or v.get("business_name", "")

    @property
    def error_text(self):
        return "; ".join(
            f"{p.column}: {p.message}" if p.column else p.message for p in self.problems
        )


def office_today(office):
    """Today where the office is: what "in the future" means for its rows."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(office.time_zone))


def when(day):
    return f"{day:%b} {day.day}, {day.year}"


def amount_text(amount):
    return f"{amount:,.2f}"


class RowChecker:
    """Parses and checks rows of one file under one mapping."""

    def __init__(self, *, headers, mapping, today, delimiter=""):
        self.headers = headers
        self.mapping = mapping_clean(mapping, headers)
        self.columns = {key: headers.index(h) for key, h in self.mapping.items()}
        self.today = today
        self.delimiter = delimiter
        self.parsers = {
            key: functools.partial(parse_date, today=today)
            if key in DATE_FIELDS
            else FIELDS_BY_KEY[key].parse
            for key in self.columns
        }

    def column(self, key):
        """The column as the person knows it: the file's header, or our label if unmapped."""
        return self.mapping.get(key) or FIELDS_BY_KEY[key].label

    def rows(self, numbered_cells):
        """Checked rows; blank rows (Excel leaves them at the end) are skipped."""
        for line, cells in numbered_cells:
            if any(cell_text(c).strip() for c in cells):
                yield self.check(line, cells)

    def check(self, line, cells):
        row = Row(line=line, cells=list(cells), values={})
        failed = set()

        def problem(key, message):
            row.problems.append(Problem(line, self.column(key) if key else "", message))

        extra = [c for c in cells[len(self.headers) :] if cell_text(c).strip()]
        if extra:
            sep = {"\t": "tab", "": "delimiter"}.get(self.delimiter, f"“{self.delimiter}”")
            problem(
                None,
                f"This row has {len(self.headers) + len(extra)} values but the header names "
                f"{len(self.headers)} columns: a value probably contains a {sep} without "
                "quotes around it.",
            )
        for key, index in self.columns.items():
            raw = cells[index] if index < len(cells) else None
            try:
                value = self.parsers[key](raw)
            except CellError as exc:
                failed.add(key)
                problem(key, str(exc))
                continue
            if value is not None:
                row.values[key] = value
        self._rules(row.values, failed, problem)
        return row

    def _rules(self, v, failed, problem):
        if "creditor_reference" not in v and "creditor_reference" not in failed:
            problem("creditor_reference", "The creditor's account number is missing.")
        if not ({"last_name", "business_name"} & (set(v) | failed)):
            key = "last_name" if "last_name" in self.columns else "business_name"
            problem(key, "A debtor needs a last name or a business name.")
        if "principal" not in v and "principal" not in failed:
            problem("principal", "The principal balance is missing.")
        if "principal" in v and not failed & set(MONEY_PARTS):
            self._money_rules(v, problem)
        for key in DATE_NAMES:
            if key in v and v[key] > self.today:
                problem(key, f"{DATE_NAMES[key]} ({when(v[key])}) is in the future.")
        opened, paid = v.get("origination_date"), v.get("last_payment_date")
        if opened and paid and paid < opened:
            problem(
                "last_payment_date",
                f"The last payment ({when(paid)}) is before the account was opened "
                f"({when(opened)}).",
            )
        # A street we cannot place is an error; a ZIP without a street is kept as facts
        # (state, ZIP) but makes no mailing address (see writer.contact_points_for).
        if ("address1" in v or "address1" in failed) and not {"zip"} & (set(v) | failed):
            problem("zip", "The address has no ZIP code.")
        parts = [v.get(k, "") for k in ("address1", "address2", "city", "state", "zip")]
        if len(", ".join(p for p in parts if p)) > ADDRESS_LIMIT:
            problem("address1", f"The address is longer than {ADDRESS_LIMIT} characters.")

    def _money_rules(self, v, problem):
        p, i, f = (v.get(k) for k in ("principal", "interest", "fees"))
        total = p + (i or 0) + (f or 0)
        if "total_balance" in v and total != v["total_balance"]:
            parts = [f"principal {amount_text(p)}"]
            parts += [f"interest {amount_text(i)}"] if i is not None else []
            parts += [f"fees {amount_text(f)}"] if f is not None else []
            problem(
                "total_balance",
                f"The parts do not add up: {' + '.join(parts)} = {amount_text(total)}, "
                f"but the total balance is {amount_text(v['total_balance'])}.",
            )
        elif total == 0:
            problem("principal", "The balance is zero: there is nothing to collect.")

    def check_duplicates(self, rows, *, creditor, placement_id=None):
        """Flag repeated account numbers: later rows of this chunk repeating an earlier
        one, and rows naming an account already placed for the creditor (which, during a
        run, includes those written from earlier chunks of this same file)."""
        first_line = {}
        for row in rows:
            ref = row.values.get("creditor_reference")
            if ref is None:
                continue
            if ref in first_line:
                row.problems.append(
                    Problem(
                        row.line,
                        self.column("creditor_reference"),
                        f"Account number {ref} appears twice in this file "
                        f"(first on row {first_line[ref]}).",
                    )
                )
            else:
                first_line[ref] = row.line
        if not first_line:
            return
        placed = {
            ref: (office_ref, pid)
            for ref, office_ref, pid in rows_by_keys(
                Account, ("creditor_reference", "office_reference", "placement_id"),
                ("creditor_reference",), [(ref,) for ref in first_line], creditor_id=creditor.pk,
            )
        }  # fmt: skip
        for row in rows:
            ref = row.values.get("creditor_reference")
            if ref not in placed or first_line.get(ref) != row.line:
                continue
            office_ref, pid = placed[ref]
            if placement_id is not None and pid == placement_id:
                message = f"Account number {ref} appears earlier in this file."
            else:
                message = f"Account number {ref} is already placed with us (our {office_ref})."
            row.problems.append(Problem(row.line, self.column("creditor_reference"), message))
