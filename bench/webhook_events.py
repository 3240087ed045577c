"""The webhooks benchmark's events: the office's rows they act on, the signed requests
the providers would send, and the check that each was applied exactly once.

`seed_targets` adds, to a generated office, the rows a day of webhooks finds: pending
Stripe Checkout payments, sent texts and sent emails (the generator's succeeded card
payments are the ones refunded). `build_requests` makes one provider request per event
— Stripe's JSON signed with its HMAC scheme, Twilio's form post signed with the SDK's
`RequestValidator` over PUBLIC_BASE_URL + path, Mailgun's JSON signed with its webhook
key and sent with anymail's basic auth — plus deliberate Stripe re-deliveries.
`verify` then checks the office's rows; it returns what is wrong, nothing when all is.

The secrets here are the bench server's own (`PROVIDER_SETTINGS`), never real ones.
"""

import base64
import functools
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from urllib.parse import urlencode

PUBLIC_BASE_URL = "https://recovery.bench.example"
STRIPE_SECRET_KEY = "sk_test_bench_webhooks"  # noqa: S105 (fake, test mode)
STRIPE_WEBHOOK_SECRET = "whsec_bench_webhooks_0123456789abcdef"  # noqa: S105 (fake, test mode)
TWILIO_ACCOUNT_SID = "AC" + "b" * 32
TWILIO_AUTH_TOKEN = "bench-twilio-auth-token-0123456789"  # noqa: S105 (fake, test mode)
TWILIO_SERVICE_SID = "MG" + "b" * 32
MAILGUN_SIGNING_KEY = "key-bench0webhooks0signing0key000"
ANYMAIL_BASIC_AUTH = "mailgun-hook:bench-webhook-pass"
# Django settings the server needs to verify these requests (as environment values).
PROVIDER_SETTINGS = {
    "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
    "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_MESSAGING_SERVICE_SID": TWILIO_SERVICE_SID,
    "ANYMAIL": json.dumps(
        {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY, "WEBHOOK_SECRET": ANYMAIL_BASIC_AUTH}
    ),
}
STRIPE_PATH = "/payments/stripe/webhook/"
TWILIO_PATH = "/webhooks/twilio/status/"
MAILGUN_PATH = "/webhooks/anymail/mailgun/tracking/"
CENT = Decimal("0.01")


@dataclass
class Request:
    path: str  # with its query string
    headers: dict
    body: bytes
    sign: Callable | None = None  # fresh headers when the signature expires


@dataclass
class Targets:
    """What the events act on and what they must leave behind."""

    office_id: int
    completions: dict = field(default_factory=dict)  # pending payment id -> amount
    refunds: dict = field(default_factory=dict)  # succeeded payment id -> (intent, refund)
    texts: dict = field(default_factory=dict)  # message id -> Twilio SID
    emails: list = field(default_factory=list)  # message ids
    stripe_events: int = 0  # distinct Stripe event ids
    delivery_events: int = 0  # distinct Twilio + email events
    duplicates: int = 0


def event_mix(events):
    """How many of each: about 35% checkouts completed, 5% re-deliveries of them, 5%
    refunds, 30% text status callbacks (sent + delivered), 25% email events
    (delivered + opened)."""
    texts, emails = int(events * 0.15), int(events * 0.125)
    refunds, duplicates = int(events * 0.05), int(events * 0.05)
    completions = events - 2 * texts - 2 * emails - refunds - duplicates
    if completions < 1:
        raise ValueError("too few events for the mix (at least 20)")
    duplicates = min(duplicates, completions)
    return {
        "completions": completions,
        "duplicates": duplicates,
        "refunds": refunds,
        "texts": texts,
        "emails": emails,
    }


def _cents(amount):
    return int((amount * 100).to_integral_value())


