"""The verbs of the portal. Each is one transaction, leaves an event on the account's
timeline (kind and summary in English: the timeline is the office's record), and hands
anything that changes what the rules know to the app that owns it: disputes and
consents to `compliance.services`, payments and plans to `payments.services`.

Events and work items hold ids and facts, never the debtor's personal data.
"""

import hashlib
import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from campaigns.models import Message
from campaigns.tracking import event_once
from compliance import services as compliance
from debtors.models import Consent, ContactPreference, Debtor, Source
from portal import pagecache, selectors
from portal.models import PortalMessage
from recovery.models import Document, WorkItem
from recovery.services import work_items_close

# How long the office gives itself to answer what a debtor sends through the portal;
# the page tells the debtor the date.
DISPUTE_RESPONSE_DAYS = 30
MESSAGE_RESPONSE_DAYS = 2
HARDSHIP_RESPONSE_DAYS = 5

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp"}

# Times a debtor may name inconvenient (F-PREF): weekday sets (Monday = 0) and local spans.
QUIET_TIMES = {
    "mornings": {"days": None, "from": "08:00", "to": "12:00"},
    "workday": {"days": [0, 1, 2, 3, 4], "from": "09:00", "to": "17:00"},
    "evenings": {"days": None, "from": "17:00", "to": "21:00"},
    "weekends": {"days": [5, 6], "from": "08:00", "to": "21:00"},
}
PREFERRED_CHANNELS = ("email", "sms", "call", "letter")


def _events(*, office_id, debtor_id, kind, summary, data=None):
    """One event per account of the debtor (what the portal did concerns all of them)."""
    for account in Account.objects.filter(office_id=office_id, debtor_id=debtor_id):
        event_record(account=account, kind=kind, summary=summary, data=data or {})


def _due(days):
    return timezone.now() + timedelta(days=days)


# ---------- entry ----------

CHANNEL_NAMES = {"sms": "a text message", "email": "an email"}


@transaction.atomic
def link_clicked(*, debtor_id, message_id):
    """The debtor opened the link in one of our messages: that message's response, on
    its account's timeline once however often the link is opened. False when the
    message is not this debtor's or the click was counted before."""
    message = (
        Message.objects.filter(pk=message_id, debtor_id=debtor_id).select_related("account").first()
    )
    if message is None:
        return False
    now = timezone.now()
    if not event_once(message=message, provider="portal", event_key=f"click:{message.pk}",
                      kind="clicked", occurred_at=now):  # fmt: skip
        return False
    where = CHANNEL_NAMES.get(message.channel, "a message")
    event_record(
        account=message.account,
        kind=Event.Kind.RESPONSE,
        summary=f"Debtor opened the portal link in {where}",
        channel=message.channel,
        occurred_at=now,
        data={"message_id": message.pk, "click": "portal_link"},
    )
    return True


@transaction.atomic
def verification_succeeded(*, office_id, debtor_id, via):
    _events(
        office_id=office_id,
        debtor_id=debtor_id,
        kind=Event.Kind.PORTAL_VISIT,
        summary=f"Debtor verified their identity in the portal ({via})",
        data={"via": via},
    )


@transaction.atomic
def verification_failed(*, office_id, debtor_id, count, limit):
    """A failed identity check against a known debtor: on the timeline, so staff can
    see someone tried (nothing of what was typed is kept)."""
    locked = count >= limit
    summary = (
        f"Portal locked after {count} failed identity checks"
        if locked
        else f"Portal identity check failed ({count} of {limit})"
    )
    _events(
        office_id=office_id,
        debtor_id=debtor_id,
        kind=Event.Kind.PORTAL_VISIT,
        summary=summary,
        data={"failures": count, "locked": locked},
    )


def document_opened(*, account, document):
    event_record(
        account=account,
        kind=Event.Kind.PORTAL_VISIT,
        summary=f"Debtor opened a document in the portal ({document.get_kind_display()})",
        data={"document_id": document.pk},
    )


def notice_opened(*, account):
    event_record(
        account=account,
        kind=Event.Kind.PORTAL_VISIT,
        summary="Debtor opened the validation notice in the portal",
        data={"document": "validation_notice"},
    )


# ---------- disputes and validation information ----------


def _store_upload(upload, *, account, title):
    if upload.size and upload.size > UPLOAD_MAX_BYTES:
        raise ValidationError({"documents": "too_large"})
    content_type = (getattr(upload, "content_type", "") or "").lower()
    if content_type not in UPLOAD_TYPES:
        raise ValidationError({"documents": "bad_type"})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return Document.objects.create(
        kind=Document.Kind.UPLOAD,
        title=title[:200],
        file=upload,
        content_type=content_type[:100],
        sha256=digest.hexdigest(),
        size=upload.size or 0,
        account=account,
        debtor_id=account.debtor_id,
    )


