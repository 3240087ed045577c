"""Provider webhooks for messages: Twilio status callbacks and inbound texts, and the
receivers of anymail's tracking and inbound signals (anymail's own views verify the
ESP's request: its WEBHOOK_SECRET basic auth and the ESP's signature).

No login and no office in the URL. Status callbacks and tracking events are verified and
stored in the webhook inbox (`recovery.inbox`); `twilio_status_apply` and
`email_tracking_apply` apply them in a worker, finding the office through the escape
hatch (the message) and working inside `tenancy.office_context`. Inbound texts and
email replies are applied in the request: they are few, and a person may be waiting on
them. A request that fails verification gets 403 and changes nothing. Twilio signs the
exact public URL it called, so the URL is rebuilt from PUBLIC_BASE_URL, never from the
(proxied) request.
"""

import logging
from datetime import datetime

from anymail.signals import AnymailTrackingEvent, inbound, tracking
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.request_validator import compare as twilio_compare
from twilio.twiml.messaging_response import MessagingResponse

from campaigns import replies
from campaigns import tracking as track
from campaigns.channels import email as email_channel
from campaigns.channels import sms as sms_channel
from campaigns.models import Message
from debtors.models import ContactPoint
from recovery import inbox, tenancy
from recovery.models import Office, ProviderCredential

logger = logging.getLogger(__name__)


def public_url(request):
    return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()


def twilio_signature_valid(request, auth_token):
    """The SDK's check of Twilio's signature. The URL we gave Twilio (PUBLIC_BASE_URL)
    is tried first, alone; only a request it does not match goes through the SDK's
    `validate`, which also tries the URL with and without its port."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature:
        return False
    validator, url = RequestValidator(auth_token), public_url(request)
    if "bodySHA256" not in request.GET and twilio_compare(
        validator.compute_signature(url, request.POST), signature
    ):
        return True
    return validator.validate(url, request.POST, signature)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def twilio_status(request):
    """Twilio's status callback for one outbound text (our message id is in `m`):
    verified, then stored in the inbox for a worker to apply (`recovery.inbox`).

    A callback signed with the platform's auth token needs no lookup; one signed with an
    office's own token is checked against the office of the message it names."""
    ref, sid = request.GET.get("m", ""), request.POST.get("MessageSid", "")
    verified_by = None
    if not twilio_signature_valid(request, sms_channel.platform_config().auth_token):
        row = _status_message(ref, sid)
        if row is None:
            return HttpResponseForbidden()
        with tenancy.office_context(row["office_id"]):
            config = sms_channel.office_config(row["office_id"])
        if config == sms_channel.platform_config() or not twilio_signature_valid(
            request, config.auth_token
        ):
            return HttpResponseForbidden()
        verified_by = row["office_id"]
    params = {name: request.POST.get(name) for name in request.POST}
    status = track.twilio_provider_status(params)
    inbox.receive(
        "twilio_status",
        f"{verified_by or 'platform'}:{ref}:{sid}:{status}",  # whose token signed it, too
        {"m": ref, "params": params, "verified_by": verified_by},
    )
    return HttpResponse()


def _status_message(ref, sid):
    """{pk, office_id} of the text a status callback names, or None."""
    with tenancy.all_offices("Twilio status callback: find the message's office"):
        found = Message.objects.filter(channel="sms")
        if ref.isdigit():
            found = found.filter(pk=int(ref))
        elif sid:
            found = found.filter(provider_message_id=sid)
        else:
            return None
        return found.values("pk", "office_id").first()


def twilio_status_apply(payload, received_at):
    """The inbox's handler for a verified status callback."""
    row = _status_message(payload["m"], payload["params"].get("MessageSid", ""))
    if row is None:
        return "ignored: no message of ours"
    office_id = row["office_id"]
    with tenancy.office_context(office_id):
        refused = _twilio_refusal(office_id, payload.get("verified_by"))
        if refused:
            return refused
        message = Message.objects.select_related("account", "contact_point").get(pk=row["pk"])
        applied = track.twilio_status_record(
            message=message, params=payload["params"], at=received_at
        )
    return "applied" if applied else "unchanged"


def _twilio_refusal(office_id, verified_by):
    """Why a callback cannot speak for this office's message, or None (office in context)."""
    if verified_by is None:
        if sms_channel.office_config(office_id) != sms_channel.platform_config():
            # the platform's token cannot speak for an office's own account
            return "refused: signed by the platform, the office has its own account"
    elif verified_by != office_id:
        return "refused: signed by another office's account"
    return None


