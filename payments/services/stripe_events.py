"""Applying Stripe's webhook events, each exactly once.

The webhook view has verified the signature; here the event finds its office (from the
metadata we put on every session and PaymentIntent, else through the payment's
PaymentIntent id via the escape hatch), is recorded under a unique (office, event id),
and is applied by comparing states, not by trusting arrival order: a refund or a
dispute that arrives before the success first applies the success it implies, and a
payment never moves back from a final state."""

import logging

import stripe
from django.conf import settings
from django.db import connection
from django.utils import timezone

from payments.gateways import from_minor, stripe_config
from payments.models import GatewayEvent, Payment
from payments.services.apply import (
    payment_failed,
    payment_processing,
    payment_reverse,
    payment_succeeded,
)
from recovery import tenancy

logger = logging.getLogger(__name__)


def _intent_id(obj):
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    intent = obj.get("payment_intent")
    return intent.get("id") if isinstance(intent, dict) else intent


def _intent_metadata(intent, *, api_key, account):
    """Stripe copies no metadata from a PaymentIntent onto its charges and disputes: when
    such an event arrives before we know the PaymentIntent, ask Stripe for it."""
    if not api_key:
        return {}
    client = stripe.StripeClient(api_key, max_network_retries=2)
    options = {"stripe_account": account} if account else {}
    try:
        found = client.v1.payment_intents.retrieve(intent, options=options)
    except stripe.StripeError:
        logger.warning("stripe webhook: PaymentIntent lookup failed", extra={"intent": intent})
        return {}
    return found.to_dict().get("metadata") or {}


def _office_of(obj, *, connected_account, office_hint):
    metadata = obj.get("metadata") or {}
    if str(metadata.get("office_id", "")).isdigit():
        return int(metadata["office_id"])
    intent = _intent_id(obj)
    if not intent:
        return office_hint
    with tenancy.all_offices("Stripe webhook: the PaymentIntent names the payment's office"):
        known = (
            Payment.objects.filter(gateway=Payment.Gateway.STRIPE, gateway_reference=intent)
            .values_list("office_id", flat=True)
            .first()
        )
    if known is not None:
        return known
    if office_hint is not None:
        return office_hint
    metadata = _intent_metadata(
        intent, api_key=settings.STRIPE_SECRET_KEY, account=connected_account
    )
    obj.setdefault("metadata", {}).update(metadata)
    return int(metadata["office_id"]) if str(metadata.get("office_id", "")).isdigit() else None


def _payment_of(obj):
    metadata = obj.get("metadata") or {}
    if str(metadata.get("payment_id", "")).isdigit():
        found = Payment.objects.filter(pk=int(metadata["payment_id"])).first()
        if found is not None:
            return found
    intent = _intent_id(obj)
    if intent:
        return Payment.objects.filter(gateway_reference=intent).first()
    return None


def stripe_inbox_apply(payload, received_at):
    """The inbox's handler (`recovery.inbox`): the verified event as Stripe sent it."""
    return stripe_event_apply(payload["event"], office_hint=payload.get("office_hint"))


def stripe_event_apply(event, *, office_hint=None):
    """Apply one verified event (a `stripe.Event` or its JSON); returns a short outcome
    for the log and the inbox. `office_hint` is the office whose own endpoint received it."""
    event = event.to_dict() if hasattr(event, "to_dict") else event
    obj = event["data"]["object"]
    office_id = _office_of(obj, connected_account=event.get("account"), office_hint=office_hint)
    if office_id is None:
        return "ignored: not one of our payments"
    with tenancy.office_context(office_id):
        config = stripe_config(office_id)
        if config is not None and bool(event.get("livemode")) != config.api_key.startswith(
            ("sk_live", "rk_live")
        ):
            return "ignored: live/test mode does not match this office's key"
        payment = _payment_of(obj)
        if payment is None and _intent_id(obj) and not (obj.get("metadata") or {}):
            config_key = config.api_key if config else ""
            obj["metadata"] = _intent_metadata(
                _intent_id(obj), api_key=config_key, account=config.account if config else None
            )
            payment = _payment_of(obj)
        record = _event_recorded(office_id, event, payment)
        if record is None:
            return "duplicate: already applied"
        if event["type"] == "checkout.session.completed" and obj.get("mode") == "setup":
            outcome = _setup_completed(obj, config)
        elif payment is None:
            outcome = "ignored: no payment matches"
        else:
            outcome = _apply(event["type"], obj, payment)
        GatewayEvent.objects.filter(pk=record).update(outcome=outcome[:200])
        logger.info(
            "stripe event applied",
            extra={
                "event_type": event["type"],
                "payment_id": getattr(payment, "id", None),
                "outcome": outcome,
            },
        )
        return outcome


