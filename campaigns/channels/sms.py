"""SMS through the twilio SDK, with the office's own credentials or the platform's.

`send` makes exactly one create call and classifies the answer: Twilio refused for now
(429, 5xx, no connection) → `TransientError`; Twilio refused this message for good
(invalid number, opted out, not a mobile) → `PermanentError`, which says what it means
for the contact point; anything else (a timeout after the request went out) propagates:
the outcome is unknown and the dispatcher leaves the row for reconciliation.

The text never waits at the provider past the debtor's window: `validity_period` is the
time left in it. Status callbacks come back to our URL with our message id in the query
string (covered by Twilio's signature), so a callback can be matched even before the
provider's id is recorded.
"""

import json
import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from campaigns.channels import PermanentError, TransientError, environment_pinned

logger = logging.getLogger(__name__)
# The SDK logs every request and response at INFO (URLs with the numbers looked up, and
# headers): personal data in our logs, and CPU per text. Its warnings still come through.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

PROVIDER = "twilio"
# Twilio accepts 1..36000 seconds.
MAX_VALIDITY = 36000
# Seconds to wait for Twilio's answer; past it the outcome is unknown.
TIMEOUT = 20

# Error codes that say something about the number, not about this one message.
# (30003, "unreachable handset", is left out on purpose: Twilio documents it as often
# temporary — a phone switched off or out of coverage.)
NUMBER_INVALID = {21211: "invalid", 30005: "disconnected"}
NUMBER_LANDLINE = {21614, 30006}
NUMBER_OPTED_OUT = {21610}


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    messaging_service_sid: str = ""
    from_number: str = ""

    @property
    def configured(self):
        return bool(self.account_sid and self.auth_token and
                    (self.messaging_service_sid or self.from_number))  # fmt: skip


def platform_config():
    return TwilioConfig(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
        from_number=getattr(settings, "TWILIO_FROM_NUMBER", ""),
    )


def config_from_secrets(secrets):
    """An office's stored credential (JSON) → TwilioConfig, or None when unusable."""
    try:
        data = json.loads(secrets or "{}")
    except ValueError:
        return None
    config = TwilioConfig(
        account_sid=data.get("account_sid", ""),
        auth_token=data.get("auth_token", ""),
        messaging_service_sid=data.get("messaging_service_sid", ""),
        from_number=data.get("from_number", ""),
    )
    return config if config.account_sid and config.auth_token else None


def office_config(office_id):
    """The office's own Twilio credentials, else the platform's. Needs the office in
    context (credentials are tenant rows)."""
    from recovery.models import ProviderCredential

    credential = ProviderCredential.objects.filter(
        office_id=office_id, provider=ProviderCredential.Provider.TWILIO
    ).first()
    own = config_from_secrets(credential.secrets) if credential else None
    return own or platform_config()


def client_for(config):
    client = Client(config.account_sid, config.auth_token,
                    http_client=TwilioHttpClient(timeout=TIMEOUT))  # fmt: skip
    # A local stand-in for api.twilio.com (the dispatch benchmark's fake); unset in
    # production.
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    environment_pinned(client.http_client.session, client.api.base_url)
    return client


def status_callback_url(message_id, *, base=None):
    base = base or f"{settings.PUBLIC_BASE_URL}{reverse('twilio_status')}"
    return f"{base}?m={message_id}"


def validity_seconds(valid_until, now=None):
    if valid_until is None:
        return MAX_VALIDITY
    left = int((valid_until - (now or timezone.now())).total_seconds())
    return max(1, min(MAX_VALIDITY, left))


class NumberRefused(PermanentError):
    """Twilio refused the number itself; `effect` says what that means for it:
    "invalid", "disconnected", "landline" or "opted_out"."""

    def __init__(self, message, *, code, effect):
        super().__init__(message)
        self.code = code
        self.effect = effect


def number_effect(code):
    """What a Twilio error code says about the number (or None)."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        return None
    if code in NUMBER_OPTED_OUT:
        return "opted_out"
    if code in NUMBER_LANDLINE:
        return "landline"
    return NUMBER_INVALID.get(code)


class Sender:
    """A batch's texts with one credentials lookup and one client (one HTTP session,
    kept alive). Needs the office in context when made."""

    def __init__(self, *, office_id):
        self.config = office_config(office_id)
        self.client = client_for(self.config) if self.config.configured else None
        self.callback = f"{settings.PUBLIC_BASE_URL}{reverse('twilio_status')}"

    def send(self, *, to, subject, body, message_id, valid_until=None):
        return _create(self.config, self.client, to=to, body=body, message_id=message_id,
                       valid_until=valid_until, callback=self.callback)  # fmt: skip

    def close(self):
        pass


def sender(*, office_id):
    return Sender(office_id=office_id)


def send(*, to, subject, body, office_id, message_id, valid_until=None):
    """Send one text; returns Twilio's message SID. `subject` is ignored (SMS has none)."""
    config = office_config(office_id)
    client = client_for(config) if config.configured else None
    return _create(config, client, to=to, body=body, message_id=message_id,
                   valid_until=valid_until)  # fmt: skip


def _create(config, client, *, to, body, message_id, valid_until, callback=None):
    if not config.configured:
        raise PermanentError(
            "SMS is not configured: set the office's Twilio credentials or the "
            "platform's TWILIO_* settings"
        )
    sender = ({"messaging_service_sid": config.messaging_service_sid}
              if config.messaging_service_sid else {"from_": config.from_number})  # fmt: skip
    try:
        created = client.messages.create(
            to=to,
            body=body,
            status_callback=status_callback_url(message_id, base=callback),
            validity_period=validity_seconds(valid_until),
            **sender,
        )
    except TwilioRestException as exc:
        _classify(exc)
    except requests.exceptions.ConnectTimeout as exc:
        raise TransientError("Twilio could not be reached; nothing was sent") from exc
    return created.sid


def _classify(exc):
    status, code = exc.status, exc.code
    if status == 429 or code == 20429 or status >= 500:
        raise TransientError(f"Twilio answered {status}; nothing was sent") from exc
    if status in (401, 403) and code in (20003, 20005, None):
        # Our credentials, not the message: keep it for when they are fixed.
        logger.error("Twilio refused the office's credentials", extra={"code": code})
        raise TransientError("Twilio refused the credentials; nothing was sent") from exc
    effect = number_effect(code)
    if effect:
        raise NumberRefused(f"Twilio refused the number (error {code})", code=code,
                            effect=effect) from exc  # fmt: skip
    raise PermanentError(f"Twilio refused the message (error {code or status})") from exc
