"""Stripe successes and refunds applied a batch at a time (`recovery.inbox` with
`stripe_inbox_apply_batch` and `payments_apply`): a batch ends where the same events
applied one at a time end, across offices, in arrival order (a refund before a success
of the same debtor, a bank debit that clears in the same batch, a refund of a payment
the same batch applied, one event sent to two endpoints) and with the events that still
go alone; what a batch costs in statements does not grow with its size; one bad success
sends its batch one by one and only it waits; and the locks a payment takes on its
debtor's accounts do not hold up a delivery callback writing to their timelines."""

import re
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import responses
import time_machine
from django.conf import settings
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Event, Transaction
from accounts.services import account_ledger_mismatches, event_record, ledger_sums
from compliance.services import dispute_record
from payments.models import GatewayEvent, Payment, PromiseToPay
from payments.services import apply, stripe_events
from payments.services.apply import payment_succeeded
from payments.services.plans import promise_create
from recovery import inbox, tenancy
from recovery.models import Document, InboundWebhook, WorkItem
from tests.factories import AccountFactory, DebtorFactory
from tests.payments.conftest import (
    charge_object,
    metadata,
    post_event,
    session_object,
    stripe_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_keys", "lazy_worker")]

PROMISED_BY = date(2099, 1, 15)  # a fixed date: it is in the timeline's words


def open_account(office, balance="500.00", debtor=None):
    extra = {} if debtor is None else {"debtor": debtor}
    return AccountFactory(office=office, opening_balance=balance, **extra)


def pending(account, amount, key, **fields):
    """A Checkout payment waiting for Stripe, as `checkout_start` leaves it."""
    with tenancy.office_context(account.office_id):
        fields = {"method": "card", "source": "portal", **fields}
        return Payment.objects.create(
            account=account,
            debtor_id=account.debtor_id,
            amount=Decimal(amount),
            currency="USD",
            gateway="stripe",
            idempotency_key=f"batch-{key}",
            checkout_reference=f"cs_test_{key}",
            **fields,
        )


def completed(p, intent, event_id, **kwargs):
    return stripe_event(
        "checkout.session.completed", session_object(p, intent=intent), event_id=event_id, **kwargs
    )


def intent_succeeded(p, intent, event_id):
    obj = {
        "id": intent,
        "object": "payment_intent",
        "amount": int(p.amount * 100),
        "amount_received": int(p.amount * 100),
        "currency": "usd",
        "livemode": False,
        "metadata": metadata(p),
        "status": "succeeded",
    }
    return stripe_event("payment_intent.succeeded", obj, event_id=event_id)


def refunded(p, intent, cents, event_id):
    obj = charge_object(p, intent=intent, amount_refunded=cents)
    return stripe_event("charge.refunded", obj, event_id=event_id)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Drain the inbox; then what its transactions queued after their commit (receipts,
    closure letters) runs, as the worker would run it (eagerly, here)."""
    from recovery.celery import app

    def drain():
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                taken = inbox.drain_once()
        finally:
            app.conf.task_always_eager = False
        return taken

    return drain


@pytest.fixture
def batches(monkeypatch):
    """The sizes of the Stripe batches the inbox applied together."""
    sizes = []
    real = stripe_events.stripe_inbox_apply_batch

    def spy(items):
        sizes.append(len(items))
        return real(items)

    monkeypatch.setattr(stripe_events, "stripe_inbox_apply_batch", spy)
    return sizes


@pytest.fixture
def stripe_api():
    """Stripe's API, unreachable: a handler that asks it something is recorded (and gets
    a connection error, as without a network)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        yield api


def one_by_one(caplog):
    """The inbox's warnings that a batch was rolled back and went one row at a time."""
    return [r.getMessage() for r in caplog.records if "applied one by one" in r.getMessage()]


def deliver(client, posts, drains, drain=None):
    """POST each (event, path) the way Stripe does; apply them after each one ("one at
    a time") or all in one drain ("one batch", which must take them all)."""
    drain = drain or inbox.drain_once
    for event, path in posts:
        assert post_event(client, event, path=path).status_code == 200
        if drains == "one at a time":
            drain()
    if drains == "one batch":
        assert drain() == len(posts)