def seed_targets(*, office_id, events, seed=1):
    """Pending checkouts, sent texts and emails for `events` webhooks (committed)."""
    from datetime import timedelta

    from django.db.models import F
    from django.utils import timezone

    from accounts.models import Account
    from payments.models import Payment
    from recovery import tenancy

    rng = random.Random(seed)
    mix = event_mix(events)
    now = timezone.now()
    targets = Targets(office_id=office_id)
    stamp = secrets.token_hex(4)
    with tenancy.office_context(office_id):
        open_accounts = list(
            Account.objects.filter(status__in=["new", "active"])
            .annotate(owed=F("principal_balance") + F("interest_balance") + F("fees_balance"))
            .filter(owed__gte=20)
            .order_by("id")
            .values_list("id", "debtor_id", "owed")
        )
        if not open_accounts:
            raise RuntimeError("the office has no open account with a balance")
        payments = []
        for i in range(mix["completions"]):
            account_id, debtor_id, owed = open_accounts[i % len(open_accounts)]
            share = Decimal(1) if rng.random() < 0.15 else Decimal(rng.randint(10, 40)) / 100
            if i >= len(open_accounts):
                share = Decimal("0.05")  # a second payment on the account: keep it small
            amount = max(Decimal("5.00"), (owed * share).quantize(CENT, ROUND_DOWN))
            ref = f"cs_test_{secrets.token_hex(20)}"
            payments.append(
                Payment(
                    office_id=office_id,
                    account_id=account_id,
                    debtor_id=debtor_id,
                    amount=amount,
                    currency="USD",
                    method="card",
                    gateway="stripe",
                    source="portal",
                    idempotency_key=f"pay-bench-{stamp}-{i}",
                    checkout_reference=ref,
                    checkout_url=f"https://checkout.stripe.com/c/pay/{ref}",
                    expires_at=now + timedelta(hours=1),
                    created_at=now - timedelta(minutes=5),
                )
            )
        for p in Payment.objects.bulk_create(payments):
            targets.completions[p.id] = p.amount
        refundable = list(
            Payment.objects.filter(
                gateway="stripe",
                method="card",
                status="succeeded",
                refunded_amount=0,
                unapplied_amount=0,
            )
            .exclude(gateway_reference="")
            .order_by("id")
            .values_list("id", "gateway_reference", "amount")[: mix["refunds"]]
        )
        for payment_id, _generated, amount in refundable:
            # The generator draws its PaymentIntent ids from the seed, so two offices made
            # with one seed share them; Stripe's are unique, and a refund finds its
            # payment by this id across offices.
            intent = f"pi_{secrets.token_hex(12)}"
            Payment.objects.filter(pk=payment_id).update(gateway_reference=intent)
            refund = amount if rng.random() < 0.7 else (amount / 2).quantize(CENT, ROUND_DOWN)
            targets.refunds[payment_id] = (intent, refund)
        targets.texts = _sent_messages(office_id, "sms", mix["texts"], now, rng)
        targets.emails = list(_sent_messages(office_id, "email", mix["emails"], now, rng))
    targets.stripe_events = len(targets.completions) + len(targets.refunds)
    targets.delivery_events = 2 * len(targets.texts) + 2 * len(targets.emails)
    targets.duplicates = mix["duplicates"]
    return targets


def _sent_messages(office_id, channel, count, now, rng):
    """`count` messages sent five minutes ago, one per account with a usable contact
    point of the channel's kind; {message id: provider id}."""
    from datetime import timedelta

    from accounts.models import Account
    from campaigns.models import Message
    from debtors.models import ContactPoint

    kind = "phone" if channel == "sms" else "email"
    points = dict(
        ContactPoint.objects.filter(kind=kind, validity__in=["valid", "unverified"])
        .order_by("-id")
        .values_list("debtor_id", "id")
    )
    accounts = [
        (a, d)
        for a, d in Account.objects.order_by("id").values_list("id", "debtor_id")
        if d in points
    ]
    if count and not accounts:
        raise RuntimeError(f"no account with a {kind} to send {channel} to")
    sent_at = now - timedelta(minutes=5)
    rows = []
    for i in range(count):
        account_id, debtor_id = accounts[i % len(accounts)]
        provider_id = (
            "SM" + secrets.token_hex(16)
            if channel == "sms"
            else f"<{now:%Y%m%d%H%M%S}.{rng.getrandbits(40):x}@mg.recovery.bench.example>"
        )
        rows.append(
            Message(
                office_id=office_id,
                account_id=account_id,
                debtor_id=debtor_id,
                contact_point_id=points[debtor_id],
                channel=channel,
                status="sent",
                due_at=sent_at,
                sent_at=sent_at,
                sending_at=sent_at,
                provider="twilio" if channel == "sms" else "mailgun",
                provider_message_id=provider_id,
                created_at=sent_at,
            )
        )
    return {m.id: m.provider_message_id for m in Message.objects.bulk_create(rows)}


# ---------- the providers' requests ----------


