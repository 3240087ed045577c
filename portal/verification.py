"""Identity checks before any debt detail, and their lockout.

The answers are compared with the debtor's blind indexes (keyed hashes), never by
decrypting: `recovery.crypto.blind_index` of what the person typed against the hash
stored on the debtor. Failures are counted in the cache per subject (the debtor a link
or reference points at, or the reference itself when it matches nothing) and per
client address. `PORTAL_FAILURE_LIMIT` failures lock the subject, and the higher
`PORTAL_IP_FAILURE_LIMIT` the address (many phones share one carrier address, so one
person's mistakes must not lock out their neighbours), for `PORTAL_LOCKOUT_MINUTES`. A
success clears the subject's count only: one known identity must not reset an address
that has been guessing others.

A person who fails learns nothing: the same sentence whether the reference exists, the
name is wrong or the date is wrong.
"""

import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from debtors.models import ContactPoint
from recovery.crypto import blind_index, normalise

_PREFIX = "portal:fail:"


def _limit():
    return settings.PORTAL_FAILURE_LIMIT


def _ttl():
    return settings.PORTAL_LOCKOUT_MINUTES * 60


def subject_for_debtor(office_id, debtor_id):
    return f"d:{office_id}:{debtor_id}"


def subject_for_reference(office_id, reference):
    return f"r:{office_id}:{blind_index(reference)}"


def client_ip(request):
    """The address to count failures against. Behind our TLS proxy (BEHIND_TLS_PROXY)
    every request comes from the proxy, so the client is the last X-Forwarded-For entry
    (the one our proxy appended; entries before it are the client's to forge)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64] or "unknown"
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(subject, ip):
    return [f"{_PREFIX}s:{subject}", f"{_PREFIX}ip:{ip}"]


def is_locked(*, subject, ip):
    subject_key, ip_key = _keys(subject or "", ip)
    counts = cache.get_many([subject_key, ip_key] if subject else [ip_key])
    return (
        int(counts.get(subject_key, 0)) >= _limit()
        or int(counts.get(ip_key, 0)) >= settings.PORTAL_IP_FAILURE_LIMIT
    )


def failure_record(*, subject, ip):
    """Count one failure; returns the subject's count after it."""
    counts = []
    for key in _keys(subject, ip):
        cache.add(key, 0, timeout=_ttl())
        try:
            value = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=_ttl())
            value = 1
        # Each failure restarts the lockout period.
        cache.touch(key, timeout=_ttl())
        counts.append(value)
    return counts[0]


def failures_clear(*, subject, ip):
    cache.delete(_keys(subject, ip)[0])


@dataclass(frozen=True)
class Answers:
    last_name: str = ""
    date_of_birth: str = ""  # ISO date
    postal_code: str = ""
    ssn_last4: str = ""


def _same(stored, typed):
    return bool(stored) and bool(typed) and hmac.compare_digest(stored, blind_index(typed))


def identity_matches(debtor, answers, *, method):
    """Do the answers fit this debtor, by the office's method? Never decrypts."""
    if method == "zip_ssn4":
        if not _same(debtor.ssn_last4_bidx, answers.ssn_last4):
            return False
        typed_zip = normalise(answers.postal_code)[:5]
        if len(typed_zip) != 5:
            return False
        zips = ContactPoint.objects.filter(
            office_id=debtor.office_id, debtor_id=debtor.pk, kind=ContactPoint.Kind.ADDRESS
        ).values_list("postal_code", flat=True)
        return any(hmac.compare_digest(z.strip()[:5], typed_zip) for z in zips if z)
    return _same(debtor.last_name_bidx, answers.last_name) and _same(
        debtor.dob_bidx, answers.date_of_birth
    )