class Labels:
    """Stable names for the rows a scene made (their ids differ from run to run)."""

    def __init__(self):
        self.accounts, self.payments = {}, {}

    def account(self, label, account):
        self.accounts[account.pk] = label
        return account

    def payment(self, label, p):
        self.payments[p.pk] = label
        return p

    def text(self, text):
        """`text` with each "payment <id>" named by its label."""
        return re.sub(
            r"(?i)\b(payment )(\d+)\b",
            lambda m: m.group(1) + self.payments.get(int(m.group(2)), m.group(2)),
            text,
        )


@pytest.fixture
def mix(office_a, office_b):
    """Pending payments of two offices with one of everything a success can do, and the
    Stripe events for them in the order they arrive: (labels, events, marks)."""
    names = Labels()
    a, b = office_a, office_b
    two = DebtorFactory(office=a)
    first = names.account("first of two", open_account(a, "500.00", debtor=two))
    second = names.account("second of two", open_account(a, "300.00", debtor=two))
    over = names.account("overpaid", open_account(a, "200.00"))
    disputing = DebtorFactory(office=a)
    disputed = names.account("disputed", open_account(a, "400.00", debtor=disputing))
    beside = names.account("beside the dispute", open_account(a, "400.00", debtor=disputing))
    settled = names.account("settled", open_account(a, "1000.00"))
    kept = names.account("promise kept", open_account(a, "500.00"))
    short = names.account("promise open", open_account(a, "500.00"))
    live = names.account("live mode", open_account(a, "500.00"))
    twice = names.account("two events", open_account(a, "500.00"))
    before = names.account("paid before", open_account(a, "500.00"))
    b_part = names.account("office b part", open_account(b, "500.00"))
    b_full = names.account("office b full", open_account(b, "250.00"))
    with tenancy.office_context(a.id):
        dispute_record(account=disputed, received_via="letter", reason="Not mine")
        promise_create(account=kept, amount="120.00", due_date=PROMISED_BY)
        promise_create(account=short, amount="300.00", due_date=PROMISED_BY)

    pay = {
        "p first": pending(first, "100.00", "first"),
        "p second": pending(second, "300.00", "second"),  # pays it in full
        "p over": pending(over, "250.00", "over"),  # 50.00 more than owed
        "p beside": pending(beside, "150.00", "beside"),  # no direction
        "p settles": pending(settled, "600.00", "settles", settles_account=True),
        "p kept": pending(kept, "150.00", "kept"),
        "p short": pending(short, "100.00", "short"),
        "p live": pending(live, "100.00", "live"),
        "p twice": pending(twice, "200.00", "twice"),
        "p before": pending(before, "200.00", "before"),
        "p b part": pending(b_part, "200.00", "b-part"),
        "p b full": pending(b_full, "250.00", "b-full"),
    }
    for label, p in pay.items():
        names.payment(label, p)
    intent = {label: f"pi_{label.replace(' ', '_')}" for label in pay}
    with tenancy.office_context(a.id):  # its success came with an earlier batch
        payment_succeeded(payment=pay["p before"], reference=intent["p before"])

    def done(label, **kwargs):
        evt = f"evt_{label.replace(' ', '_')}"
        return completed(pay[label], intent[label], evt, **kwargs)

    events = [
        done("p first"),
        done("p b part"),
        done("p second"),
        done("p over"),
        done("p second"),  # Stripe sends it again: dropped at the inbox's door
        done("p beside"),
        refunded(pay["p before"], intent["p before"], 5000, "evt_p_before_refund"),
        done("p b full"),
        done("p settles"),
        done("p kept"),
        done("p short"),
        done("p live", livemode=True),  # a live event for a test-mode office: ignored
        done("p twice"),
        intent_succeeded(pay["p twice"], intent["p twice"], "evt_p_twice_intent"),
    ]
    return names, events, marks(a, b)


