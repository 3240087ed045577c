"""Reading one cell as one of our fields, whatever Excel did to it: amounts with
currency signs and thousands separators (or as binary floats), dates in several formats
or as Excel serial numbers, ZIPs that lost their leading zero, phones, SSNs, states.

A parser returns the value (None for an empty cell) or raises `CellError` with a message
a person understands, quoting the cell. Parsers never guess a day-first date order and
never let money be a float: Excel numbers become Decimals at once.
"""

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from accounts.imports.facts import phone_e164
from accounts.imports.reader import cell_text
from recovery.models import US_STATES

CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1000000000000")  # the ledger's 14 digits, 2 after the point
EXCEL_EPOCH = date(1899, 12, 30)


class CellError(ValueError):
    """A cell that cannot be read as its field; str() is the message for a person."""


def _text(value, limit):
    text = " ".join(unicodedata.normalize("NFC", cell_text(value)).split())
    if len(text) > limit:
        raise CellError(f"“{text[:40]}…” is longer than {limit} characters.")
    return text or None


def text_parser(limit):
    return lambda value: _text(value, limit)


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def identifier_parser(limit):
    def parse(value):
        text = _text(value, limit)
        if text and _SCIENTIFIC.match(text):
            raise CellError(
                f"“{text}” is a number Excel shortened to scientific notation, so digits "
                "are lost. Format the column as Text in Excel and export the file again."
            )
        return text

    return parse


_CURRENCY = re.compile(r"(?i)usd|us\$|eur|gbp|cad|[$€£¥]")
_US_AMOUNT = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_EU_AMOUNT = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?")


def parse_money(value):
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        # Excel keeps numbers as binary floats: 19.99 may arrive as 19.990000000000002.
        amount = Decimal(repr(value))
        if abs(amount - amount.quantize(CENT)) < Decimal("0.000001"):
            amount = amount.quantize(CENT)
        raw = cell_text(value)
    elif isinstance(value, int | Decimal):
        amount, raw = Decimal(value), str(value)
    else:
        raw = " ".join(cell_text(value).split())
        if not raw:
            return None
        amount = _money_from_text(raw)
    if amount < 0:
        raise CellError(f"“{raw}” is negative; balances placed with us cannot be negative.")
    if amount != amount.quantize(CENT):
        raise CellError(f"“{raw}” has more than two decimal places.")
    if amount >= MONEY_LIMIT:
        raise CellError(f"“{raw}” is too large for an amount.")
    return amount.quantize(CENT)


def _money_from_text(raw):
    text = _CURRENCY.sub("", raw).replace(" ", "").replace("\u00a0", "").replace("'", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-") or text.endswith("-"):
        negative, text = True, text.strip("-")
    text = _CURRENCY.sub("", text)
    if "," in text and "." in text:
        if _US_AMOUNT.fullmatch(text):
            text = text.replace(",", "")
        elif _EU_AMOUNT.fullmatch(text):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = "?"
    elif "," in text:
        # 1,234 groups thousands; 12,50 is a decimal comma (Excel in much of Europe).
        text = text.replace(",", "") if _US_AMOUNT.fullmatch(text) else text.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise CellError(f"“{raw}” is not an amount.")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise CellError(f"“{raw}” is not an amount.") from exc
    return -amount if negative else amount


_TIME_PART = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AP]M)?$", re.IGNORECASE)
DATE_HINT = "use YYYY-MM-DD, MM/DD/YYYY or DD-Mon-YYYY"
_MONTHS = {
    name: number
    for number, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december"),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
# Day-first numeric dates (31/12/2020) are refused, never guessed: US files are M/D/Y.
_DATE_PATTERNS = (
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), "ymd"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
    (re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})"), "mdy"),
    (re.compile(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ ,-]*(\d{4}|\d{2})"), "dmy"),
    (re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4}|\d{2})"), "mdy"),
)


def _date_from_text(text, today):
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = parts["m"]
        month = int(month) if month.isdigit() else _MONTHS.get(month.casefold())
        year = int(parts["y"]) if len(parts["y"]) == 4 else 2000 + int(parts["y"])
        try:
            found = date(year, month or 0, int(parts["d"]))
        except ValueError:
            return None
        # Every date on a placement is in the past: 1/2/55 is 1955, not 2055.
        if len(parts["y"]) == 2 and found > today:
            found = found.replace(year=found.year - 100)
        return found
    return None


def parse_date(value, *, today=None):
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float | Decimal):
        return _excel_serial(value, cell_text(value))
    raw = " ".join(cell_text(value).split())
    if not raw:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", raw):
        return _excel_serial(Decimal(raw), raw)
    found = _date_from_text(_TIME_PART.sub("", raw), today or timezone.localdate())
    if found is None:
        raise CellError(f"“{raw}” is not a date we can read ({DATE_HINT}).")
    if found.year < 1900:
        raise CellError(f"“{raw}” is not a plausible date.")
    return found