@transaction.atomic
def dispute_file(*, account, reason, details="", amount=None, uploads=()):
    """The debtor disputes all (amount None) or part of the debt. Through
    `compliance.services.dispute_record`: a hold pauses collection on the account at
    once, including messages already planned. An agent gets the dispute to verify.
    Returns (dispute, respond_by)."""
    text = reason if not details else f"{reason}: {details}"
    dispute = compliance.dispute_record(
        account=account,
        received_via=Source.PORTAL,
        reason=text[:300],
        partial_amount=amount,
    )
    documents = [
        _store_upload(u, account=account, title=f"Dispute evidence from the portal ({n})")
        for n, u in enumerate(uploads, start=1)
    ]
    respond_by = _due(DISPUTE_RESPONSE_DAYS)
    WorkItem.objects.create(
        kind=WorkItem.Kind.DISPUTE,
        title=f"Portal dispute on {account.office_reference}: send verification",
        detail=(
            f"Disputed: {f'part ({amount} {account.currency})' if amount else 'all'}. "
            f"Reason: {reason}. Documents uploaded: {len(documents)}."
        ),
        account=account,
        assignee_id=account.assigned_agent_id,
        due_at=respond_by,
    )
    event_record(
        account=account,
        kind=Event.Kind.DISPUTE,
        summary="Dispute filed in the portal"
        + (f" with {len(documents)} document(s)" if documents else ""),
        data={"dispute_id": dispute.pk, "document_ids": [d.pk for d in documents]},
    )
    return dispute, respond_by


@transaction.atomic
def validation_information_request(*, account):
    """The debtor asks for the original creditor's name and address / validation
    information: treated as a dispute request (F-DISPUTE), so collection pauses until
    the office sends it. Returns (dispute, respond_by)."""
    dispute = compliance.dispute_record(
        account=account,
        received_via=Source.PORTAL,
        reason="Request for the original creditor's name and address / validation information",
        original_creditor_requested=True,
    )
    respond_by = _due(DISPUTE_RESPONSE_DAYS)
    WorkItem.objects.create(
        kind=WorkItem.Kind.DISPUTE,
        title=f"Portal request on {account.office_reference}: send validation information",
        detail="The debtor asked for the original creditor's name and address and the "
        "validation information. Collection is paused until it is sent.",
        account=account,
        assignee_id=account.assigned_agent_id,
        due_at=respond_by,
    )
    event_record(
        account=account,
        kind=Event.Kind.DISPUTE,
        summary="Validation information requested in the portal",
        data={"dispute_id": dispute.pk},
    )
    return dispute, respond_by


# ---------- contact preferences ----------


def _canonical(value):
    # jsonb hands keys back in its own order.
    return json.dumps(value, sort_keys=True)


def _pref_close(records, now):
    ContactPreference.objects.filter(pk__in=[r.pk for r in records]).update(effective_to=now)


@transaction.atomic
def preferences_update(*, debtor, preferred_channel, quiet_times, opt_outs, language):
    """Record what the debtor said about being contacted, effective now, source
    "portal". Earlier records are closed (not edited), so the audit can replay them;
    opt-outs go through `compliance.services.consent_record`. The gate reads all of
    these at send time, so messages already planned follow them. Returns the list of
    changes (English, for the timeline)."""
    if preferred_channel and preferred_channel not in PREFERRED_CHANNELS:
        raise ValidationError({"preferred_channel": "unknown"})
    if set(quiet_times) - set(QUIET_TIMES):
        raise ValidationError({"quiet_times": "unknown"})
    if set(opt_outs) - set(selectors.CHANNELS):
        raise ValidationError({"opt_outs": "unknown"})
    if language not in ("en", "es"):
        raise ValidationError({"language": "unknown"})

    now = timezone.now()
    office_id, debtor_id = debtor.office_id, debtor.pk
    current = list(selectors.preferences_in_force(office_id=office_id, debtor_id=debtor_id))
    changes = []

    def replace(kind, wanted_values, label):
        mine = [p for p in current if p.kind == kind]
        if sorted(map(_canonical, (p.value for p in mine))) == sorted(
            map(_canonical, wanted_values)
        ):
            return
        _pref_close(mine, now)
        for value in wanted_values:
            ContactPreference.objects.create(
                debtor=debtor,
                kind=kind,
                value=value,
                source=Source.PORTAL,
                effective_from=now,
                recorded_at=now,
            )
        changes.append(label)

    replace(
        ContactPreference.Kind.PREFERRED_CHANNEL,
        [{"channel": preferred_channel}] if preferred_channel else [],
        f"preferred channel: {preferred_channel or 'none'}",
    )
    replace(
        ContactPreference.Kind.INCONVENIENT_TIME,
        [dict(QUIET_TIMES[key], key=key) for key in sorted(quiet_times)],
        f"inconvenient times: {', '.join(sorted(quiet_times)) or 'none'}",
    )
    replace(
        ContactPreference.Kind.LANGUAGE,
        [{"language": language}],
        f"language: {language}",
    )
    if debtor.language != language:
        # The rules read the debtor's language for the disclosures a message carries.
        Debtor.objects.filter(pk=debtor.pk).update(language=language)
        debtor.language = language

    states = selectors.channel_states(office_id=office_id, debtor_id=debtor_id, now=now)
    for channel, state in states.items():
        wanted_out = channel in opt_outs
        if wanted_out == state.opted_out:
            continue
        kind = Consent.Kind.OPT_OUT if wanted_out else Consent.Kind.CONSENT
        for point in state.contact_points:
            compliance.consent_record(
                contact_point=point,
                channel=selectors.CHANNELS[channel][1],
                kind=kind,
                source=Source.PORTAL,
                method="portal form",
                effective_from=now,
            )
        changes.append(f"{'opted out of' if wanted_out else 'opted back in to'} {channel}")

    if changes:
        _events(
            office_id=office_id,
            debtor_id=debtor_id,
            kind=Event.Kind.CONSENT,
            summary="Contact preferences changed in the portal: " + "; ".join(changes),
            data={"source": "portal"},
        )
    return changes