def marks(*offices):
    """The last id of each table a scene filled before the events: what is newer is
    what the events did."""
    found = {}
    for office in offices:
        with tenancy.office_context(office.id):
            for model in (Event, Transaction, WorkItem, Document):
                last = model.objects.order_by("-id").values_list("id", flat=True).first()
                found[office.id, model] = last or 0
    return found


def state(offices, names, mark):
    """What a person would see, by label: accounts, ledger rows, timeline events,
    payments, recorded Stripe events, work items, promises and documents the events
    made, per office; and the inbox rows."""
    seen = {}
    for office in offices:
        with tenancy.office_context(office.id):
            accounts = list(Account.objects.filter(pk__in=names.accounts).order_by("id"))
            ledger = Transaction.objects.filter(id__gt=mark[office.id, Transaction])
            timeline = Event.objects.filter(id__gt=mark[office.id, Event])
            work = WorkItem.objects.filter(id__gt=mark[office.id, WorkItem])
            documents = Document.objects.filter(id__gt=mark[office.id, Document])
            seen[office.name] = {
                "accounts": {
                    names.accounts[a.pk]: money(
                        a.principal_balance, a.interest_balance, a.fees_balance, a.total_collected
                    )
                    + (a.status,)
                    for a in accounts
                },
                "ledger": sorted(
                    (names.accounts[t.account_id], t.kind)
                    + money(t.principal, t.interest, t.fees)
                    + (names.text(t.memo),)
                    for t in ledger
                ),
                "timeline": sorted(
                    (names.accounts[e.account_id], e.kind, names.text(e.summary)) + money(e.amount)
                    for e in timeline
                ),
                "payments": {
                    names.payments[p.pk]: (p.status, *money(p.unapplied_amount, p.refunded_amount))
                    + (p.gateway_reference,)
                    for p in Payment.objects.all()
                },
                "stripe events": sorted(
                    (g.event_id, g.outcome, names.payments.get(g.payment_id))
                    for g in GatewayEvent.objects.all()
                ),
                "work": sorted((names.accounts[w.account_id], names.text(w.title)) for w in work),
                "promises": sorted(
                    (names.accounts[p.account_id], str(p.amount), p.status)
                    for p in PromiseToPay.objects.all()
                ),
                "documents": sorted(
                    (names.accounts[d.account_id], d.kind, names.text(d.title).split(" letter ")[0])
                    for d in documents
                ),
                # The cached balances are the ledger's sums.
                "ledger mismatches": account_ledger_mismatches(),
                "off the ledger": [
                    names.accounts[a.pk]
                    for a in accounts
                    if ledger_sums(a)
                    != {
                        "principal": a.principal_balance,
                        "interest": a.interest_balance,
                        "fees": a.fees_balance,
                    }
                ],
            }
    seen["inbox"] = sorted(
        (row.key, row.outcome, row.applied_at is not None, row.attempts, row.error)
        for row in InboundWebhook.objects.all()
    )
    return seen


def money(*amounts):
    return tuple(None if a is None else str(a) for a in amounts)


def paid(label, amount, payment):
    """The ledger row and timeline event of `amount` of `payment` applied to `label`."""
    ledger = (label, "payment", f"-{amount}", "0.00", "0.00", f"Payment {payment} (Card)")
    return ledger, (label, "payment", f"Payment of {amount} received (Card)", amount)


def receipt(label, payment):
    """A receipt's timeline entry and document (the debtor has no email address)."""
    return (label, "letter", "Receipt kept (no usable email address)", None), (
        label,
        "receipt",
        f"Receipt for payment {payment}",
    )


def closed(label, title, status_summary):
    """The status change and closure letter of an account paid or settled in full."""
    return [
        (label, "status_changed", status_summary, None),
        (label, "letter", f"{title} letter kept with the documents", None),
    ], (label, "letter", title)


