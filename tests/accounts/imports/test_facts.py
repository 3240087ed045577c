"""The import's fast phone and ZIP facts give exactly the app's own answers
(`debtors.services.phone_normalise` / `phone_type_of`, `debtors.timezones.candidate_zones`):
the same E.164 form or the same message, the same phone type, zones and zone source."""

import random

import pytest
import zipcodes
from django.core.exceptions import ValidationError

from accounts.imports import facts
from accounts.imports.parsers import CellError, parse_phone
from debtors.services import phone_normalise, phone_type_of
from debtors.timezones import candidate_zones

FORMATS = ("({a}) {b}-{c}", "{a}.{b}.{c}", "{a}-{b}-{c}", "{a}{b}{c}", "+1{a}{b}{c}",
           "1{a}{b}{c}", "+1 {a} {b} {c}", "1-{a}-{b}-{c}", "1 ({a}) {b}-{c}", "({a}){b}-{c}",
           "{a} {b} {c}", "+1 ({a}) {b}.{c}")  # fmt: skip
ODD = ["+44 20 7946 0958", "+52 55 1234 5678", "555-0142", "(617) 555-014", "617555014299",
       "+1 617 555 0142 ext 12", "1 800 FLOWERS", "+1 (800) 555-0100", "(900) 555-0199",
       "011 44 20 7946 0958", "(212) 555-0142 x3", "0", "+1 340 555 0100",
       "(787) 555-0100"]  # fmt: skip


def _numbers():
    r = random.Random(4)
    for _ in range(4000):
        area, exchange = f"{r.randint(0, 999):03d}", f"{r.randint(0, 999):03d}"
        if r.random() < 0.4:
            exchange = "555"
        yield r.choice(FORMATS).format(a=area, b=exchange, c=f"{r.randint(0, 9999):04d}")
    yield from ODD


def _answer(normalise, text):
    try:
        return normalise(text)
    except ValidationError as exc:
        return exc.messages


def test_phone_numbers_read_as_the_app_reads_them():
    valid = 0
    for text in _numbers():
        expected = _answer(phone_normalise, text)
        assert _answer(facts.phone_e164, text) == expected, text
        valid += isinstance(expected, str)
    assert valid > 1000  # the sample has both valid and invalid numbers in it


def test_an_invalid_phone_gets_the_apps_message_in_a_file():
    with pytest.raises(CellError, match="is not a valid phone number for US"):
        parse_phone("(123) 555-0142")
    assert parse_phone("617.555.0142") == "+16175550142"


def test_phone_type_and_zones_are_the_apps():
    seen = set()
    for text in _numbers():
        e164 = _answer(phone_normalise, text)
        if not isinstance(e164, str):
            continue
        zones, source = candidate_zones(kind="phone", value=e164)
        expected = (phone_type_of(e164).value, facts._json_list(zones), source)
        assert facts.phone_facts(e164) == expected, e164
        seen.add((expected[0], source))
    assert any(source == "area_code" for _, source in seen)
    # A toll-free number is not anywhere in particular.
    assert facts.phone_facts("+18005550100") == ("unknown", "[]", "unknown")


def test_every_zip_gets_the_apps_zones():
    codes = [z["zip_code"] for z in zipcodes.list_all()]
    for code in [*codes, "00000", "99999", "02134-0001", " 10001 ", "", None]:
        zones, source = candidate_zones(kind="address", postal_code=code)
        assert facts.zip_facts(code) == (facts._json_list(zones), source), code
    assert facts.zip_facts("10001") == ('["America/New_York"]', "zip")


def test_zip_zones_come_from_this_process_when_the_helper_process_fails(monkeypatch):
    from debtors import timezones

    def fail(*args, **kwargs):
        raise OSError("no interpreter here")

    monkeypatch.setattr(timezones.subprocess, "run", fail)
    timezones._zip_tables.cache_clear()
    try:
        assert facts.zip_facts("98101") == ('["America/Los_Angeles"]', "zip")
        assert facts.zip_facts("00000") == ("[]", "unknown")
        assert "NY" in timezones.states_for_phone("+12125550100")
    finally:
        timezones._zip_tables.cache_clear()
