"""Catalogue rows enforced outside the contact gate, where the action they govern
happens (applying a payment, charging a fee, debiting a card, rendering a voicemail).
Listed so the catalogue is complete for officers: each row names its enforcement point.
Nothing here decides anything; the code named does."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Enforced:
    id: str
    title: str
    where: str


ELSEWHERE = [
    Enforced("F-LCM", "Limited-content voicemail",
             "Template validator for voicemails (compliance/content.py)"),
    Enforced("F-VPERIOD", "Validation period: computed and printed on the notice",
             "Validation notices (compliance/services/notices.py)"),
    Enforced("F-ALLOC", "Payments applied as the debtor directs, never to a disputed debt",
             "Payment allocation (payments/allocation.py)"),
    Enforced("F-FEES", "No convenience or processing fee for paying",
             "Checkout (payments/services/checkout.py)"),
    Enforced("F-EFT", "Notice before each debit; authorisation kept; cancellation honoured",
             "Autopay and the debit sweep (payments/services/autopay.py, sweep.py)"),
    Enforced("F-AMOUNT", "A payment link never asks for more than the authorised balance",
             "Checkout (payments/services/checkout.py)"),
    Enforced("F-RETAIN", "Records kept 3 years after the last collection activity",
             "Decision log and erasure requests (compliance/services/erasure.py)"),
    Enforced("SOL-*", "Limitation periods per state and debt type",
             "Limitation table (compliance/jurisdictions.py), read by F-TIMEBAR"),
    Enforced("T-RND", "Reassigned-numbers check before texting",
             "Contact gate, with F-SMS60 (compliance/rules/tcpa.py)"),
    Enforced("F-RESPONSE", "Debtor-initiated response",
             "Contact gate (compliance/gate.py): allowed once, recorded"),
]  # fmt: skip
