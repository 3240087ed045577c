"""What each kind of creditor or vendor file carries: our fields with their parsers (the
placement import's, so Excel's quirks are handled the same way) and the header names
they go by, and the rules that span cells of one row. Nothing here writes."""

import re

from accounts.imports.fields import Field, header_key
from accounts.imports.parsers import (
    CellError,
    identifier_parser,
    parse_date,
    parse_money,
    parse_phone,
    parse_ssn_last4,
    parse_state,
    parse_zip,
    text_parser,
)
from accounts.imports.validation import when
from debtors.models import Circumstance

_short_text = text_parser(40)
RESULT_NAMES = {
    Circumstance.Kind.BANKRUPTCY: ("bankruptcy", "bankrupt", "bk", "bky", "bnk"),
    Circumstance.Kind.DECEASED: ("deceased", "dec", "death", "dead", "dcd"),
    Circumstance.Kind.SERVICEMEMBER: (
        "servicemember",
        "scra",
        "military",
        "active duty",
        "activeduty",
        "mil",
    ),
}
_RESULTS = {header_key(n): kind for kind, names in RESULT_NAMES.items() for n in names}


def parse_result(value):
    text = _short_text(value)
    if text is None:
        return None
    kind = _RESULTS.get(header_key(text))
    if kind is None:
        raise CellError(f"“{text}” is not a scrub result (use bankruptcy, deceased or SCRA).")
    return kind


def parse_chapter(value):
    text = _short_text(value)
    if text is None:
        return None
    match = re.fullmatch(r"(?i)(ch(apter)?\.?\s*)?(\d+)(\.0+)?", text)
    if not match or match.group(3) not in ("7", "11", "12", "13"):
        raise CellError(f"“{text}” is not a bankruptcy chapter (7, 11, 12 or 13).")
    return match.group(3)


def parse_amount(value):
    amount = parse_money(value)
    if amount is not None and amount == 0:
        raise CellError("The amount is zero: report only payments the creditor received.")
    return amount


REF, DATA = "Reference", "Data"
CREDITOR_REF = Field(
    "creditor_reference",
    "Creditor account number",
    REF,
    identifier_parser(60),
    (
        "account number",
        "account no",
        "acct no",
        "account",
        "account id",
        "acct",
        "client reference",
        "creditor reference",
        "reference",
        "loan number",
    ),
)
OFFICE_REF = Field(
    "office_reference",
    "Our reference",
    REF,
    identifier_parser(30),
    (
        "office reference",
        "agency reference",
        "agency account",
        "our reference",
        "collector reference",
        "placement reference",
    ),
)
DEBTOR_ID = Field(
    "creditor_debtor_id",
    "Creditor's customer ID",
    REF,
    identifier_parser(60),
    ("customer id", "customer number", "cust id", "debtor id", "member id", "patient id"),
)
# A vendor's scrub may name the person instead of the account: last name, date of birth
# and SSN last 4 together, matched through the same blind index as placements.
IDENTITY = (
    Field("last_name", "Last name", REF, text_parser(100), ("last name", "surname", "lname")),
    Field(
        "date_of_birth",
        "Date of birth",
        REF,
        parse_date,
        ("date of birth", "dob", "birth date", "birthdate"),
    ),
    Field(
        "ssn_last4",
        "SSN (last 4)",
        REF,
        parse_ssn_last4,
        ("ssn", "ssn last 4", "ssn4", "last 4 ssn", "social security number"),
    ),
)
IDENTITY_KEYS = tuple(f.key for f in IDENTITY)

VENDOR = Field(
    "vendor",
    "Vendor",
    DATA,
    text_parser(40),
    ("vendor", "vendor name", "source", "provider", "bureau"),
)

FIELDS = {
    "recall": (
        CREDITOR_REF,
        OFFICE_REF,
        Field(
            "reason",
            "Recall reason",
            DATA,
            text_parser(200),
            ("reason", "recall reason", "recall code", "reason code", "comment"),
        ),
    ),
    "balance_update": (
        CREDITOR_REF,
        OFFICE_REF,
        Field(
            "amount",
            "Amount received",
            DATA,
            parse_amount,
            ("amount", "payment amount", "amount paid", "paid amount", "payment"),
        ),
        Field(
            "received_on",
            "Date received",
            DATA,
            parse_date,
            ("date received", "received", "payment date", "date paid", "paid date", "date"),
        ),
        Field(
            "payment_reference",
            "Creditor's payment reference",
            DATA,
            identifier_parser(60),
            (
                "payment reference",
                "payment id",
                "transaction id",
                "receipt",
                "payment ref",
                "transaction reference",
            ),
        ),
    ),
    "scrub": (
        CREDITOR_REF,
        OFFICE_REF,
        DEBTOR_ID,
        *IDENTITY,
        Field(
            "result",
            "Result",
            DATA,
            parse_result,
            ("result", "result kind", "hit", "hit type", "scrub result", "type", "flag"),
        ),
        Field("chapter", "Bankruptcy chapter", DATA, parse_chapter, ("chapter", "bk chapter")),
        Field(
            "case_number",
            "Case number",
            DATA,
            text_parser(60),
            ("case number", "case", "case no", "bk case", "docket"),
        ),
        Field(
            "filed_on",
            "Filing date",
            DATA,
            parse_date,
            ("filing date", "filed", "file date", "date filed", "bk filed"),
        ),
        Field(
            "date_of_death",
            "Date of death",
            DATA,
            parse_date,
            ("date of death", "dod", "death date", "deceased date"),
        ),
        Field(
            "duty_start",
            "Active duty start",
            DATA,
            parse_date,
            ("active duty start", "duty start", "start date", "scra start"),
        ),
        Field(
            "duty_end",
            "Active duty end",
            DATA,
            parse_date,
            ("active duty end", "duty end", "end date", "scra end"),
        ),
        VENDOR,
    ),
    "skip_trace": (
        CREDITOR_REF,
        OFFICE_REF,
        DEBTOR_ID,
        Field(
            "address1",
            "Street address",
            DATA,
            text_parser(200),
            ("address", "address 1", "address1", "street", "new address", "addr1"),
        ),
        Field(
            "address2",
            "Address line 2",
            DATA,
            text_parser(200),
            ("address 2", "address2", "apt", "unit", "addr2"),
        ),
        Field("city", "City", DATA, text_parser(100), ("city", "town")),
        Field("state", "State", DATA, parse_state, ("state", "st")),
        Field("zip", "ZIP code", DATA, parse_zip, ("zip", "zip code", "zipcode", "postal code")),
        Field(
            "phone",
            "Phone",
            DATA,
            parse_phone,
            ("phone", "new phone", "phone number", "telephone", "mobile", "cell"),
        ),
        VENDOR,
    ),
}
REFERENCE_KEYS = ("creditor_reference", "office_reference", "creditor_debtor_id")


