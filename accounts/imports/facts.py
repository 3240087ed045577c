"""Phone and ZIP facts at import speed: the same answers as `debtors.services`
(`phone_normalise`, `phone_type_of`) and `debtors.timezones` (`candidate_zones`), for a
million rows.

Phones: a North American number written the usual ways — (617) 555-0142, 617.555.0142,
+1 617 555 0142 — is read by a pattern instead of `phonenumbers.parse`, then typed once
against phonenumbers' own metadata; its validity is that type (for country code 1,
`is_valid_number` is exactly `number_type(…) != UNKNOWN`), so one metadata walk gives
validity, type and area-code zones. Anything else goes through the app's functions.
ZIPs: `debtors.timezones.zones_for_zip` is a lookup in a small table already.

The tests check every answer here against the app's own functions. Nothing here writes.
"""

import re
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import phonenumberutil
from phonenumbers import timezone as phone_timezone

from debtors.models import ContactPoint
from debtors.services import phone_normalise, phone_type_of
from debtors.timezones import _MAX_MEANINGFUL_ZONES, candidate_zones, zones_for_zip

_NANP = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?(\d{3})[ .-]?(\d{4})")
_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: ContactPoint.PhoneType.MOBILE.value,
    phonenumbers.PhoneNumberType.FIXED_LINE: ContactPoint.PhoneType.LANDLINE.value,
    phonenumbers.PhoneNumberType.VOIP: ContactPoint.PhoneType.VOIP.value,
}
UNKNOWN = "unknown"


_US = phonenumbers.PhoneMetadata.metadata_for_region("US")
# phonenumbers finds a +1 number's region by trying the regions of code 1 in turn, the US
# first: when the US metadata knows the number's type, the region is the US and that is
# its type. Only when the metadata is laid out that way is the shortcut taken.
_US_FIRST = (
    phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(1, ("",))[0] == "US"
    and _US is not None
    and _US.leading_digits is None
)


@lru_cache(maxsize=100_000)
def _nanp_type(national_number):
    """`phonenumbers.number_type` of +1 `national_number` (10 digits, no leading 0)."""
    if _US_FIRST:
        found = phonenumberutil._number_type_helper(str(national_number), _US)
        if found != phonenumbers.PhoneNumberType.UNKNOWN:
            return found
    return phonenumbers.number_type(
        phonenumbers.PhoneNumber(country_code=1, national_number=national_number)
    )


def phone_e164(text):
    """`debtors.services.phone_normalise(text)`: E.164, or ValidationError."""
    match = _NANP.fullmatch(text)
    if match is None:
        return phone_normalise(text)
    digits = "".join(match.groups())
    if _nanp_type(int(digits)) == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValidationError(f"“{text}” is not a valid phone number for US.")
    return f"+1{digits}"


def _json_list(items):
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


def phone_facts(e164):
    """(phone type, zones as JSON, zone source) of an E.164 number, as
    `contact_point_build` derives them (`phone_type_of`, `candidate_zones`)."""
    if not (e164.startswith("+1") and len(e164) == 12 and e164[2:].isdigit()):
        zones, source = candidate_zones(kind="phone", value=e164)
        return phone_type_of(e164).value, _json_list(zones), source
    ntype = _nanp_type(int(e164[2:]))
    kind = _PHONE_TYPES.get(ntype, ContactPoint.PhoneType.UNKNOWN.value)
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(e164[2:]))
    # phonenumbers.timezone.time_zones_for_number, with the type already known.
    if ntype == phonenumbers.PhoneNumberType.UNKNOWN:
        zones = []
    elif not phonenumbers.is_number_type_geographical(ntype, 1):
        zones = list(phone_timezone._country_level_time_zones_for_number(number))
    else:
        zones = list(phone_timezone.time_zones_for_geographical_number(number))
    # debtors.timezones.zones_for_phone: an unknown or too-wide answer says nothing.
    zones = [z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE]
    if not zones or len(zones) > _MAX_MEANINGFUL_ZONES:
        return kind, "[]", UNKNOWN
    return kind, _json_list(sorted(zones)), "area_code"


def zip_facts(postal_code):
    """(zones as JSON, zone source) of a ZIP, as `candidate_zones(kind="address", …)`."""
    zones = zones_for_zip(postal_code)
    return (_json_list(zones), "zip") if zones else ("[]", UNKNOWN)