def _event_recorded(office_id, event, payment):
    """Record the event under its unique (office, gateway, event id): the new row's id,
    or None when it was recorded before. One statement (no savepoint to undo a clash)."""
    return _events_recorded(office_id, [(event, getattr(payment, "pk", None))]).get(event["id"])


def _events_recorded(office_id, events):
    """`_event_recorded` for many [(event, payment id)] in one statement: {event id: new
    row id} for those not recorded before."""
    if not events:
        return {}
    table = connection.ops.quote_name(GatewayEvent._meta.db_table)
    now = timezone.now()
    params = []
    for event, payment_id in events:
        params += [office_id, event["id"][:120], event["type"][:80], payment_id, now]
    values = ", ".join(["(%s, 'stripe', %s, %s, %s, %s, '')"] * len(events))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (office_id, gateway, event_id, event_type, payment_id, "  # noqa: S608 (our table name)
            f"received_at, outcome) VALUES {values} ON CONFLICT DO NOTHING RETURNING id, event_id",
            params,
        )
        return {event_id: row_id for row_id, event_id in cursor.fetchall()}


SUCCESS_KINDS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
)


def _plain_success(event):
    """(office id, payment id) of a payment's success that names both in our metadata
    (every Checkout Session and PaymentIntent we create does); else None."""
    obj = event["data"]["object"]
    if event.get("type") not in SUCCESS_KINDS:
        return None
    if obj.get("object") == "checkout.session" and (
        obj.get("mode") != "payment" or obj.get("payment_status") != "paid"
    ):
        return None
    metadata = obj.get("metadata") or {}
    office_id, payment_id = str(metadata.get("office_id", "")), str(metadata.get("payment_id", ""))
    if office_id.isdigit() and payment_id.isdigit():
        return int(office_id), int(payment_id)
    return None


def _plain_refund(event):
    """The PaymentIntent of a paid charge's refund that carries no metadata of ours (as
    Stripe sends them: charges do not copy the PaymentIntent's); else None."""
    obj = event["data"]["object"]
    if event.get("type") != "charge.refunded" or obj.get("object") != "charge":
        return None
    intent = obj.get("payment_intent")
    metadata = obj.get("metadata") or {}
    if not isinstance(intent, str) or not intent or "payment_id" in metadata:
        return None
    if not (obj.get("paid") or obj.get("status") == "succeeded"):
        return None
    return intent if isinstance(obj.get("amount_refunded"), int) else None


def stripe_inbox_together(payload):
    """Whether the inbox may apply this event with others (`stripe_inbox_apply_batch`):
    a payment's success that names its office and payment, or a plain refund. The rest
    (disputes, bank debits on their way, events we must look up) go one per
    transaction: each locks its payment and then its debtor's accounts, and a
    transaction that took more of those one after another could wait on another drain
    crosswise."""
    event = payload["event"]
    return _plain_success(event) is not None or _plain_refund(event) is not None


