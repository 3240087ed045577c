"""Reading what Excel and friends write: encodings, delimiters, BOMs, sep= lines, XLSX."""

import io
from datetime import date

import pytest
from openpyxl import Workbook

from accounts.imports.reader import FileProblem, sheet_open
from tests.accounts.imports.helpers import FILES, excel_datetime


def read(content):
    with sheet_open(io.BytesIO(content)) as sheet:
        return sheet, list(sheet.rows())


def test_bom_semicolons_and_crlf_are_understood():
    sheet, rows = read((FILES / "excel_quirks.csv").read_bytes())
    assert sheet.format == "csv"
    assert sheet.encoding == "utf-8-sig"
    assert sheet.delimiter == ";"
    assert sheet.headers[0] == "Account Number"  # no BOM stuck to the first header
    assert rows[0][0] == 2  # rows are numbered as Excel shows them
    assert rows[0][1][1] == "José"
    assert sheet.estimated_rows == 5


def test_windows_1252_tab_separated_text_is_understood():
    sheet, rows = read((FILES / "windows_tabs.txt").read_bytes())
    assert (sheet.encoding, sheet.delimiter) == ("cp1252", "\t")
    assert rows[0][1][1:3] == ["Peña", "María"]


def test_excel_sep_line_names_the_delimiter():
    sheet, rows = read(b"sep=|\r\nAccount|Last Name\r\nX-1|Smith\r\n")
    assert sheet.delimiter == "|"
    assert sheet.headers == ["Account", "Last Name"]
    assert rows == [(3, ["X-1", "Smith"])]


def test_utf16_with_bom_is_understood():
    text = "Account\tLast Name\r\nU-1\tÅberg\r\n"
    sheet, rows = read(text.encode("utf-16"))
    assert sheet.headers == ["Account", "Last Name"]
    assert rows[0][1] == ["U-1", "Åberg"]


def test_blank_and_repeated_headers_get_names_and_trailing_blanks_are_dropped():
    sheet, _ = read(b"Phone,,Phone,Name,,\nx,y,z,w,,\n")
    assert sheet.headers == ["Phone", "Column B", "Phone (2)", "Name"]


def test_quoted_values_with_delimiters_and_newlines_keep_their_row_numbers():
    sheet, rows = read(b'Account,Note\nA-1,"two\nlines"\nA-2,"1,234.50"\n')
    assert rows == [(2, ["A-1", "two\nlines"]), (3, ["A-2", "1,234.50"])]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xd0\xcf\x11\xe0rest", "old-style Excel file (.xls)"),
        (b"%PDF-1.4", "This is a PDF"),
        (b"PK\x03\x04not really a zip", "cannot be opened"),
    ],
)
def test_unreadable_files_say_why(content, message):
    with pytest.raises(FileProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(content)


def test_xlsx_cells_keep_their_types_and_numbering():
    book = Workbook()
    sheet = book.active
    sheet.append(["Account", "Opened", "Balance", "Zip"])
    sheet.append(["X-1", excel_datetime(2020, 1, 31), 1234.5, 2134])
    sheet.append([None, None, None, None])
    sheet.append(["X-2", date(2021, 2, 1), 19.99, "10001"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed, rows = read(buffer.getvalue())
    assert parsed.format == "xlsx"
    assert parsed.headers == ["Account", "Opened", "Balance", "Zip"]
    assert rows[0] == (2, ["X-1", excel_datetime(2020, 1, 31), 1234.5, 2134])
    assert rows[2][0] == 4
    assert parsed.estimated_rows == 3