def twilio_status_apply_batch(items):
    """The inbox's batch handler: outcomes for [(payload, received_at)], in order.

    Plain status callbacks are applied together, per office (`track.deliveries_record`).
    One that names its message by SID only, or says something about the number, goes
    alone through `twilio_status_apply`, after everything before it."""
    refs = {int(payload["m"]) for payload, _ in items if str(payload["m"]).isdigit()}
    with tenancy.all_offices("Twilio status callbacks: find the messages' offices"):
        offices = dict(Message.objects.filter(channel="sms", pk__in=refs)
                       .values_list("pk", "office_id"))  # fmt: skip
    batch, refusals = _Deliveries(len(items)), {}
    for index, (payload, received_at) in enumerate(items):
        ref = str(payload["m"])
        office_id = offices.get(int(ref)) if ref.isdigit() else None
        delivery = office_id and track.twilio_delivery(
            message_id=int(ref), params=payload["params"], at=received_at
        )
        if not delivery or delivery.effect:
            batch.flush()
            batch.outcomes[index] = twilio_status_apply(payload, received_at)
            continue
        verified_by = payload.get("verified_by")
        if (office_id, verified_by) not in refusals:
            with tenancy.office_context(office_id):
                refusals[office_id, verified_by] = _twilio_refusal(office_id, verified_by)
        if refusals[office_id, verified_by]:
            batch.outcomes[index] = refusals[office_id, verified_by]
        else:
            batch.add(index, office_id, delivery)
    return batch.flush()


class _Deliveries:
    """Plain delivery events waiting to be applied together, per office."""

    def __init__(self, size):
        self.outcomes = [None] * size
        self.waiting = {}  # office id -> [(index, Delivery)]

    def add(self, index, office_id, delivery):
        self.waiting.setdefault(office_id, []).append((index, delivery))

    def flush(self):
        for office_id, entries in sorted(self.waiting.items()):
            with tenancy.office_context(office_id):
                track.deliveries_record([delivery for _, delivery in entries])
            for index, delivery in entries:
                self.outcomes[index] = "applied" if delivery.applied else "unchanged"
        self.waiting = {}
        return self.outcomes


def _inbound_offices(account_sid):
    """(auth token, office ids) for a Twilio account: the offices with their own
    credentials for it, plus, for the platform's account, every office using it."""
    platform = sms_channel.platform_config()
    with tenancy.all_offices("inbound SMS: which offices use this Twilio account"):
        own = {
            c.office_id: sms_channel.config_from_secrets(c.secrets)
            for c in ProviderCredential.objects.filter(provider=ProviderCredential.Provider.TWILIO)
        }
        offices = [oid for oid, cfg in own.items() if cfg and cfg.account_sid == account_sid]
        token = own[offices[0]].auth_token if offices else ""
        if account_sid and account_sid == platform.account_sid:
            token = platform.auth_token
            with_own = [oid for oid, cfg in own.items() if cfg]
            offices += list(Office.objects.filter(is_active=True).exclude(pk__in=with_own)
                            .values_list("pk", flat=True))  # fmt: skip
    return token, offices