def stripe_inbox_apply_batch(items):
    """The inbox's batch handler: [(payload, received_at)] of plain successes and
    refunds (`stripe_inbox_together`) → their outcomes, in order. Applied together,
    office by office in id order (`payments_apply`: a few statements for the lot, in
    arrival order where it matters), so every drain takes its locks in one order:
    office, payments, accounts. A refund finds its payment by its PaymentIntent, as one
    at a time would: among the stored payments first, then among this batch's
    successes (which record it)."""
    from recovery.lookups import array

    outcomes = [None] * len(items)
    named = {}  # intent -> (office, payment) of this batch's successes
    for payload, _ in items:
        success = _plain_success(payload["event"])
        intent = success and _intent_id(payload["event"]["data"]["object"])
        if intent:
            named.setdefault(intent, success)
    intents = {_plain_refund(payload["event"]) for payload, _ in items} - {None}
    where = {}  # intent -> office: the first payment's, as one at a time finds it
    with tenancy.all_offices("Stripe refunds: the PaymentIntents name the payments' offices"):
        found = Payment.objects.filter(
            gateway=Payment.Gateway.STRIPE, gateway_reference__any=array(sorted(intents))
        )
        rows = found.order_by("id").values_list("gateway_reference", "office_id") if intents else ()
        for intent, office_id in rows:
            where.setdefault(intent, office_id)
    for intent in intents - set(where):
        if intent in named:
            where[intent] = named[intent][0]
    offices = {}
    for index, (payload, _) in enumerate(items):
        success = _plain_success(payload["event"])
        if success is not None:
            offices.setdefault(success[0], []).append((index, payload, "success", success[1]))
            continue
        intent = _plain_refund(payload["event"])
        if intent in where:
            offices.setdefault(where[intent], []).append((index, payload, "refund", intent))
        else:  # not one of ours, or one to look up: alone, before any lock is taken
            outcomes[index] = stripe_inbox_apply(payload, None)
    todo = {}  # every office's payments found before any is locked: one lock order
    for office_id, group in sorted(offices.items()):
        with tenancy.office_context(office_id):
            todo[office_id] = _office_events_found(office_id, group, outcomes, named)
    for office_id, found in todo.items():
        with tenancy.office_context(office_id):
            _office_events_apply(office_id, found, outcomes)
    return outcomes


def _office_events_found(office_id, group, outcomes, named):
    """The office's events with their payments, [(index, event, kind, payment id,
    currency)]; the others get their outcome here (a mode mismatch, or alone through
    `stripe_inbox_apply` when the payment must be found another way)."""
    from recovery.lookups import array

    config = stripe_config(office_id)
    live = config.api_key.startswith(("sk_live", "rk_live")) if config else None
    intents = [ref for _, _, kind, ref in group if kind == "refund"]
    by_intent = {}  # intent -> payment id: the first stored, as `_payment_of` finds it
    found = Payment.objects.filter(gateway_reference__any=array(intents)).order_by("id")
    for intent, payment_id in found.values_list("gateway_reference", "id") if intents else ():
        by_intent.setdefault(intent, payment_id)
    for intent in intents:
        if intent not in by_intent and named.get(intent, (None,))[0] == office_id:
            by_intent[intent] = named[intent][1]  # the payment a success here records it on
    ids = {ref for _, _, kind, ref in group if kind == "success"} | set(by_intent.values())
    currency = {}  # payment id -> its currency, for the refunded amounts
    if ids:
        currency = dict(
            Payment.objects.filter(pk__any=array(sorted(ids))).values_list("id", "currency")
        )
    todo = []
    for index, payload, kind, ref in group:
        event = payload["event"]
        payment_id = ref if kind == "success" else by_intent.get(ref)
        if live is not None and bool(event.get("livemode")) != live:
            outcomes[index] = "ignored: live/test mode does not match this office's key"
        elif payment_id not in currency:  # it may be found another way: alone
            outcomes[index] = stripe_inbox_apply(payload, None)
        else:
            todo.append((index, event, kind, payment_id, currency[payment_id]))
    return todo


def _office_events_apply(office_id, todo, outcomes):
    from payments.services.apply import payments_apply
    from recovery.bulk import rows_set

    if not todo:
        return
    recorded = _events_recorded(office_id, [(event, pid) for _, event, _, pid, _ in todo])
    applied, taken_ids, currency = [], set(), {}
    for index, event, kind, payment_id, money in todo:
        currency[payment_id] = money
        if event["id"] in recorded and event["id"] not in taken_ids:
            taken_ids.add(event["id"])  # one event sent to two endpoints: applied once
            applied.append((index, event, kind, payment_id))
        else:
            outcomes[index] = "duplicate: already applied"
    reported = []
    for _, event, kind, payment_id in applied:
        obj = event["data"]["object"]
        if kind == "success":
            reported.append(("succeeded", payment_id, _intent_id(obj) or ""))
        else:
            total = from_minor(obj["amount_refunded"], currency[payment_id])
            reported.append(("refunded", payment_id, total, _intent_id(obj) or ""))
    rows = []
    for (index, event, kind, payment_id), amount in zip(
        applied, payments_apply(reported), strict=True
    ):
        if kind == "success":
            outcome = "succeeded"
        else:
            outcome = f"refunded {amount}" if amount > 0 else "refund already applied"
        outcomes[index] = outcome
        rows.append(GatewayEvent(pk=recorded[event["id"]], office_id=office_id, outcome=outcome))
        logger.info(
            "stripe event applied",
            extra={"event_type": event["type"], "payment_id": payment_id, "outcome": outcome},
        )
    rows_set(GatewayEvent, rows, ["outcome"])