SUCCEEDED = "succeeded"
A_PAID = [  # (account, amount applied, payment)
    ("first of two", "100.00", "p first"),
    ("second of two", "300.00", "p second"),
    ("overpaid", "200.00", "p over"),
    ("beside the dispute", "150.00", "p beside"),
    ("settled", "600.00", "p settles"),
    ("promise kept", "150.00", "p kept"),
    ("promise open", "100.00", "p short"),
    ("two events", "200.00", "p twice"),
]
A_CLOSED = [
    closed("second of two", "Paid in full", "New → Paid in full"),
    closed("overpaid", "Paid in full", "New → Paid in full"),
    closed("settled", "Settled in full", "New → Settled"),
]
EXPECTED_A = {
    "accounts": {  # principal, interest, fees, total collected, status
        "first of two": ("400.00", "0.00", "0.00", "100.00", "new"),
        "second of two": ("0.00", "0.00", "0.00", "300.00", "paid"),
        "overpaid": ("0.00", "0.00", "0.00", "200.00", "paid"),
        "disputed": ("400.00", "0.00", "0.00", "0.00", "disputed"),
        "beside the dispute": ("250.00", "0.00", "0.00", "150.00", "new"),
        "settled": ("0.00", "0.00", "0.00", "600.00", "settled"),
        "promise kept": ("350.00", "0.00", "0.00", "150.00", "new"),
        "promise open": ("400.00", "0.00", "0.00", "100.00", "new"),
        "live mode": ("500.00", "0.00", "0.00", "0.00", "new"),
        "two events": ("300.00", "0.00", "0.00", "200.00", "new"),
        "paid before": ("350.00", "0.00", "0.00", "150.00", "new"),
    },
    "ledger": sorted(
        [paid(*row)[0] for row in A_PAID]
        + [
            (
                "settled",
                "adjustment",
                "-400.00",
                "0.00",
                "0.00",
                "Settled: balance forgiven after payment p settles",
            ),
            (
                "paid before",
                "reversal",
                "50.00",
                "0.00",
                "0.00",
                "Refund: payment p before — Refunded",
            ),
        ]
    ),
    "timeline": sorted(
        [paid(*row)[1] for row in A_PAID]
        + [receipt(label, payment)[0] for label, _, payment in A_PAID]
        + [entry for entries, _ in A_CLOSED for entry in entries]
        + [
            ("promise kept", "promise", "Promise to pay 120.00 by 2099-01-15 kept", "120.00"),
            ("paid before", "reversal", "Refund of 50.00: Refunded", "50.00"),
        ]
    ),
    "payments": {  # status, unapplied, refunded, PaymentIntent
        "p first": (SUCCEEDED, "0.00", "0.00", "pi_p_first"),
        "p second": (SUCCEEDED, "0.00", "0.00", "pi_p_second"),
        "p over": (SUCCEEDED, "50.00", "0.00", "pi_p_over"),
        "p beside": (SUCCEEDED, "0.00", "0.00", "pi_p_beside"),
        "p settles": (SUCCEEDED, "0.00", "0.00", "pi_p_settles"),
        "p kept": (SUCCEEDED, "0.00", "0.00", "pi_p_kept"),
        "p short": (SUCCEEDED, "0.00", "0.00", "pi_p_short"),
        "p live": ("pending", "0.00", "0.00", ""),
        "p twice": (SUCCEEDED, "0.00", "0.00", "pi_p_twice"),
        "p before": (SUCCEEDED, "0.00", "50.00", "pi_p_before"),
    },
    "stripe events": sorted(
        [(f"evt_{p.replace(' ', '_')}", SUCCEEDED, p) for _, _, p in A_PAID]
        + [
            ("evt_p_twice_intent", SUCCEEDED, "p twice"),
            ("evt_p_before_refund", "refunded 50.00", "p before"),
        ]
    ),
    "work": [("overpaid", "Refund an overpayment of 50.00 (payment p over)")],
    "promises": [("promise kept", "120.00", "kept"), ("promise open", "300.00", "open")],
    "documents": sorted(
        [receipt(label, payment)[1] for label, _, payment in A_PAID]
        + [letter for _, letter in A_CLOSED]
    ),
    "ledger mismatches": [],
    "off the ledger": [],
}
B_PAID = [("office b part", "200.00", "p b part"), ("office b full", "250.00", "p b full")]
B_CLOSED = [closed("office b full", "Paid in full", "New → Paid in full")]
EXPECTED_B = {
    "accounts": {
        "office b part": ("300.00", "0.00", "0.00", "200.00", "new"),
        "office b full": ("0.00", "0.00", "0.00", "250.00", "paid"),
    },
    "ledger": sorted(paid(*row)[0] for row in B_PAID),
    "timeline": sorted(
        [paid(*row)[1] for row in B_PAID]
        + [receipt(label, payment)[0] for label, _, payment in B_PAID]
        + [entry for entries, _ in B_CLOSED for entry in entries]
    ),
    "payments": {
        "p b part": (SUCCEEDED, "0.00", "0.00", "pi_p_b_part"),
        "p b full": (SUCCEEDED, "0.00", "0.00", "pi_p_b_full"),
    },
    "stripe events": [
        ("evt_p_b_full", SUCCEEDED, "p b full"),
        ("evt_p_b_part", SUCCEEDED, "p b part"),
    ],
    "work": [],
    "promises": [],
    "documents": sorted(
        [receipt(label, payment)[1] for label, _, payment in B_PAID]
        + [letter for _, letter in B_CLOSED]
    ),
    "ledger mismatches": [],
    "off the ledger": [],
}
EXPECTED_INBOX = sorted(
    (f":{key}", outcome, True, 0, "")
    for key, outcome in [
        ("evt_p_first", SUCCEEDED),
        ("evt_p_b_part", SUCCEEDED),
        ("evt_p_second", SUCCEEDED),  # once: its second delivery was not stored
        ("evt_p_over", SUCCEEDED),
        ("evt_p_beside", SUCCEEDED),
        ("evt_p_before_refund", "refunded 50.00"),
        ("evt_p_b_full", SUCCEEDED),
        ("evt_p_settles", SUCCEEDED),
        ("evt_p_kept", SUCCEEDED),
        ("evt_p_short", SUCCEEDED),
        ("evt_p_live", "ignored: live/test mode does not match this office's key"),
        ("evt_p_twice", SUCCEEDED),
        ("evt_p_twice_intent", SUCCEEDED),
    ]
)


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_a_batch_ends_where_one_at_a_time_does(
    client, office_a, office_b, mix, run_tasks, batches, caplog, stripe_api, drains
):
    names, events, mark = mix
    if drains == "one batch":
        for event in events:
            assert post_event(client, event).status_code == 200
        assert run_tasks() == len(events) - 1  # the re-delivery was not stored
        assert len(batches) == 1 and batches[0] >= 12  # the 12 successes (at least) together
    else:
        for event in events:
            assert post_event(client, event).status_code == 200
            run_tasks()
        assert len(batches) >= 12 and set(batches) == {1}

    seen = state([office_a, office_b], names, mark)
    assert seen["inbox"] == EXPECTED_INBOX
    assert seen[office_a.name] == EXPECTED_A
    assert seen[office_b.name] == EXPECTED_B
    assert one_by_one(caplog) == []  # no batch was rolled back
    # Every event names a payment we know (the refund by its PaymentIntent, set when
    # its success was applied): nothing is asked of Stripe.
    assert [call.request.url for call in stripe_api.calls] == []