# ---------- hardship ----------

HARDSHIP_REASONS = ("job_loss", "illness", "reduced_income", "family", "disaster", "other")


@transaction.atomic
def hardship_request(*, account, reasons, note=""):
    """The debtor asks for help because of hardship: an agent reviews the options the
    office offers (a pause, a lower plan, a settlement) and gets back to them."""
    if not reasons or set(reasons) - set(HARDSHIP_REASONS):
        raise ValidationError({"reasons": "required"})
    respond_by = _due(HARDSHIP_RESPONSE_DAYS)
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW,
        title=f"Hardship request from the portal on {account.office_reference}",
        detail=f"Reasons: {', '.join(reasons)}.\n\n{note.strip()[:2000]}".strip(),
        account=account,
        assignee_id=account.assigned_agent_id,
        due_at=respond_by,
    )
    event_record(
        account=account,
        kind=Event.Kind.RESPONSE,
        summary="Hardship help requested in the portal",
        data={"work_item_id": item.pk, "reasons": list(reasons)},
    )
    compliance.hardship_grant(account=account, source=Source.PORTAL, reason=item.detail[:300])
    return item, respond_by


# ---------- messages ----------

MESSAGE_MAX_CHARS = 2000


@transaction.atomic
def message_send(*, account, body):
    """A message from the debtor: kept in the conversation and put in the account's
    agent inbox."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "required"})
    if len(body) > MESSAGE_MAX_CHARS:
        raise ValidationError({"body": "too_long"})
    reply_at = reverse("staff_conversation", args=[account.office.slug, account.pk])
    item = WorkItem.objects.create(
        kind=WorkItem.Kind.INBOX,
        title=f"Portal message on {account.office_reference}",
        detail=f"{body}\n\nReply in the portal conversation: {reply_at}",
        account=account,
        assignee_id=account.assigned_agent_id,
        due_at=_due(MESSAGE_RESPONSE_DAYS),
    )
    message = PortalMessage.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        direction=PortalMessage.Direction.FROM_DEBTOR,
        body=body,
        work_item=item,
    )
    event_record(
        account=account,
        kind=Event.Kind.RESPONSE,
        summary="Debtor sent a message through the portal",
        data={"portal_message_id": message.pk, "work_item_id": item.pk},
    )
    return message


@transaction.atomic
def reply_send(*, account, body, author):
    """The office answers in the portal conversation (a direct answer to the debtor, so
    not a collection attempt); the debtor's open messages on the account are done."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the reply."})
    reply = PortalMessage.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        direction=PortalMessage.Direction.FROM_OFFICE,
        body=body[:MESSAGE_MAX_CHARS],
        author=author,
    )
    item_ids = PortalMessage.objects.filter(
        account=account, direction=PortalMessage.Direction.FROM_DEBTOR, work_item__isnull=False
    ).values_list("work_item_id", flat=True)
    work_items_close(WorkItem.objects.filter(pk__in=list(item_ids), kind=WorkItem.Kind.INBOX))
    event_record(
        account=account,
        kind=Event.Kind.RESPONSE,
        actor=author,
        summary="Office replied in the portal conversation",
        data={"portal_message_id": reply.pk},
    )
    return reply


def replies_mark_read(*, office_id, debtor_id):
    pagecache.forget(office_id, debtor_id)  # the overview counts unread replies
    PortalMessage.objects.filter(
        office_id=office_id,
        debtor_id=debtor_id,
        direction=PortalMessage.Direction.FROM_OFFICE,
        read_at__isnull=True,
    ).update(read_at=timezone.now())