def _succeed_from_charge(payment, obj):
    """A charge event implies the payment succeeded, whatever arrived first."""
    if payment.status in (Payment.Status.PENDING, Payment.Status.PROCESSING) and (
        obj.get("paid") or obj.get("status") == "succeeded" or obj.get("object") == "dispute"
    ):
        payment_succeeded(payment=payment, reference=_intent_id(obj) or "")
        payment.refresh_from_db()


def _apply(kind, obj, payment):
    intent = _intent_id(obj) or ""
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("payment_status") == "paid":
            payment_succeeded(payment=payment, reference=intent)
            return "succeeded"
        payment_processing(payment=payment, reference=intent)
        return "processing: the bank payment has not cleared yet"
    if kind == "checkout.session.async_payment_failed":
        payment_failed(payment=payment, message="The bank payment failed.")
        return "failed: bank payment"
    if kind == "checkout.session.expired":
        payment_failed(payment=payment, message="The payment page expired before payment.")
        return "expired"
    if kind == "payment_intent.succeeded":
        payment_succeeded(payment=payment, reference=intent)
        return "succeeded"
    if kind == "payment_intent.processing":
        payment_processing(payment=payment, reference=intent)
        return "processing"
    if kind == "payment_intent.payment_failed":
        error = (obj.get("last_payment_error") or {}).get("message") or "The payment failed."
        if payment.source == "autopay" or payment.status == Payment.Status.PROCESSING:
            payment_failed(payment=payment, message=error)
            return "failed"
        # In a Checkout Session a declined card is one attempt: the debtor may try again.
        return "attempt declined; the checkout stays open"
    if kind == "charge.refunded":
        _succeed_from_charge(payment, obj)
        refunded = from_minor(obj.get("amount_refunded", 0), payment.currency)
        delta = refunded - payment.refunded_amount
        if delta <= 0:
            return "refund already applied"
        payment_reverse(payment=payment, amount=delta, kind="refund", reason="Refunded")
        return f"refunded {delta}"
    if kind == "charge.dispute.created":
        _succeed_from_charge(payment, obj)
        amount = min(
            from_minor(obj.get("amount", 0), payment.currency),
            payment.amount - payment.refunded_amount,
        )
        if amount <= 0:
            return "nothing left to reverse"
        reason = f"Card dispute opened ({obj.get('reason') or 'no reason given'})"
        payment_reverse(payment=payment, amount=amount, kind="chargeback", reason=reason)
        return f"charged back {amount}"
    if kind == "charge.dispute.closed":
        if obj.get("status") != "won":
            return f"dispute closed: {obj.get('status')}"
        return _dispute_won(payment, obj)
    return f"ignored: {kind} is not used"


def _dispute_won(payment, obj):
    """The office won the card dispute: the money comes back as a new payment."""
    won = Payment.objects.filter(idempotency_key=f"dispute-won-{obj['id']}").first()
    if won is not None:
        return "dispute win already applied"
    won = Payment.objects.create(
        account=payment.account,
        debtor_id=payment.debtor_id,
        amount=from_minor(obj.get("amount", 0), payment.currency),
        currency=payment.currency,
        method=payment.method,
        gateway=Payment.Gateway.STRIPE,
        gateway_reference=f"{obj['id']}",
        source=payment.source,
        idempotency_key=f"dispute-won-{obj['id']}",
    )
    payment_succeeded(payment=won)
    return f"dispute won: {won.amount} re-applied as payment {won.id}"


def _setup_completed(obj, config):
    """The debtor saved a payment method for a plan's autopay."""
    from payments.gateways.stripe import StripeGateway
    from payments.models import PaymentPlan
    from payments.services.autopay import autopay_attach

    plan_id = str((obj.get("metadata") or {}).get("plan_id", ""))
    plan = PaymentPlan.objects.filter(pk=int(plan_id)).first() if plan_id.isdigit() else None
    if plan is None or config is None or not obj.get("setup_intent"):
        return "ignored: no plan matches"
    customer, method, label = StripeGateway(config).saved_method(obj["setup_intent"])
    autopay_attach(
        plan=plan,
        gateway="stripe",
        method_reference=method,
        label=label,
        customer_reference=customer or obj.get("customer") or "",
    )
    return f"autopay set up for plan {plan.id}"
