"""Entry segments: a JSON structure a manager builds, compiled to one Django `Q`.

A segment is a group::

    {"op": "and" | "or", "rules": [rule | group, ...]}

and a rule names one field of `FIELDS` with its values, e.g.
``{"field": "balance", "min": "100", "max": "5000"}``,
``{"field": "days_since_placement", "min": 30}``,
``{"field": "creditor", "values": [3, 7]}``.

`segment_q(segment, as_of=…)` is the only place the structure becomes SQL, so the
preview counts, the daily entry and the dry-run on history all mean the same thing.
"Days since" rules are relative to `as_of`: compiling for a past or future day answers
"who matched then / will match then" with one query. An empty segment matches nothing
(a campaign without a segment only takes accounts enrolled by hand).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from accounts.models import AccountStatus
from campaigns.models import AccountScore
from debtors.models import ContactPoint

FIELDS = {
    "creditor": "Creditor",
    "balance": "Balance",
    "days_since_placement": "Days since placement",
    "days_since_charge_off": "Days since charge-off",
    "days_since_last_payment": "Days since last payment",
    "state": "State",
    "language": "Language",
    "debt_type": "Debt type",
    "status": "Account status",
    "tags": "Tags (any of)",
    "score_band": "Score band",
}
RANGE_FIELDS = {
    "balance",
    "days_since_placement",
    "days_since_charge_off",
    "days_since_last_payment",
}
LIST_FIELDS = set(FIELDS) - RANGE_FIELDS
OPS = ("and", "or")
# The whole segment is depth 1; groups inside it 2, groups inside those 3.
MAX_DEPTH = 3
NOTHING = Q(pk__in=[])


class SegmentError(ValueError):
    pass


def _as_date(as_of):
    if isinstance(as_of, datetime):
        return timezone.localdate(as_of)
    return as_of


def _number(value, field, *, integer):
    if value in (None, ""):
        return None
    try:
        number = int(value) if integer else Decimal(str(value))
    except (TypeError, ValueError, InvalidOperation):
        raise SegmentError(f"{FIELDS[field]}: “{value}” is not a number.") from None
    if number < 0:
        raise SegmentError(f"{FIELDS[field]} cannot be negative.")
    return number


def _balance():
    return F("principal_balance") + F("interest_balance") + F("fees_balance")


def _days_since(column, low, high, as_of, *, is_datetime=False, null_matches_min=False):
    """Days since `column` in [low, high] on `as_of`: the date is in
    [as_of - high, as_of - low]."""
    q = Q()
    if low is not None:
        latest = as_of - timedelta(days=low)
        if is_datetime:
            # Placed on or before the end of that day, in the office's zone.
            bound = timezone.make_aware(datetime.combine(latest + timedelta(days=1), time.min))
            q &= Q(**{f"{column}__lt": bound})
        else:
            q &= Q(**{f"{column}__lte": latest})
    if high is not None:
        earliest = as_of - timedelta(days=high)
        if is_datetime:
            bound = timezone.make_aware(datetime.combine(earliest, time.min))
            q &= Q(**{f"{column}__gte": bound})
        else:
            q &= Q(**{f"{column}__gte": earliest})
    if not is_datetime:
        q &= Q(**{f"{column}__isnull": False})
        if null_matches_min and high is None:
            # Never paid: as many days since the last payment as there are.
            q |= Q(**{f"{column}__isnull": True})
    return q


def rule_q(rule, as_of):
    field = rule.get("field")
    if not field:
        raise SegmentError("Choose what the condition is about (balance, state …).")
    if field not in FIELDS:
        raise SegmentError(f"Unknown segment field “{field}”.")
    if field in RANGE_FIELDS:
        integer = field != "balance"
        low = _number(rule.get("min"), field, integer=integer)
        high = _number(rule.get("max"), field, integer=integer)
        if low is None and high is None:
            raise SegmentError(f"{FIELDS[field]}: give a minimum, a maximum or both.")
        if low is not None and high is not None and low > high:
            raise SegmentError(f"{FIELDS[field]}: the minimum is above the maximum.")
        if field == "balance":
            q = Q()
            if low is not None:
                q &= Q(GreaterThanOrEqual(_balance(), low))
            if high is not None:
                q &= Q(LessThanOrEqual(_balance(), high))
            return q
        if field == "days_since_placement":
            return _days_since("placed_at", low, high, as_of, is_datetime=True)
        if field == "days_since_charge_off":
            return _days_since("charge_off_date", low, high, as_of)
        return _days_since("last_payment_date", low, high, as_of, null_matches_min=True)

    values = [v for v in rule.get("values") or [] if v not in (None, "")]
    if not values:
        raise SegmentError(f"{FIELDS[field]}: choose at least one value.")
    if field == "creditor":
        try:
            return Q(creditor_id__in=[int(v) for v in values])
        except (TypeError, ValueError):
            raise SegmentError("Creditor: choose creditors from the list.") from None
    if field == "state":
        states = [str(v).strip().upper() for v in values]
        at_address = ContactPoint.objects.filter(
            debtor_id=OuterRef("debtor_id"), kind=ContactPoint.Kind.ADDRESS, state__in=states
        )
        return Q(governing_law_state__in=states) | Q(Exists(at_address))
    if field == "language":
        return Q(debtor__language__in=values)
    if field == "debt_type":
        return Q(debt_type__in=values)
    if field == "status":
        unknown = set(values) - set(AccountStatus.values)
        if unknown:
            raise SegmentError(f"Unknown account status: {', '.join(sorted(unknown))}.")
        return Q(status__in=values)
    if field == "score_band":
        return _score_band_q(values)
    # tags: any of the given tags.
    q = Q()
    for tag in values:
        q |= Q(tags__contains=[str(tag)])
    return q


def _score_band_q(bands):
    """Accounts scored in any of the bands; an account without a score is in none."""
    unknown = sorted(set(map(str, bands)) - set(AccountScore.BANDS))
    if unknown:
        known = ", ".join(AccountScore.BANDS)
        raise SegmentError(f"Unknown score band: {', '.join(unknown)}. Choose from {known}.")
    q = NOTHING
    for band in bands:
        low, high = AccountScore.BANDS[str(band)]
        q |= Q(collection_score__score__gte=low, collection_score__score__lte=high)
    return q


def uses_field(segment, field):
    """True when a condition anywhere in the tree is on `field`."""
    for rule in (segment or {}).get("rules") or []:
        if isinstance(rule, dict) and (rule.get("field") == field or uses_field(rule, field)):
            return True
    return False


def segment_q(segment, *, as_of=None):
    """The Q an account must satisfy to be in the segment on `as_of` (a date or an
    aware datetime; today by default). Raises SegmentError on a malformed segment."""
    as_of = _as_date(as_of or timezone.now())
    if not segment:
        return NOTHING
    if not isinstance(segment, dict) or not isinstance(segment.get("rules", []), list):
        raise SegmentError("The entry conditions could not be read; build them again.")
    if not segment.get("rules"):
        return NOTHING
    return _group_q(segment, as_of, where="", depth=1)


def _at(where, text):
    """“Group 2, condition 1: …”: where in the builder the problem is."""
    return f"{where}: {text[0].lower()}{text[1:]}" if where else text


def _group_q(group, as_of, *, where, depth):
    op = group.get("op", "and")
    if op not in OPS:
        raise SegmentError(_at(where, f"Combine conditions with “and” or “or”, not “{op}”."))
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        # An empty "and" group would match every account: never let one through.
        raise SegmentError(_at(where, "This group is empty: add a condition or remove it."))
    q = Q() if op == "and" else NOTHING
    for number, child in enumerate(rules, start=1):
        inside = f"{where}, group {number}" if where else f"Group {number}"
        if not isinstance(child, dict):
            raise SegmentError(_at(where, f"Condition {number} could not be read; set it again."))
        if "rules" in child:
            if depth >= MAX_DEPTH:
                raise SegmentError(_at(inside, f"groups nest {MAX_DEPTH - 1} deep at most."))
            part = _group_q(child, as_of, where=inside, depth=depth + 1)
        else:
            try:
                part = rule_q(child, as_of)
            except SegmentError as exc:
                if len(rules) == 1 and not where:
                    raise
                condition = f"{where}, condition {number}" if where else f"Condition {number}"
                raise SegmentError(f"{condition}: {exc}") from None
        q = (q & part) if op == "and" else (q | part)
    return q


def segment_check(segment):
    """A sentence saying what is wrong with the segment, or None."""
    try:
        segment_q(segment, as_of=date.today())  # noqa: DTZ011 - only the shape is checked
    except SegmentError as exc:
        return str(exc)
    return None


def segment_describe(segment, *, creditors=None):
    """Plain words for the campaign page: “Balance 100–5,000 and State NY, NJ”."""
    if not segment or not segment.get("rules"):
        return "No entry segment: accounts enter only when enrolled by hand."
    creditors = creditors or {}
    parts = []
    for rule in segment["rules"]:
        if "rules" in rule:
            parts.append(f"({segment_describe(rule, creditors=creditors)})")
            continue
        label = FIELDS.get(rule.get("field"), rule.get("field"))
        if rule.get("field") in RANGE_FIELDS:
            low, high = rule.get("min"), rule.get("max")
            if low not in (None, "") and high not in (None, ""):
                parts.append(f"{label} {low}–{high}")
            elif low not in (None, ""):
                parts.append(f"{label} at least {low}")
            else:
                parts.append(f"{label} at most {high}")
        else:
            values = rule.get("values") or []
            if rule.get("field") == "creditor":
                values = [creditors.get(int(v), f"#{v}") for v in values]
            parts.append(f"{label}: {', '.join(str(v) for v in values)}")
    return f" {segment.get('op', 'and')} ".join(parts)
