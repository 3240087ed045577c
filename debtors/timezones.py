"""Where a debtor might be, as a set of IANA time zones, from offline data only.

A ZIP code gives its zone (the `zipcodes` package's data); a phone number gives the
zones of its area code (`phonenumbers`' geodata). When a source names too many zones to
mean anything (a toll-free number, a non-geographic code) it counts as unknown, and an
unknown location must respect every zone in `US_TIME_ZONES`.
"""

import json
import logging
import subprocess
import sys
from functools import cache
from pathlib import Path

import phonenumbers
from phonenumbers import timezone as phone_timezone

logger = logging.getLogger(__name__)

# Every zone a US debtor can be in; a time window must hold in all of them when the
# location is unknown.
US_TIME_ZONES = (
    "America/New_York", "America/Detroit", "America/Indiana/Indianapolis",
    "America/Kentucky/Louisville", "America/Chicago", "America/Indiana/Knox",
    "America/Menominee", "America/North_Dakota/Center", "America/Denver", "America/Boise",
    "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "America/Juneau",
    "America/Sitka", "America/Nome", "America/Adak", "Pacific/Honolulu",
    "America/Puerto_Rico", "Pacific/Guam", "Pacific/Pago_Pago", "Pacific/Saipan",
    "America/St_Thomas",
)  # fmt: skip

# A source naming more zones than this says nothing useful about location.
_MAX_MEANINGFUL_ZONES = 4


def read_zip_tables():
    """({ZIP: zone}, {area code: [states]}) from the zipcodes package."""
    import zipcodes

    zones, states = {}, {}
    for z in zipcodes.list_all():
        if z.get("timezone"):
            zones[z["zip_code"]] = z["timezone"]
        for code in z.get("area_codes") or ():
            states.setdefault(code, set()).add(z["state"])
    return zones, {code: sorted(found) for code, found in states.items()}


_READ_IN_HELPER = (
    "import json, sys; from debtors.timezones import read_zip_tables; "
    "json.dump(read_zip_tables(), sys.stdout)"
)


@cache
def _zip_tables():
    """The two small tables, read once per process in a short-lived helper process: the
    zipcodes package keeps every ZIP record in memory once loaded (~140 MB), which no
    web, worker or import process should carry. In this process if the helper fails."""
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
            [sys.executable, "-c", _READ_IN_HELPER],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            check=True,
            timeout=120,
        )
        zones, states = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        logger.warning("reading the ZIP tables in a helper process failed", exc_info=True)
        return read_zip_tables()
    return zones, states


def zones_for_zip(postal_code):
    if not postal_code:
        return []
    zone = _zip_tables()[0].get(str(postal_code).strip()[:5])
    return [zone] if zone else []


def zones_for_phone(e164):
    try:
        number = phonenumbers.parse(e164, "US")
    except phonenumbers.NumberParseException:
        return []
    zones = [
        z
        for z in phone_timezone.time_zones_for_number(number)
        if z != phone_timezone.UNKNOWN_TIMEZONE
    ]
    if not zones or len(zones) > _MAX_MEANINGFUL_ZONES:
        return []
    return sorted(zones)


def candidate_zones(*, kind, value="", postal_code=""):
    """(zones, source) for a contact point; source is 'zip', 'area_code' or 'unknown'."""
    if kind == "address":
        zones = zones_for_zip(postal_code)
        return (zones, "zip") if zones else ([], "unknown")
    if kind == "phone":
        zones = zones_for_phone(value)
        return (zones, "area_code") if zones else ([], "unknown")
    return [], "unknown"


def debtor_candidate_zones(contact_points):
    """The union of zones over a debtor's addresses and phones. A source that says
    nothing (unknown) adds nothing; when nothing locates the debtor, every US zone
    counts (a window must hold wherever the debtor could be)."""
    zones = set()
    for cp in contact_points:
        if cp.kind in ("address", "phone") and cp.timezone_source != "unknown":
            zones.update(cp.candidate_timezones)
    return zones or set(US_TIME_ZONES)


def states_for_phone(e164):
    """US states a phone's area code is used in (empty when unknown/non-geographic)."""
    if not e164 or not e164.startswith("+1") or len(e164) != 12:
        return set()
    return set(_zip_tables()[1].get(e164[2:5], ()))


def debtor_candidate_states(contact_points):
    """States the debtor may be in: each address's state and each phone's area code."""
    states = set()
    for cp in contact_points:
        if cp.kind == "address" and cp.state:
            states.add(cp.state)
        elif cp.kind == "phone":
            states |= states_for_phone(cp.value)
    return states
