"""Cells as Excel leaves them, read as our fields: money, dates, ZIPs, phones, SSNs."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.imports import fields, parsers
from accounts.imports.parsers import CellError
from tests.accounts.imports.helpers import excel_datetime

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1234.50", "1234.50"),
        ("$1,234.50", "1234.50"),
        (" $ 1,234.50 ", "1234.50"),
        ("1.234,50", "1234.50"),
        ("12,5", "12.50"),
        ("1,234", "1234.00"),
        ("USD 99", "99.00"),
        ("€1.000,00", "1000.00"),
        (19.990000000000002, "19.99"),  # Excel's binary float for 19.99
        (1234.5, "1234.50"),
        (100, "100.00"),
        ("", None),
        (None, None),
    ],
)
def test_amounts_in_the_shapes_excel_writes_them(cell, amount):
    expected = None if amount is None else Decimal(amount)
    assert parsers.parse_money(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-20.00", "“-20.00” is negative; balances placed with us cannot be negative."),
        ("(20.00)", "“(20.00)” is negative; balances placed with us cannot be negative."),
        ("10.005", "“10.005” has more than two decimal places."),
        ("ten", "“ten” is not an amount."),
        ("1,23,4.5", "“1,23,4.5” is not an amount."),
        ("9999999999999", "“9999999999999” is too large for an amount."),
    ],
)
def test_bad_amounts_say_what_is_wrong(cell, message):
    with pytest.raises(CellError) as exc:
        parsers.parse_money(cell)
    assert str(exc.value) == message


def test_money_never_goes_through_a_float():
    assert isinstance(parsers.parse_money("0.10"), Decimal)
    assert parsers.parse_money(0.1) + parsers.parse_money(0.2) == Decimal("0.30")


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2022-03-15", date(2022, 3, 15)),
        ("2022/03/15", date(2022, 3, 15)),
        ("03/15/2022", date(2022, 3, 15)),
        ("3/15/22", date(2022, 3, 15)),
        ("4/5/62", date(1962, 4, 5)),  # two-digit years are never in the future
        ("15-Mar-2022", date(2022, 3, 15)),
        ("15-mar-22", date(2022, 3, 15)),
        ("March 15 2022", date(2022, 3, 15)),
        ("Sept. 15, 2022", date(2022, 9, 15)),
        ("2022.3.5", date(2022, 3, 5)),
        ("15 March 2022", date(2022, 3, 15)),
        ("Mar 15, 2022", date(2022, 3, 15)),
        ("2022-03-15 00:00:00", date(2022, 3, 15)),
        ("3/15/2022 0:00", date(2022, 3, 15)),
        ("20220315", date(2022, 3, 15)),
        ("44635", date(2022, 3, 15)),  # an Excel serial number
        (44635, date(2022, 3, 15)),
        (44635.0, date(2022, 3, 15)),
        (excel_datetime(2022, 3, 15), date(2022, 3, 15)),
        ("", None),
    ],
)
def test_dates_in_the_formats_creditors_send(cell, day):
    assert parsers.parse_date(cell, today=TODAY) == day


@pytest.mark.parametrize(
    "cell", ["15/03/2022", "2022-02-30", "yesterday", "44635.5", "15-Foo-2022", "13/13/13"]
)
def test_unreadable_dates_are_refused_never_guessed(cell):
    with pytest.raises(CellError, match="is not a date we can read"):
        parsers.parse_date(cell, today=TODAY)


@pytest.mark.parametrize(
    ("cell", "zip_code"),
    [("02134", "02134"), ("2134", "02134"), (2134, "02134"), ("12345-6789", "12345-6789"),
     ("123456789", "12345-6789"), ("21340001", "02134-0001")],
)  # fmt: skip
def test_zips_get_back_the_leading_zero_excel_dropped(cell, zip_code):
    assert parsers.parse_zip(cell) == zip_code


@pytest.mark.parametrize(
    ("cell", "e164"),
    [("(212) 555-0142", "+12125550142"), ("212.555.0142", "+12125550142"),
     ("+1 212 555 0142", "+12125550142"), (2125550142, "+12125550142"),
     (2125550142.0, "+12125550142"), ("2125550142.0", "+12125550142")],
)  # fmt: skip
def test_phones_become_e164(cell, e164):
    assert parsers.parse_phone(cell) == e164


def test_a_phone_excel_turned_into_scientific_notation_is_refused():
    with pytest.raises(CellError, match="Excel shortened to scientific notation"):
        parsers.parse_phone("2.12556E+09")
    with pytest.raises(CellError, match="Excel shortened"):
        parsers.identifier_parser(60)("1.23457E+11")


@pytest.mark.parametrize(
    ("cell", "last4"),
    [
        ("123-45-6789", "6789"),
        ("6789", "6789"),
        ("42", "0042"),
        (42, "0042"),
        ("XXX-XX-6789", "6789"),
        ("***-**-6789", "6789"),
        ("xxxxx6789", "6789"),
    ],
)
def test_ssn_keeps_only_the_last_four_digits(cell, last4):
    assert parsers.parse_ssn_last4(cell) == last4


@pytest.mark.parametrize("cell", ["XX-6789", "XXX-XX-67", "ABC-DE-6789", "123-45-678X"])
def test_a_cell_that_is_not_an_ssn_says_so(cell):
    with pytest.raises(CellError, match="is not an SSN or its last 4 digits"):
        parsers.parse_ssn_last4(cell)


def test_dates_before_1900_are_not_plausible():
    with pytest.raises(CellError, match="“01/01/1850” is not a plausible date."):
        parsers.parse_date("01/01/1850", today=TODAY)


def test_states_by_code_or_name_and_names_normalised():
    assert parsers.parse_state("ny") == "NY"
    assert parsers.parse_state("New York") == "NY"
    assert parsers.parse_state(" massachusetts ") == "MA"
    assert parsers.text_parser(100)("  Núñez   de  la Peña ") == "Núñez de la Peña"
    # Decomposed accents (as some Macs write them) are stored composed.
    assert parsers.text_parser(100)("Jose\u0301") == "José"


def test_header_names_are_guessed_and_a_lone_balance_is_the_principal():
    mapping = fields.mapping_guess(
        ["Acct #", "LAST NAME", "first_name", "D.O.B.", "Zip Code", "Balance", "E-mail"]
    )
    assert mapping == {
        "creditor_reference": "Acct #",
        "first_name": "first_name",
        "last_name": "LAST NAME",
        "date_of_birth": "D.O.B.",
        "zip": "Zip Code",
        "email": "E-mail",
        "principal": "Balance",
    }


def test_mapping_problems_name_what_is_missing():
    assert fields.mapping_problems({"last_name": "Name", "principal": "Name"}) == [
        "Choose the column with the creditor's account number.",
        "“Name” is chosen for Last name and Principal; pick one.",
    ]