def mapping_guess(kind, headers):
    """{field key: header} from the header names; each header used at most once."""
    by_key = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    mapping, used = {}, set()
    for f in FIELDS[kind]:
        for name in (f.key.replace("_", " "), f.label, *f.aliases):
            header = by_key.get(header_key(name))
            if header and header not in used:
                mapping[f.key] = header
                used.add(header)
                break
    return mapping


REQUIRED = {
    "recall": {"reason": "the recall reason"},
    "balance_update": {
        "amount": "the amount received",
        "received_on": "the date received",
        "payment_reference": "the creditor's payment reference",
    },
    "scrub": {"result": "the result (bankruptcy, deceased or SCRA)", "vendor": "the vendor"},
    "skip_trace": {"vendor": "the vendor"},
}


def mapping_problems(kind, mapping):
    """What the file lacks, as messages for a person (the columns are found by name)."""
    problems = []
    by_person = kind == "scrub" and set(IDENTITY_KEYS) <= set(mapping)
    if not set(REFERENCE_KEYS) & set(mapping) and not by_person:
        problems.append(
            "The file needs a column with the creditor's account number (e.g. “Account "
            "Number”), our reference (“Office Reference”) or the customer ID"
            + (
                "; or, to find people, all of “Last Name”, “Date of Birth” and “SSN”."
                if kind == "scrub"
                else "."
            )
        )
    for key, what in REQUIRED[kind].items():
        if key not in mapping:
            label = next(f.label for f in FIELDS[kind] if f.key == key)
            problems.append(f"The file needs a column with {what} (e.g. “{label}”).")
    if kind == "skip_trace" and not {"phone", "address1"} & set(mapping):
        problems.append("The file needs a “Phone” column or an address (“Address”, “ZIP”).")
    return problems


def row_rules(kind, v, failed, problem, today):
    """The rules that span cells of one row. `problem(key, message)` records one."""
    if not set(REFERENCE_KEYS) & (set(v) | failed):
        if kind != "scrub":
            problem("creditor_reference", "Say which account this row is about (account number).")
        elif not set(IDENTITY_KEYS) & failed and not set(IDENTITY_KEYS) <= set(v):
            problem(
                "creditor_reference",
                "Say who this row is about: the account number, or the last name, date of "
                "birth and SSN (last 4) together.",
            )
    for key, what in REQUIRED[kind].items():
        if key not in v and key not in failed:
            problem(key, f"{what[0].upper()}{what[1:]} is missing.")
    for key in ("received_on", "filed_on", "date_of_death", "duty_start"):
        if key in v and v[key] > today:
            problem(key, f"The date ({when(v[key])}) is in the future.")
    if kind == "scrub":
        needed = {
            Circumstance.Kind.BANKRUPTCY: ("filed_on", "A bankruptcy needs its filing date."),
            Circumstance.Kind.DECEASED: ("date_of_death", "A death needs its date."),
            Circumstance.Kind.SERVICEMEMBER: (
                "duty_start",
                "Active duty needs its start date.",
            ),
        }.get(v.get("result"))
        if needed and needed[0] not in v and needed[0] not in failed:
            problem(needed[0], needed[1])
        start, end = v.get("duty_start"), v.get("duty_end")
        if start and end and end <= start:
            problem("duty_end", f"Active duty ends ({when(end)}) before it starts ({when(start)}).")
    if kind == "skip_trace":
        has_address = {"address1", "zip"} & (set(v) | failed)
        if not has_address and "phone" not in v and "phone" not in failed:
            problem("phone", "The row has neither a phone number nor an address.")
        elif has_address and "address1" not in v and "address1" not in failed:
            problem("address1", "The address has no street line.")
        elif "address1" in v and "zip" not in v and "zip" not in failed:
            problem("zip", "The address has no ZIP code.")