def test_a_batch_of_successes_costs_the_same_statements_whatever_its_size(client, office_a):
    payments = [pending(open_account(office_a, "300.00"), "100.00", f"size-{i}") for i in range(15)]

    def drain_queries(batch):
        for p in batch:
            post_event(client, completed(p, f"pi_size_{p.pk}", f"evt_size_{p.pk}"))
        with CaptureQueriesContext(connection) as queries:
            assert inbox.drain_once() == len(batch)
        return len(queries)

    small, large = drain_queries(payments[:3]), drain_queries(payments[3:])
    assert small == large, f"3 successes took {small} statements, 12 took {large}"
    assert set(InboundWebhook.objects.values_list("outcome", flat=True)) == {"succeeded"}
    with tenancy.office_context(office_a.id):
        assert set(Payment.objects.values_list("status", flat=True)) == {"succeeded"}
        assert set(Account.objects.values_list("principal_balance", flat=True)) == {
            Decimal("200.00")
        }
        assert Transaction.objects.filter(kind="payment").count() == 15
        assert account_ledger_mismatches() == []
    print(f"statements per drain: 3 successes {small}, 12 successes {large}")


def test_a_batch_of_refunds_costs_the_same_statements_whatever_its_size(client, office_a):
    payments = [pending(open_account(office_a, "300.00"), "100.00", f"back-{i}") for i in range(15)]
    for p in payments:
        post_event(client, completed(p, f"pi_back_{p.pk}", f"evt_paid_{p.pk}"))
    assert inbox.drain_once() == 15

    def drain_queries(batch, cents):
        for p in batch:
            post_event(client, refunded(p, f"pi_back_{p.pk}", cents, f"evt_back_{p.pk}"))
        with CaptureQueriesContext(connection) as queries:
            assert inbox.drain_once() == len(batch)
        return len(queries)

    small = drain_queries(payments[:3], 10000)  # in full
    large = drain_queries(payments[3:], 2500)  # a quarter
    assert small == large, f"3 refunds took {small} statements, 12 took {large}"
    outcomes = sorted(
        InboundWebhook.objects.filter(key__contains="evt_back_").values_list("outcome", flat=True)
    )
    assert outcomes == ["refunded 100.00"] * 3 + ["refunded 25.00"] * 12
    with tenancy.office_context(office_a.id):
        statuses = sorted(Payment.objects.values_list("status", "refunded_amount"))
        assert (
            statuses
            == [("refunded", Decimal("100.00"))] * 3 + [("succeeded", Decimal("25.00"))] * 12
        )
        balances = sorted(Account.objects.values_list("principal_balance", flat=True))
        assert balances == [Decimal("225.00")] * 12 + [Decimal("300.00")] * 3
        assert Transaction.objects.filter(kind="reversal").count() == 15
        assert account_ledger_mismatches() == []