def _stripe_headers(body, delay=0):
    """Signed as Stripe signs, at call time (+ `delay` s for a retry): the SDK refuses a
    signature older than five minutes, and a long run outlasts that."""
    timestamp = int(time.time()) + delay
    mac = hmac.new(
        STRIPE_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": f"t={timestamp},v1={mac}",
    }


def _stripe(event, delay=0):
    body = json.dumps(event).encode()
    sign = functools.partial(_stripe_headers, body, delay)
    return Request(STRIPE_PATH, sign(), body, sign)


def _stripe_event(kind, obj, created):
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def _session(payment_id, amount, office_id, account_id):
    cents = _cents(amount)
    return {
        "id": f"cs_test_{secrets.token_hex(20)}",
        "object": "checkout.session",
        "amount_subtotal": cents,
        "amount_total": cents,
        "client_reference_id": str(payment_id),
        "currency": "usd",
        "customer": None,
        "livemode": False,
        "mode": "payment",
        "metadata": {
            "office_id": str(office_id),
            "account_id": str(account_id),
            "payment_id": str(payment_id),
        },
        "payment_intent": f"pi_{secrets.token_hex(12)}",
        "payment_method_types": ["card", "us_bank_account"],
        "payment_status": "paid",
        "status": "complete",
        "success_url": f"{PUBLIC_BASE_URL}/p/paid",
    }


def _charge_refunded(intent, amount, refund):
    cents = _cents(amount)
    return {
        "id": f"ch_{secrets.token_hex(12)}",
        "object": "charge",
        "amount": cents,
        "amount_captured": cents,
        "amount_refunded": _cents(refund),
        "captured": True,
        "currency": "usd",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent,
        "refunded": refund == amount,
        "status": "succeeded",
    }


def _twilio(message_id, sid, status):
    from twilio.request_validator import RequestValidator

    params = {
        "ApiVersion": "2010-04-01",
        "AccountSid": TWILIO_ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "+12125550100",
        "From": "+15017122661",
        "MessagingServiceSid": TWILIO_SERVICE_SID,
    }
    path = f"{TWILIO_PATH}?m={message_id}"
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
        PUBLIC_BASE_URL + path, params
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }
    return Request(path, headers, urlencode(params).encode())


def _mailgun(office_id, message_id, provider_id, event, at):
    timestamp, token = str(int(at)), secrets.token_hex(25)
    signature = hmac.new(
        MAILGUN_SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    data = {
        "event": event,
        "timestamp": at,
        "id": secrets.token_urlsafe(16),
        "log-level": "info",
        "envelope": {
            "transport": "smtp",
            "sender": "postmaster@mg.recovery.bench.example",
            "sending-ip": "209.61.154.250",
            "targets": "debtor@mail.example",
        },
        "flags": {
            "is-routed": False,
            "is-authenticated": True,
            "is-system-test": False,
            "is-test-mode": False,
        },
        "message": {
            "headers": {
                "to": "debtor@mail.example",
                "message-id": provider_id.strip("<>"),
                "from": "Recovery <no-reply@recovery.bench.example>",
                "subject": "About your account",
            },
            "attachments": [],
            "size": 2113,
        },
        "recipient": "debtor@mail.example",
        "recipient-domain": "mail.example",
        "campaigns": [],
        "tags": ["collection"],
        "user-variables": {"office_id": str(office_id), "message_id": str(message_id)},
    }
    if event == "delivered":
        data["delivery-status"] = {
            "tls": True,
            "mx-host": "mx.mail.example",
            "code": 250,
            "description": "",
            "session-seconds": 0.43,
            "attempt-no": 1,
            "message": "OK",
        }
    else:
        data["client-info"] = {
            "client-type": "browser",
            "client-os": "iOS",
            "device-type": "mobile",
            "client-name": "Mobile Safari",
        }
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": data,
    }
    auth = base64.b64encode(ANYMAIL_BASIC_AUTH.encode()).decode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mailgun/treq-16.12.0",
        "Authorization": f"Basic {auth}",
    }
    return Request(MAILGUN_PATH, headers, json.dumps(payload).encode())


