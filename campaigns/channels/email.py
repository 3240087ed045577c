"""Email through django-anymail (any ESP; its test backend in tests)."""

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage

from campaigns.channels import PermanentError, TransientError


def send(*, to, subject, body, office_id, message_id, valid_until=None):
    """Send one email; returns the ESP's message id. (Email has no expiry: `valid_until`
    is for channels that can hold a message back.)"""
    email = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                         to=[to])  # fmt: skip
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
