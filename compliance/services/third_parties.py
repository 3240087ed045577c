"""Location inquiries: an agent asks a third party (a relative, an employer, a neighbour)
where the debtor is. The gate decides first (F-3P: once per third party, location only,
never a word about the debt); an allowed inquiry goes into the contact ledger and on the
timeline, which names the relation, never the person or the number."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record
from compliance.gate import Attempt, evaluate
from debtors.models import TREATED_AS_DEBTOR, ContactPoint, Source
from debtors.services import contact_point_build

THIRD_PARTY_RELATIONS = [
    (value, name) for value, name in ContactPoint.Relation.choices if value not in TREATED_AS_DEBTOR
]


@transaction.atomic
def _third_party_point(*, debtor, relation, phone):
    try:
        cp = contact_point_build(
            debtor=debtor, kind=ContactPoint.Kind.PHONE, value=phone, source=Source.AGENT,
            relation=relation,
        )  # fmt: skip
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise
        raise ValidationError({"phone": exc.messages}) from exc  # shown at the number
    existing = ContactPoint.objects.filter(debtor=debtor, kind=cp.kind, value=cp.value).first()
    if existing is None:
        cp.save()
        return cp
    if not existing.is_third_party:
        raise ValidationError(
            {
                "phone": "This number is on file as the debtor's own (or someone treated as the "
                "debtor): place an ordinary call instead."
            }  # fmt: skip
        )
    return existing


def location_inquiry_log(*, account, relation, phone, actor=None, at=None):
    """Ask the gate for one location inquiry by phone to a third party and, when it is
    allowed, record it. Returns the gate's Outcome; the contact point is kept either way
    (we now know the number)."""
    if relation not in dict(THIRD_PARTY_RELATIONS):
        raise ValidationError({"relation": "Choose who the third party is to the debtor."})
    cp = _third_party_point(debtor=account.debtor, relation=relation, phone=phone)
    attempt = Attempt(
        account_id=account.pk,
        channel="call",
        at=at or timezone.now(),
        contact_point_id=cp.pk,
        content=frozenset({"location_inquiry"}),
    )
    with transaction.atomic():
        [outcome] = evaluate([attempt], reserve=True)
        if outcome.allowed:
            event_record(
                account=account,
                kind=Event.Kind.CALL,
                summary=f"Location inquiry to a third party ({cp.get_relation_display().lower()}); "
                "the debt was not mentioned",
                actor=actor,
                channel="call",
                data={"contact_point_id": cp.pk, "decision_id": outcome.decision_id,
                      "relation": relation},
            )  # fmt: skip
    return outcome