def test_one_bad_success_sends_the_batch_one_by_one_and_only_it_backs_off(
    client, office_a, batches, caplog
):
    first, last = open_account(office_a, "500.00"), open_account(office_a, "500.00")
    debtors_own, strangers = open_account(office_a, "500.00"), open_account(office_a, "500.00")
    good = [pending(first, "100.00", "good-1"), pending(last, "150.00", "good-2")]
    # The debtor's direction names an account that is not theirs: it cannot be followed.
    bad = pending(debtors_own, "50.00", "bad", direction={str(strangers.pk): "50.00"})
    for p, event_id in [(good[0], "evt_good_1"), (bad, "evt_bad"), (good[1], "evt_good_2")]:
        post_event(client, completed(p, f"pi_{event_id}", event_id))

    assert inbox.drain_once() == 3
    assert batches == [3]
    (warning,) = one_by_one(caplog)
    assert warning.startswith("stripe webhook batch of 3 rows applied one by one (AllocationError")
    rows = {row.key: row for row in InboundWebhook.objects.all()}
    broken = rows[":evt_bad"]
    assert broken.applied_at is None and broken.attempts == 1 and broken.outcome == ""
    assert broken.error.startswith(
        f"AllocationError: The direction names accounts that are not this debtor's: {strangers.pk}"
    )
    assert broken.next_attempt_at > timezone.now() + timedelta(seconds=50)
    for key in (":evt_good_1", ":evt_good_2"):
        row = rows[key]
        assert (row.applied_at is not None, row.attempts, row.outcome, row.error) == (
            True,
            0,
            "succeeded",
            "",
        )
    with tenancy.office_context(office_a.id):
        balances = dict(Account.objects.values_list("pk", "principal_balance"))
        assert balances == {
            first.pk: Decimal("400.00"),
            last.pk: Decimal("350.00"),
            debtors_own.pk: Decimal("500.00"),
            strangers.pk: Decimal("500.00"),
        }
        statuses = dict(Payment.objects.values_list("pk", "status"))
        assert statuses == {good[0].pk: "succeeded", good[1].pk: "succeeded", bad.pk: "pending"}
        assert not Transaction.objects.filter(payment=bad).exists()
        # The bad event's record went with its transaction: it is applied when retried.
        assert sorted(GatewayEvent.objects.values_list("event_id", flat=True)) == [
            "evt_good_1",
            "evt_good_2",
        ]
        assert account_ledger_mismatches() == []

    assert inbox.drain_once() == 0  # it waits for its backoff; the good ones are done
    with tenancy.office_context(office_a.id):
        Payment.objects.filter(pk=bad.pk).update(direction={})  # a person corrects it
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert inbox.drain_once() == 1
    broken.refresh_from_db()
    assert broken.applied_at is not None and broken.outcome == "succeeded"
    with tenancy.office_context(office_a.id):
        assert Payment.objects.get(pk=bad.pk).status == "succeeded"
        debtors_own.refresh_from_db()
        assert debtors_own.principal_balance == Decimal("450.00")


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_locked_payment_account_does_not_hold_up_a_delivery_event(office_a):
    """A drain applying a payment holds the debtor's accounts (`_debtor_accounts`) until
    it commits; a delivery callback meanwhile adds a timeline event to one of them (its
    foreign key takes a KEY SHARE lock on the account row): it must not wait."""
    account = open_account(office_a, "500.00")
    held, release, errors = threading.Event(), threading.Event(), []

    def drain_holding_the_accounts():
        try:
            with tenancy.office_context(office_a.id):  # one transaction, as a drain's
                assert account.pk in apply._debtor_accounts(account.debtor_id)
                held.set()
                release.wait(timeout=30)
        except Exception as exc:
            errors.append(exc)
        finally:
            held.set()
            connections.close_all()

    worker = threading.Thread(target=drain_holding_the_accounts)
    worker.start()
    try:
        assert held.wait(timeout=30) and errors == []
        started = time.monotonic()
        with tenancy.office_context(office_a.id):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            event_record(
                account=account,
                kind=Event.Kind.MESSAGE_DELIVERED,
                summary="SMS delivered",
                channel="sms",
            )
        waited = time.monotonic() - started
        # The accounts were held all along: a writer of the account row itself waits.
        with pytest.raises(OperationalError), tenancy.office_context(office_a.id):
            Account.objects.select_for_update(nowait=True).get(pk=account.pk)
    finally:
        release.set()
        worker.join(timeout=30)
    assert errors == []
    assert waited < 1.5, f"the delivery event waited {waited:.2f}s on the payment's locks"
    with tenancy.office_context(office_a.id):
        assert Event.objects.filter(account=account, kind="message_delivered").count() == 1


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_a_refund_that_arrived_before_a_success_is_applied_before_it(
    client, office_a, run_tasks, stripe_api, drains
):
    """$300 owed; $100 paid and applied. The office refunds that $100 while the debtor
    pays the $200 they owed when they opened the link: the account owes $100 and was
    never paid in full (no "Paid in full" status, timeline entry or letter)."""
    account = open_account(office_a, "300.00")
    earlier = pending(account, "100.00", "earlier")
    post_event(client, completed(earlier, "pi_earlier", "evt_earlier"))
    run_tasks()
    rest = pending(account, "200.00", "rest")
    events = [
        refunded(earlier, "pi_earlier", 10000, "evt_earlier_refund"),
        completed(rest, "pi_rest", "evt_rest"),
    ]
    deliver(client, [(e, "/payments/stripe/webhook/") for e in events], drains, run_tasks)

    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        moves = list(
            Event.objects.filter(account=account, kind="status_changed").values_list(
                "summary", flat=True
            )
        )
        letters = list(Document.objects.filter(account=account, kind="letter"))
        payments = sorted(
            Payment.objects.values_list("idempotency_key", "status", "refunded_amount")
        )
    assert payments == [
        ("batch-earlier", "refunded", Decimal("100.00")),
        ("batch-rest", "succeeded", Decimal("0.00")),
    ]
    assert (account.balance, letters) == (Decimal("100.00"), [])
    assert (account.status, moves) == ("new", [])  # batch: "active", [New → Paid, Paid → Active]


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_a_bank_debit_that_clears_in_the_same_batch_keeps_its_started_entry(
    client, office_a, drains
):
    """ACH: Checkout completes unpaid (the debit is on its way), then the money clears.
    The timeline says both, as it does when they come minutes apart."""
    account = open_account(office_a, "500.00")
    p = pending(account, "100.00", "ach", method="ach")
    events = [
        stripe_event(
            "checkout.session.completed",
            session_object(p, payment_status="unpaid", intent="pi_ach"),
        ),
        stripe_event(
            "checkout.session.async_payment_succeeded", session_object(p, intent="pi_ach")
        ),
    ]
    deliver(client, [(e, "/payments/stripe/webhook/") for e in events], drains)

    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        timeline = sorted(
            Event.objects.filter(account=account, kind="payment").values_list("summary", flat=True)
        )
        assert Payment.objects.get(pk=p.pk).status == "succeeded"
    assert account.balance == Decimal("400.00")
    assert timeline == [
        "Bank payment of 100.00 started; it takes a few days to clear",
        "Payment of 100.00 received (Bank account (ACH))",
    ]


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_one_event_sent_to_two_endpoints_is_applied_once_and_the_second_says_so(
    client, office_a, drains
):
    """Stripe sends an event to every endpoint registered for it: the platform's and
    the office's own. The inbox keeps both (their keys differ); one applies it, the other
    says it was a duplicate."""
    account = open_account(office_a, "500.00")
    p = pending(account, "100.00", "two-endpoints")
    event = completed(p, "pi_two_endpoints", "evt_two_endpoints")
    paths = ("/payments/stripe/webhook/", f"/payments/stripe/webhook/{office_a.slug}/")
    deliver(client, [(event, path) for path in paths], drains)

    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        assert account.balance == Decimal("400.00")
        assert list(GatewayEvent.objects.values_list("event_id", "outcome")) == [
            ("evt_two_endpoints", "succeeded")
        ]
    outcomes = dict(InboundWebhook.objects.values_list("key", "outcome"))
    assert outcomes == {
        ":evt_two_endpoints": "succeeded",
        f"{office_a.id}:evt_two_endpoints": "duplicate: already applied",
    }


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_a_refund_posted_after_its_success_is_applied_in_the_same_batch(
    client, office_a, stripe_api, drains
):
    """The debtor pays $200 and the office refunds $50 of it a minute later: both events
    wait in the inbox together. The refund finds its payment by the PaymentIntent the
    success carried, without asking Stripe, and is applied."""
    account = open_account(office_a, "500.00")
    p = pending(account, "200.00", "soon-refunded")
    events = [
        completed(p, "pi_soon_refunded", "evt_paid"),
        refunded(p, "pi_soon_refunded", 5000, "evt_refunded"),
    ]
    deliver(client, [(e, "/payments/stripe/webhook/") for e in events], drains)

    outcomes = dict(InboundWebhook.objects.values_list("key", "outcome"))
    assert outcomes == {":evt_paid": "succeeded", ":evt_refunded": "refunded 50.00"}
    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        p = Payment.objects.get(pk=p.pk)
    assert (p.status, p.refunded_amount, account.balance) == (
        "succeeded",
        Decimal("50.00"),
        Decimal("350.00"),
    )
    assert [call.request.url for call in stripe_api.calls] == []


def test_a_receipt_that_fails_does_not_hold_up_the_others_of_its_batch(office_a, caplog):
    """`payment_letters` sends a batch's receipts one by one: one that fails (here, a
    payment that is gone) is logged and queued again on its own; the next still goes."""
    from payments.tasks import payment_letters
    from recovery.celery import app

    account = open_account(office_a, "500.00")
    p = pending(account, "100.00", "letters")
    with tenancy.office_context(office_a.id):
        payment_succeeded(payment=p)  # its receipt is queued on commit: not run here
    app.conf.task_always_eager = True
    try:
        payment_letters.delay(office_a.id, [987654321, p.pk])
    finally:
        app.conf.task_always_eager = False
    with tenancy.office_context(office_a.id):
        assert Payment.objects.get(pk=p.pk).receipt_sent_at is not None
        assert Document.objects.filter(account=account, kind="receipt").count() == 1
    assert any("letter not sent; queued alone" in r.getMessage() for r in caplog.records)
