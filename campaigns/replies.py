"""Email replies from debtors (anymail's inbound webhook, after the webhook found the
office): each lands once in the agent inbox on the account, with the text on the work
item and only ids on the timeline.

A reply that reads like a dispute, a cease request, an attorney notice or a complaint
is flagged on its work item for a person to classify through the account's
correspondence action; nothing here applies a legal effect on a guess. The one thing
taken at once is an email opt-out ("unsubscribe", or a reply that is just a STOP-family
word): honouring it can only reduce contact.
"""

import hashlib
import re

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from campaigns.tracking import event_once
from compliance import services as compliance
from compliance.services.consent import sms_keyword
from debtors.models import Source
from recovery.models import WorkItem

# What a reply may be, for a person to confirm (English and Spanish).
FLAG_HINTS = {
    "dispute": (
        "dispute",
        "not my debt",
        "don't owe",
        "do not owe",
        "dont owe",
        "not mine",
        "never had an account",
        "validation of",
        "validate this",
        "verify this debt",
        "no debo",
        "disputa",
        "no es mi deuda",
    ),
    "cease": (
        "stop contacting",
        "cease",
        "do not contact",
        "don't contact",
        "dont contact",
        "stop calling",
        "stop emailing",
        "stop writing",
        "leave me alone",
        "no more contact",
        "dejen de contactar",
        "no me contacten",
        "no me llamen",
    ),
    "attorney": (
        "my attorney",
        "my lawyer",
        "represented by",
        "our attorney",
        "law firm",
        "legal counsel",
        "mi abogado",
        "representado por",
    ),
    "complaint": (
        "complaint",
        "complain",
        "harass",
        "cfpb",
        "attorney general",
        "better business bureau",
        "report you",
        "queja",
        "acoso",
    ),
}
FLAG_LABELS = {
    "dispute": "a dispute",
    "cease": "a cease request",
    "attorney": "an attorney notice",
    "complaint": "a complaint",
}
UNSUBSCRIBE = re.compile(r"\bunsubscribe\b|\bdarme de baja\b", re.IGNORECASE)
# Where a mail program starts quoting the message being answered.
QUOTE_START = re.compile(
    r"^(on .+ wrote:|el .+ escribi[oó]:|-{2,}\s*original message\s*-{2,}|from: .+)$",
    re.IGNORECASE,
)


def reply_text(*, stripped, full):
    """The debtor's own words: the ESP's quote-stripped text when it has one, else the
    text up to the quoted original. Our own email (its disclosures mention disputes and
    opting out) must not flag the reply."""
    if stripped and stripped.strip():
        return stripped.strip()
    lines = []
    for line in (full or "").splitlines():
        if QUOTE_START.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            lines.append(line)
    return "\n".join(lines).strip()


def reply_flags(*, subject, text):
    """Which kinds of correspondence the reply may be, in a fixed order."""
    words = " ".join(f"{subject} {text}".lower().replace("’", "'").split())
    return [flag for flag, hints in FLAG_HINTS.items() if any(h in words for h in hints)]


def reply_opts_out(*, subject, text):
    first_line = (text.splitlines() or [""])[0]
    return bool(
        UNSUBSCRIBE.search(subject or "")
        or UNSUBSCRIBE.search(text)
        or sms_keyword(first_line) == "stop"
        or sms_keyword(subject or "") == "stop"
    )


def email_reply_key(*, message_id_header, event_id, sender, subject, text):
    """The reply's identity for de-duplication: its Message-ID (the same however often
    the ESP retries), else the ESP's event id, else a hash of what it says."""
    if message_id_header:
        return "inbound:" + message_id_header.strip()[:180]
    if event_id:
        return f"inbound:e:{event_id}"[:200]
    raw = "|".join((sender or "", subject or "", text or ""))
    return "inbound:h:" + hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def email_reply_record(*, key, subject, text, message=None, contact_point=None, at=None):
    """A debtor's email reply for this office, about our outbox `message` (found from
    its Reply-To token) or from the address `contact_point` (matched by sender).
    Returns the inbox WorkItem, or None for a duplicate or a reply with no account."""
    at = at or timezone.now()
    if message is not None:
        account, contact_point = message.account, message.contact_point
    elif contact_point is not None:
        account = Account.objects.filter(debtor_id=contact_point.debtor_id).order_by("-id").first()
    else:
        return None
    if account is None:
        return None
    if not event_once(
        message=message,
        provider="email",
        event_key=key,
        kind="inbound",
        occurred_at=at,
        office_id=account.office_id,
    ):
        return None
    flags = reply_flags(subject=subject, text=text)
    opted_out = contact_point is not None and reply_opts_out(subject=subject, text=text)
    if opted_out:
        compliance.consent_record(
            contact_point=contact_point,
            channel="email",
            kind="opt_out",
            source=Source.EMAIL_REPLY,
            method="email reply asking to stop",
            effective_from=at,
        )
    if flags:
        what = ", ".join(FLAG_LABELS[f] for f in flags)
        title = f"Email reply that may be {what}: read it and classify it"
        header = (
            f"Flagged: this reply may be {what}. Nothing has been applied: if it is, "
            "record it with the account's correspondence action (received by email)."
        )
    else:
        title, header = "Email reply from the debtor", ""
    if opted_out:
        header = (header + "\n" if header else "") + "The address was opted out of email."
    detail = "\n\n".join(p for p in (header, f"Subject: {subject}" if subject else "", text) if p)
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.INBOX,
        account=account,
        due_at=at,
        title=title[:200],
        detail=detail[:10000],
    )
    summary = "Email reply received: in the agent inbox"
    if flags:
        summary = "Email reply received: flagged for a person to classify"
    if opted_out:
        summary += "; opted out of email"
    event_record(
        account=account,
        kind=Event.Kind.RESPONSE,
        summary=summary,
        channel="email",
        occurred_at=at,
        data={
            "work_item_id": item.pk,
            "message_id": getattr(message, "pk", None),
            "contact_point_id": getattr(contact_point, "pk", None),
            "flags": flags,
            "opted_out": opted_out,
        },
    )
    return item
