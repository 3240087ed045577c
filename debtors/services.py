"""Verbs for debtors and their contact points. Phone numbers are normalised to E.164 and
every phone or address gets its candidate time zones on the way in."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from debtors.models import ContactPoint, Debtor
from debtors.timezones import candidate_zones


def phone_normalise(raw, region="US"):
    """E.164 form of a phone number, or ValidationError saying what is wrong."""
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{raw}” is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"“{raw}” is not a valid phone number for {region}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_type_of(e164):
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return {
        phonenumbers.PhoneNumberType.MOBILE: ContactPoint.PhoneType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE: ContactPoint.PhoneType.LANDLINE,
        phonenumbers.PhoneNumberType.VOIP: ContactPoint.PhoneType.VOIP,
    }.get(kind, ContactPoint.PhoneType.UNKNOWN)


def contact_point_build(*, debtor, kind, value="", source, **fields):
    """An unsaved, validated ContactPoint with its derived fields filled in."""
    cp = ContactPoint(office_id=debtor.office_id, debtor=debtor, kind=kind, source=source, **fields)
    if kind == ContactPoint.Kind.PHONE:
        cp.value = phone_normalise(value)
        if not cp.phone_type:
            cp.phone_type = phone_type_of(cp.value)
    elif kind == ContactPoint.Kind.EMAIL:
        cp.value = value.strip().lower()
        try:
            validate_email(cp.value)
        except ValidationError as exc:
            raise ValidationError(f"“{value}” is not an email address.") from exc
    elif kind == ContactPoint.Kind.ADDRESS:
        if not (cp.line1 and cp.postal_code):
            raise ValidationError("An address needs at least a street line and a ZIP code.")
        parts = [cp.line1, cp.line2, cp.city, f"{cp.state} {cp.postal_code}".strip()]
        cp.value = ", ".join(p for p in parts if p)
    else:
        raise ValidationError(f"Unknown contact point kind {kind!r}.")
    zones, zone_source = candidate_zones(kind=kind, value=cp.value, postal_code=cp.postal_code)
    cp.candidate_timezones = zones
    cp.timezone_source = zone_source
    return cp


@transaction.atomic
def contact_point_add(*, debtor, kind, value="", source, **fields):
    cp = contact_point_build(debtor=debtor, kind=kind, value=value, source=source, **fields)
    cp.save()
    return cp


@transaction.atomic
def debtor_create(*, kind=Debtor.Kind.PERSON, **fields):
    debtor = Debtor(kind=kind, **fields)
    if kind == Debtor.Kind.PERSON and not debtor.last_name:
        raise ValidationError({"last_name": "A person needs a last name."})
    if kind == Debtor.Kind.BUSINESS and not debtor.business_name:
        raise ValidationError({"business_name": "A business needs a name."})
    debtor.save()
    return debtor