def build_requests(targets, *, seed=1):
    """Every event's request, shuffled (a re-delivery may overtake its original, a
    `delivered` its `sent`, as they do)."""
    from payments.models import Payment
    from recovery import tenancy

    rng = random.Random(seed)
    now = int(time.time())
    with tenancy.office_context(targets.office_id):
        accounts = dict(
            Payment.objects.filter(pk__in=list(targets.completions)).values_list("id", "account_id")
        )
        amounts = dict(
            Payment.objects.filter(pk__in=list(targets.refunds)).values_list("id", "amount")
        )
    requests, completed = [], []
    for payment_id, amount in targets.completions.items():
        event = _stripe_event(
            "checkout.session.completed",
            _session(payment_id, amount, targets.office_id, accounts[payment_id]),
            now - 2,
        )
        completed.append(event)
        requests.append(_stripe(event))
    for event in rng.sample(completed, targets.duplicates):
        requests.append(_stripe(event, rng.randint(1, 30)))  # Stripe's retry: new t
    for payment_id, (intent, refund) in targets.refunds.items():
        obj = _charge_refunded(intent, amounts[payment_id], refund)
        requests.append(_stripe(_stripe_event("charge.refunded", obj, now - 1)))
    for message_id, sid in targets.texts.items():
        requests += [_twilio(message_id, sid, s) for s in ("sent", "delivered")]
    with tenancy.office_context(targets.office_id):
        from campaigns.models import Message

        provider_ids = dict(
            Message.objects.filter(pk__in=targets.emails).values_list("id", "provider_message_id")
        )
    for message_id in targets.emails:
        for n, kind in enumerate(("delivered", "opened")):
            requests.append(
                _mailgun(
                    targets.office_id,
                    message_id,
                    provider_ids[message_id],
                    kind,
                    now - 60 + n * 30 + rng.random(),
                )
            )
    rng.shuffle(requests)
    return requests


# ---------- after the run ----------


def verify(targets):
    """What is wrong with the office after the events (empty: each applied once)."""
    from django.db import connection
    from django.db.models import Q

    from accounts.models import Event
    from bench.generate import MISMATCH_SQL
    from campaigns.models import DeliveryEvent, Message
    from payments.models import GatewayEvent, Payment
    from recovery import tenancy

    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append(f"{what}: {got}, expected {want}")

    completions, refunds = list(targets.completions), list(targets.refunds)
    with tenancy.office_context(targets.office_id), connection.cursor() as cursor:
        expect(
            "checkout payments succeeded",
            Payment.objects.filter(pk__in=completions, status="succeeded").count(),
            len(completions),
        )
        # Applied once: what the ledger took from each payment is its amount (less the
        # credit held when it overpaid), never twice that.
        cursor.execute(
            """
            SELECT count(*) FROM payments_payment p LEFT JOIN (
                SELECT payment_id, -sum(principal + interest + fees) AS applied
                FROM accounts_transaction
                WHERE office_id = %(office)s AND kind = 'payment' AND payment_id = ANY(%(ids)s)
                GROUP BY payment_id) t ON t.payment_id = p.id
            WHERE p.id = ANY(%(ids)s) AND p.amount <> coalesce(t.applied, 0) + p.unapplied_amount
            """,
            {"office": targets.office_id, "ids": completions},
        )
        expect("checkout payments applied other than once", cursor.fetchone()[0], 0)
        cursor.execute(
            """
            SELECT p.id, p.refunded_amount, coalesce(sum(t.principal + t.interest + t.fees), 0)
            FROM payments_payment p LEFT JOIN accounts_transaction t
              ON t.payment_id = p.id AND t.kind = 'reversal' AND t.office_id = %(office)s
            WHERE p.id = ANY(%(ids)s) GROUP BY p.id, p.refunded_amount
            """,
            {"office": targets.office_id, "ids": refunds},
        )
        wrong = [
            pid
            for pid, refunded, reversed_ in cursor.fetchall()
            if refunded != targets.refunds[pid][1] or reversed_ != refunded
        ]
        expect("refunds not applied exactly once", len(wrong), 0)
        expect("Stripe events recorded", GatewayEvent.objects.count(), targets.stripe_events)
        expect("delivery events recorded", DeliveryEvent.objects.count(), targets.delivery_events)
        messages = list(targets.texts) + targets.emails
        expect(
            "messages delivered",
            Message.objects.filter(pk__in=messages, status="delivered").count(),
            len(messages),
        )
        on_timeline = Event.objects.filter(kind="message_delivered").filter(
            Q(data__message_id__in=messages)
        )
        expect(
            "delivery timeline events",
            on_timeline.count(),
            len(targets.texts) + 2 * len(targets.emails),
        )
        cursor.execute(MISMATCH_SQL, {"office": targets.office_id})
        expect("accounts whose balances differ from their ledger", cursor.fetchone()[0], 0)
    return problems
