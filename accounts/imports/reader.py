"""Reading a placement file, CSV or XLSX, as rows of cells, streamed.

A CSV is decoded and split as it is read, so memory stays flat however long it is; the
encoding (UTF-8 with or without Excel's BOM, UTF-16, Windows-1252) and the delimiter
(`,` `;` tab `|`, or Excel's `sep=` line) are worked out from a sample. An XLSX is read
with openpyxl in read-only mode. Cells come out as the file holds them — strings from a
CSV; strings, numbers and dates from an XLSX — and nothing here interprets them.
"""

import codecs
import contextlib
import csv
import io
import re
import string
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)


class FileProblem(ValueError):
    """The file cannot be read as a placement file. The message says why and what to do."""


@dataclass
class Sheet:
    """An open placement file: its column headers and an iterator over its data rows."""

    format: str
    headers: list
    estimated_rows: int
    encoding: str = ""
    delimiter: str = ""
    data_rows: object = field(default=None, repr=False)

    def rows(self):
        """(row number, cells) for each row after the header; the header is row 1 when it
        is the file's first row, so numbers match what Excel shows."""
        yield from self.data_rows


def cell_text(value):
    """A cell as the text a person would see in it (for the rejected-rows file)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def column_letter(index):
    """Excel's name for a column (0 → A, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = string.ascii_uppercase[rest] + name
    return name


def clean_headers(cells):
    """Header names without padding or BOMs, blanks named after their column, repeats
    numbered, so every column can be told apart in a mapping."""
    cells = list(cells)
    # Trailing unnamed columns (Excel's habit of saving empty cells) are not columns.
    while cells and not cell_text(cells[-1]).strip():
        cells.pop()
    headers, seen = [], {}
    for n, cell in enumerate(cells):
        name = " ".join(cell_text(cell).replace("\ufeff", "").split())
        name = name or f"Column {column_letter(n)}"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers


def _is_blank(cells):
    return all(not cell_text(c).strip() for c in cells)


def detect_format(head):
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            "This is an old-style Excel file (.xls). In Excel choose Save As → "
            "“Excel Workbook (.xlsx)” or “CSV UTF-8”, then upload that."
        )
    if head.startswith(b"%PDF"):
        raise FileProblem("This is a PDF. Upload the placement as a CSV or Excel (.xlsx) file.")
    return "csv"


def detect_encoding(sample):
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise FileProblem("This does not look like a CSV file. Upload a CSV or .xlsx file.")
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut in two by the end of the sample is still UTF-8.
        if exc.start < len(sample) - 3:
            return "cp1252"
    return "utf-8-sig"


def detect_delimiter(lines):
    """The delimiter of a CSV from its first lines: csv.Sniffer's answer when the header
    line agrees, else the candidate the header line uses most."""
    header = lines[0]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS)
        if dialect.delimiter in header:
            return dialect.delimiter
    except csv.Error:
        pass
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def count_lines(fileobj):
    """Line breaks in a binary file, in C-speed chunks: an estimate of its rows."""
    fileobj.seek(0)
    newlines = returns = 0
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
    fileobj.seek(0)
    return newlines or returns


@contextlib.contextmanager
def sheet_open(fileobj, *, count=True):
    """Open a binary file object as a Sheet. Raises FileProblem for what cannot be read.
    `count=False` skips counting a CSV's lines (the row estimate is then 0)."""
    fileobj.seek(0)
    head = fileobj.read(SAMPLE_BYTES)
    fileobj.seek(0)
    if not head.strip():
        raise FileProblem("The file is empty.")
    if detect_format(head) == "xlsx":
        with _xlsx_sheet(fileobj) as sheet:
            yield sheet
    else:
        yield _csv_sheet(fileobj, head, count)


@contextlib.contextmanager
def document_sheet(document):
    """A stored file (a recovery.Document), open as a Sheet."""
    with document.file.open("rb") as fileobj, sheet_open(fileobj) as sheet:
        yield sheet


def _csv_sheet(fileobj, head, count):
    encoding = detect_encoding(head)
    text_sample = head.decode(encoding, errors="ignore")
    lines = [line for line in text_sample.splitlines() if line.strip()]
    if not lines:
        raise FileProblem("The file is empty.")
    skip_sep = False
    match = _SEP_LINE.match(lines[0])
    if match:
        delimiter, skip_sep = match.group(1), True
        lines = lines[1:] or [""]
    else:
        delimiter = detect_delimiter(lines)
    estimate = count_lines(fileobj) if count else 0
    rows = _csv_rows(fileobj, encoding, delimiter, skip_sep)
    headers = None
    for number, cells in rows:
        if not _is_blank(cells):
            headers = clean_headers(cells)
            header_number = number
            break
    if not headers:
        raise FileProblem("The file has no header row: the first row must name the columns.")
    return Sheet(
        format="csv",
        headers=headers,
        estimated_rows=max(estimate - header_number, 0),
        encoding=encoding,
        delimiter=delimiter,
        data_rows=rows,
    )


def _csv_rows(fileobj, encoding, delimiter, skip_sep):
    fileobj.seek(0)
    text = io.TextIOWrapper(fileobj, encoding=encoding, newline="")
    number = 0
    try:
        reader = csv.reader(text, delimiter=delimiter)
        if skip_sep:
            next(reader, None)
            number = 1
        for cells in reader:
            number += 1
            yield number, cells
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"Row {number + 1} has characters that are not {encoding.upper()}. In Excel save "
            "the file as “CSV UTF-8 (Comma delimited)” and upload it again."
        ) from exc
    except csv.Error as exc:
        raise FileProblem(f"Row {number + 1} cannot be read as CSV ({exc}).") from exc
    finally:
        # Leave the caller's file open: they opened it, they close it.
        with contextlib.suppress(ValueError):
            text.detach()


@contextlib.contextmanager
def _xlsx_sheet(fileobj):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise FileProblem(
            "This Excel file cannot be opened (is it damaged or password-protected?). "
            "Save it again as .xlsx or CSV and upload that."
        ) from exc
    try:
        worksheet = workbook.worksheets[0] if workbook.worksheets else None
        if worksheet is None:
            raise FileProblem("This Excel file has no worksheet.")
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        headers = None
        for number, cells in rows:
            if not _is_blank(cells):
                headers = clean_headers(list(cells))
                header_number = number
                break
        if not headers:
            raise FileProblem(
                "The first worksheet has no header row: its first row must name the columns."
            )
        estimate = max((worksheet.max_row or 0) - header_number, 0)
        yield Sheet(
            format="xlsx",
            headers=headers,
            estimated_rows=estimate,
            data_rows=((n, list(cells)) for n, cells in rows),
        )
    finally:
        workbook.close()
