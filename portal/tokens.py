"""Portal links: signed, expiring, bound to one office, one debtor and one account.

The link format is `campaigns.rendering.portal_link`'s: `signing.dumps({"o", "d", "a",
"m"}, salt="portal")` ("m", when present, is the message the link went out in, so that
opening it counts as that message's click). The signature carries its signing time, so
the age is checked here on reading
(`PORTAL_LINK_MAX_AGE_DAYS`). Reading a link never trusts its office: the debtor and
the account are looked up again inside that office, and a link whose parts do not
belong together is refused like a tampered one.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes

SALT = "portal"


class _LinkSigner(signing.TimestampSigner):
    """`signing.dumps(…, salt=SALT)`'s signer, the same signatures, with its HMAC key
    derived once: Django derives it again for every signature, and a dispatch batch
    signs a link per message."""

    def __init__(self):
        super().__init__(salt=SALT)
        self._mac = salted_hmac(self.salt + "signer", b"", self.key, algorithm=self.algorithm)

    def signature(self, value, key=None):
        if key is not None and key != self.key:
            return super().signature(value, key)
        mac = self._mac.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()


_SIGNERS = {}


def _signer():
    keys = (settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    signer = _SIGNERS.get(keys)
    if signer is None:
        _SIGNERS.clear()  # the secret was rotated (or a test changed it)
        signer = _SIGNERS[keys] = _LinkSigner()
    return signer


class LinkRefused(Exception):
    """Why a link cannot be used: "expired" or "invalid" (tampered, unknown, moved).
    An expired link's signature was good, so its office is known: the refusal page can
    point to that office's public page."""

    def __init__(self, reason, office_id=None):
        super().__init__(reason)
        self.reason = reason
        self.office_id = office_id


@dataclass(frozen=True)
class PortalLink:
    office_id: int
    debtor_id: int
    account_id: int | None
    message_id: int | None = None


def link_token(*, office_id, debtor_id, account_id, message_id=None):
    data = {"o": office_id, "d": debtor_id, "a": account_id}
    if message_id is not None:
        data["m"] = message_id
    return _signer().sign_object(data)


def link_read(token):
    """The link's office, debtor and account ids, or `LinkRefused`."""
    max_age = timedelta(days=settings.PORTAL_LINK_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkRefused("expired", office_id=_office_of_expired(token)) from exc
    except signing.BadSignature as exc:
        raise LinkRefused("invalid") from exc
    try:
        return PortalLink(
            office_id=int(data["o"]),
            debtor_id=int(data["d"]),
            account_id=int(data["a"]) if data.get("a") is not None else None,
            message_id=int(data["m"]) if data.get("m") is not None else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkRefused("invalid") from exc


def _office_of_expired(token):
    try:
        return int(signing.loads(token, salt=SALT)["o"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
