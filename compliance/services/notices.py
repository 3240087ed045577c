"""Recording that a validation notice went out, and the period it opens (F-VN,
F-VPERIOD). Rendering and sending live in compliance.notices."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record
from compliance.models import ValidationNotice
from compliance.services.dates import business_days_after


def validation_period(sent_on):
    """(assumed receipt, period end): receipt 5 business days after sending; the period
    ends 30 days after receipt (F-VPERIOD)."""
    received = business_days_after(sent_on, 5)
    return received, received + timedelta(days=30)


@transaction.atomic
def validation_notice_record(*, account, channel, sent_at=None, document=None):
    sent_at = sent_at or timezone.now()
    received, ends = validation_period(timezone.localdate(sent_at))
    notice = ValidationNotice.objects.create(
        account=account,
        channel=channel,
        sent_at=sent_at,
        assumed_received_on=received,
        period_ends_on=ends,
        document=document,
    )
    event_record(
        account=account,
        kind=Event.Kind.LETTER,
        channel=channel,
        summary=f"Validation notice sent; dispute period ends {ends:%b %-d, %Y}",
        data={"validation_notice_id": notice.pk, "period_ends_on": ends.isoformat()},
    )
    return notice