def _twiml():
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A text to one of our numbers. STOP-family words opt the number out at once in
    every office that texts it from this Twilio account (the carrier blocks that sender
    for the number anyway); anything else goes to the inbox of the office that texted it
    last. Answers empty TwiML: no automatic reply beyond what Twilio itself sends."""
    params = request.POST
    token, office_ids = _inbound_offices(params.get("AccountSid", ""))
    if not twilio_signature_valid(request, token):
        return HttpResponseForbidden()
    number, body, sid = params.get("From", ""), params.get("Body", ""), params.get("MessageSid", "")
    with tenancy.all_offices("inbound SMS: offices that hold this number"):
        holding = set(
            ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=number,
                                        office_id__in=office_ids)
            .values_list("office_id", flat=True)
        )  # fmt: skip
        latest = (
            Message.objects.filter(channel="sms", contact_point__value=number,
                                   office_id__in=holding)
            .order_by("-created_at", "-id").values_list("office_id", flat=True).first()
        )  # fmt: skip
    inbox_office = latest or (min(holding) if holding else None)
    for office_id in sorted(holding):
        with tenancy.office_context(office_id):
            track.sms_reply_record(from_number=number, body=body, sid=sid,
                                   opt_out_type=params.get("OptOutType", ""),
                                   inbox=office_id == inbox_office)  # fmt: skip
    return _twiml()


# What an anymail tracking event carries that `track.email_event_record` reads.
_EMAIL_EVENT_FIELDS = ("event_type", "message_id", "event_id", "recipient", "reject_reason",
                       "description", "mta_response", "click_url", "user_agent", "tags",
                       "metadata")  # fmt: skip


@receiver(tracking, dispatch_uid="campaigns.email_tracking")
def email_tracking(sender, event, esp_name, **kwargs):
    """anymail's tracking signal (anymail's view verified the ESP's request): the event
    goes to the inbox, a worker applies it (`email_tracking_apply`)."""
    fields = {name: getattr(event, name, None) for name in _EMAIL_EVENT_FIELDS}
    fields["message_id"] = str(fields["message_id"]) if fields["message_id"] else None
    fields["timestamp"] = event.timestamp.isoformat() if event.timestamp else None
    inbox.receive("email_tracking", track.email_event_key(event),
                  {"esp": esp_name, "event": fields})  # fmt: skip


def _email_event(payload, received_at):
    fields = dict(payload["event"])
    stamp = fields.pop("timestamp")
    return AnymailTrackingEvent(
        timestamp=datetime.fromisoformat(stamp) if stamp else received_at, **fields
    )


def _email_refs(event):
    """(office id, message id) from the metadata our sends carry, or None."""
    metadata = event.metadata or {}
    office_ref = str(metadata.get("office_id", ""))
    message_ref = str(metadata.get("message_id", ""))
    if office_ref.isdigit() and message_ref.isdigit():
        return int(office_ref), int(message_ref)
    return None


def email_tracking_apply_batch(items):
    """The inbox's batch handler for email tracking events, like
    `twilio_status_apply_batch`: plain events together per office; a bounce, a
    complaint or an event without our metadata alone, through `email_tracking_apply`."""
    events = [_email_event(payload, received_at) for payload, received_at in items]
    refs = [_email_refs(event) for event in events]
    with tenancy.all_offices("email tracking events: find the messages' offices"):
        known = set(Message.objects.filter(channel="email", pk__in={r[1] for r in refs if r})
                    .values_list("office_id", "pk"))  # fmt: skip
    batch = _Deliveries(len(items))
    for index, ((payload, received_at), event, ref) in enumerate(
        zip(items, events, refs, strict=True)
    ):
        delivery = ref in known and track.email_delivery(
            message_id=ref[1], event=event, esp_name=payload["esp"]
        )
        if delivery and not delivery.effect:
            batch.add(index, ref[0], delivery)
        else:
            batch.flush()
            batch.outcomes[index] = email_tracking_apply(payload, received_at)
    return batch.flush()


def email_tracking_apply(payload, received_at):
    """The inbox's handler for an email tracking event."""
    event = _email_event(payload, received_at)
    ref = _email_refs(event)
    with tenancy.all_offices("email tracking event: find the message's office"):
        found = Message.objects.filter(channel="email")
        if ref is not None:
            found = found.filter(pk=ref[1], office_id=ref[0])
        elif event.message_id:
            found = found.filter(provider_message_id=str(event.message_id))
        else:
            found = found.none()
        row = found.values("pk", "office_id").first()
    if row is None:
        return "ignored: not an outbox message"  # an invitation, a password reset
    with tenancy.office_context(row["office_id"]):
        message = Message.objects.select_related("account", "contact_point").get(pk=row["pk"])
        applied = track.email_event_record(message=message, event=event, esp_name=payload["esp"])
    return "applied" if applied else "unchanged"


def _reply_origin(addresses, sender):
    """(office id, outbox message id or None, contact point id or None) for an email
    reply: the signed Reply-To token names both; without one, the sender's address
    matched to a debtor's email contact point (the office that emailed it last)."""
    token = email_channel.reply_token_read(addresses)
    with tenancy.all_offices("inbound email: find the office the reply is for"):
        if token is not None:
            office_id, message_id = token
            row = Message.objects.filter(pk=message_id, office_id=office_id, channel="email")
            if row.exists():
                return office_id, message_id, None
        if not sender:
            return None
        last = (
            Message.objects.filter(channel="email", contact_point__value__iexact=sender)
            .order_by("-created_at", "-id")
            .values("pk", "office_id")
            .first()
        )
        if last is not None:
            return last["office_id"], last["pk"], None
        point = (
            ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, value__iexact=sender)
            .order_by("office_id", "-id")
            .values("pk", "office_id")
            .first()
        )
    return (point["office_id"], None, point["pk"]) if point else None


@receiver(inbound, dispatch_uid="campaigns.email_inbound")
def email_inbound(sender, event, esp_name, **kwargs):
    """anymail's inbound signal: a reply to our email. Raising makes the ESP retry,
    which is safe: a reply is recorded once (keyed by its Message-ID)."""
    email = event.message
    if email is None:
        return
    recipients = [email.envelope_recipient or ""]
    recipients += [a.addr_spec for a in (*email.to, *email.cc)]
    from_address = email.from_email.addr_spec if email.from_email else ""
    from_address = from_address or email.envelope_sender or ""
    origin = _reply_origin(recipients, from_address)
    if origin is None:
        logger.info("inbound email matches no office; ignored", extra={"esp": esp_name})
        return
    office_id, message_id, contact_point_id = origin
    subject = email.subject or ""
    text = replies.reply_text(stripped=email.stripped_text, full=email.text)
    key = replies.email_reply_key(
        message_id_header=email.get("Message-ID", ""),
        event_id=event.event_id,
        sender=from_address,
        subject=subject,
        text=text,
    )
    with tenancy.office_context(office_id):
        message = (
            Message.objects.select_related("account", "contact_point").get(pk=message_id)
            if message_id
            else None
        )
        point = ContactPoint.objects.get(pk=contact_point_id) if contact_point_id else None
        replies.email_reply_record(
            key=key,
            subject=subject[:200],
            text=text,
            message=message,
            contact_point=point,
            at=event.timestamp,
        )
