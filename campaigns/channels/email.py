"""Email through django-anymail (any ESP; its test backend in tests).

Each email's Reply-To is reply+<office>-<message>-<signature>@INBOUND_EMAIL_DOMAIN, so a
reply routed back through the ESP's inbound webhook names its office and outbox row; the
signature (keyed by SECRET_KEY) stops anyone from steering a reply into another office.
"""

import re

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.crypto import constant_time_compare, salted_hmac

from campaigns.channels import PermanentError, TransientError, environment_pinned


class Sender:
    """A batch's emails over one open ESP connection (one HTTP session, kept alive)
    instead of a connection per email. `close()` when the batch is done."""

    def __init__(self, *, office_id):
        self.office_id = office_id
        self.connection = get_connection()
        self.connection.open()
        # An HTTP ESP's session (anymail's requests-based backends; others have none).
        environment_pinned(getattr(self.connection, "session", None),
                           getattr(self.connection, "api_url", "") or "https://")  # fmt: skip

    def send(self, *, to, subject, body, message_id, valid_until=None):
        return send(to=to, subject=subject, body=body, office_id=self.office_id,
                    message_id=message_id, connection=self.connection)  # fmt: skip

    def close(self):
        self.connection.close()


def sender(*, office_id):
    return Sender(office_id=office_id)


def send(*, to, subject, body, office_id, message_id, valid_until=None, connection=None):
    """Send one email; returns the ESP's message id. (Email has no expiry: `valid_until`
    is for channels that can hold a message back.)"""
    reply_to = reply_address(office_id=office_id, message_id=message_id)
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
    )
    # Webhooks come back with these: they find the office and the outbox row.
    email.metadata = {"office_id": str(office_id), "message_id": str(message_id)}
    email.tags = ["collection"]
    try:
        email.send()
    except AnymailRecipientsRefused as exc:
        raise PermanentError("the ESP refused the recipient") from exc
    except AnymailAPIError as exc:
        # (str() of an AnymailAPIError can itself fail without a response object.)
        status = exc.status_code
        if status is None:
            raise  # no answer from the ESP: the outcome is unknown
        if status == 429 or status >= 500:
            raise TransientError(f"the ESP answered {status}; nothing was sent") from exc
        raise PermanentError(f"the ESP refused the message ({status})") from exc
    status = getattr(email, "anymail_status", None)
    if status is None or status.message_id is None:
        return ""
    return str(status.message_id)


REPLY_TOKEN = re.compile(r"reply\+(\d+)-(\d+)-([0-9a-f]{20})@", re.IGNORECASE)


def _reply_signature(office_id, message_id):
    value = f"{office_id}-{message_id}"
    return salted_hmac("campaigns.email.reply", value, algorithm="sha256").hexdigest()[:20]


def reply_address(*, office_id, message_id):
    """The Reply-To for one outbox email, or "" when no inbound domain is configured."""
    domain = getattr(settings, "INBOUND_EMAIL_DOMAIN", "")
    if not domain:
        return ""
    return f"reply+{office_id}-{message_id}-{_reply_signature(office_id, message_id)}@{domain}"


def reply_token_read(addresses):
    """(office id, message id) from the first correctly signed reply address among
    `addresses`, or None (no token, or a forged or mangled one)."""
    for address in addresses:
        match = REPLY_TOKEN.search(address or "")
        if match is None:
            continue
        office_id, message_id, signature = match.groups()
        if constant_time_compare(signature.lower(), _reply_signature(office_id, message_id)):
            return int(office_id), int(message_id)
    return None