def _excel_serial(number, raw):
    if number != int(number) or not 1 <= number <= 2958465:
        raise CellError(f"“{raw}” is not a date we can read ({DATE_HINT}).")
    found = EXCEL_EPOCH + timedelta(days=int(number))
    if found.year < 1900:
        raise CellError(f"“{raw}” is not a plausible date.")
    return found


_STATE_NAMES = (
    "alabama alaska arizona arkansas california colorado connecticut delaware "
    "district_of_columbia florida georgia hawaii idaho illinois indiana iowa kansas "
    "kentucky louisiana maine maryland massachusetts michigan minnesota mississippi "
    "missouri montana nebraska nevada new_hampshire new_jersey new_mexico new_york "
    "north_carolina north_dakota ohio oklahoma oregon pennsylvania rhode_island "
    "south_carolina south_dakota tennessee texas utah vermont virginia washington "
    "west_virginia wisconsin wyoming puerto_rico"
)
# In the order of recovery.models.US_STATES.
STATE_NAMES = {
    name.replace("_", " "): code for name, code in zip(_STATE_NAMES.split(), US_STATES, strict=True)
}


def parse_state(value):
    text = _text(value, 40)
    if text is None:
        return None
    code = STATE_NAMES.get(text.casefold().replace(".", ""), text.upper().replace(".", ""))
    if code not in US_STATES:
        raise CellError(f"“{text}” is not a US state (use the two-letter code, e.g. NY).")
    return code


def parse_zip(value):
    text = _text(value, 20)
    if text is None:
        return None
    digits = text.replace("-", "").replace(" ", "")
    if not digits.isdigit() or len(digits) not in (3, 4, 5, 7, 8, 9):
        raise CellError(f"“{text}” is not a ZIP code (5 digits, or ZIP+4 as 12345-6789).")
    # Excel drops leading zeros: 02134 arrives as 2134, 021340001 as 21340001.
    digits = digits.zfill(5) if len(digits) <= 5 else digits.zfill(9)
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


def parse_phone(value):
    text = _text(value, 40)
    if text is None:
        return None
    if _SCIENTIFIC.match(text):
        raise CellError(
            f"“{text}” is a phone number Excel shortened to scientific notation. Format the "
            "column as Text in Excel and export the file again."
        )
    if re.fullmatch(r"\d+\.0+", text):  # a number column exported with its decimals
        text = text.split(".")[0]
    try:
        return phone_e164(text)
    except ValidationError as exc:
        raise CellError(" ".join(exc.messages)) from exc


def parse_email(value):
    text = _text(value, 254)
    if text is None:
        return None
    text = text.lower()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise CellError(f"“{text}” is not an email address.") from exc
    return text


def parse_ssn_last4(value):
    text = _text(value, 20)
    if text is None:
        return None
    digits = re.sub(r"[\s\-]", "", text)
    # Files often mask all but the last four: XXX-XX-1234, ***-**-1234, #####1234.
    masked = re.fullmatch(r"[xX*#]{5}(\d{4})", digits)
    if masked:
        return masked.group(1)
    if not digits.isdigit() or len(digits) not in (1, 2, 3, 4, 9):
        raise CellError(f"“{text}” is not an SSN or its last 4 digits.")
    # A full SSN is cut to its last 4 at once: we never keep the rest.
    return digits[-4:].zfill(4)


def parse_last4(value):
    text = _text(value, 60)
    if text is None:
        return None
    kept = re.sub(r"[^0-9A-Za-z]", "", text)
    return kept[-4:] or None


_LANGUAGES = {"en": "en", "english": "en", "eng": "en", "es": "es", "spanish": "es",
              "español": "es", "espanol": "es", "spa": "es"}  # fmt: skip


def parse_language(value):
    text = _text(value, 20)
    if text is None:
        return None
    code = _LANGUAGES.get(text.casefold())
    if code is None:
        raise CellError(f"“{text}” is not a language we write in (English or Spanish).")
    return code


_DEBT_TYPES = {"consumer": "consumer", "personal": "consumer", "commercial": "commercial",
               "business": "commercial"}  # fmt: skip


def parse_debt_type(value):
    text = _text(value, 20)
    if text is None:
        return None
    kind = _DEBT_TYPES.get(text.casefold())
    if kind is None:
        raise CellError(f"“{text}” is not a debt type (consumer or commercial).")
    return kind


def parse_currency(value):
    text = _text(value, 10)
    if text is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise CellError(f"“{text}” is not a currency code (e.g. USD).")
    return text.upper()


def parse_percent(value):
    if isinstance(value, float):
        value = repr(value)
    text = _text(value, 20)
    if text is None:
        return None
    try:
        rate = Decimal(text.rstrip("%").strip())
    except InvalidOperation as exc:
        raise CellError(f"“{text}” is not an interest rate (e.g. 5.25%).") from exc
    if not Decimal(0) <= rate <= Decimal(100) or rate != rate.quantize(Decimal("0.001")):
        raise CellError(f"“{text}” is not an annual rate between 0% and 100%.")
    return rate
