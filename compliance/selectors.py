"""Read queries for the compliance pages and the account page's compliance card. Every
query runs on the scoped managers (the office in context) and costs a fixed number of
queries whatever the number of rows."""

from datetime import UTC

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from compliance.models import Complaint, Decision, Dispute, ErasureRequest, Hold, OfficePolicy
from compliance.rules import catalogue_listing
from compliance.rules.countries import in_eu
from compliance.services import CHANNELS_BY_CONTACT_KIND, POLICY_CHANNELS, policy_effective
from debtors.models import Circumstance, Consent, ContactPreference


def rule_titles():
    """{rule id: title}, for filters, legends and the decision page."""
    return dict(sorted((rule_id, title) for rule_id, title, _where in catalogue_listing()))


def decision_search():
    """The base of the decisions search: newest first, with the account in the same
    query (the rows link to it)."""
    return Decision.objects.select_related("account").order_by("-decided_at", "-id")


def decisions_with_rule(queryset, rule_id):
    if connection.features.supports_json_field_contains:
        return queryset.filter(rule_ids__contains=[rule_id])
    # SQLite (the demo) has no JSON containment: match the quoted id in the array's text.
    return queryset.filter(rule_ids__icontains=f'"{rule_id}"')


def decision_summary(queryset, *, top=6):
    """Counts per outcome and the rules that blocked most, for a filtered set: two
    queries, whatever its size."""
    counts = dict.fromkeys(Decision.Outcome.values, 0)
    for row in queryset.order_by().values("outcome").annotate(n=Count("id")):
        counts[row["outcome"]] = row["n"]
    total = sum(counts.values())
    blocked = queryset.filter(outcome=Decision.Outcome.BLOCK).order_by().values("rule_ids")
    sql, params = blocked.query.sql_with_params()
    # One row per (decision, rule id), counted in the database. The inner SQL is Django's
    # own compiled query; every value in it is a parameter.
    if connection.vendor == "postgresql":
        query = (
            f"SELECT r, COUNT(*) FROM ({sql}) d, jsonb_array_elements_text(d.rule_ids) r "  # noqa: S608
            "GROUP BY r ORDER BY 2 DESC, 1 LIMIT %s"
        )
    else:
        query = (
            f"SELECT j.value, COUNT(*) FROM ({sql}) d, json_each(d.rule_ids) j "  # noqa: S608
            "GROUP BY j.value ORDER BY 2 DESC, 1 LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, top])
        rules = cursor.fetchall()
    biggest = rules[0][1] if rules else 0
    titles = rule_titles()
    return {
        "total": total,
        "outcomes": [
            {
                "value": value,
                "label": label,
                "count": counts[value],
                "share": counts[value] * 100 / total if total else 0,
            }
            for value, label in Decision.Outcome.choices
        ],
        "top_blocking": [
            {
                "rule": rule,
                "title": titles.get(rule, ""),
                "count": n,
                "width": n * 100 / biggest if biggest else 0,
            }
            for rule, n in rules
        ],
    }


EXPORT_COLUMNS = [
    ("decision_id", "id"),
    ("decided_at_utc", "decided_at"),
    ("planned_for_utc", "planned_for"),
    ("outcome", "outcome"),
    ("defer_until_utc", "defer_until"),
    ("rule_ids", "rule_ids"),
    ("explanation", "explanation"),
    ("disclosure_rules", "disclosures"),
    ("channel", "action"),
    ("account_id", "account_id"),
    ("account_reference", "account__office_reference"),
    ("debtor_id", "debtor_id"),
    ("contact_point_id", "contact_point_id"),
    ("message_id", "message_id"),
]


def decision_export_rows(queryset):
    """The decisions as plain rows for regulators: ids, times in UTC, rules and the
    sentence; never a debtor's name or a contact point's value."""
    yield [name for name, _ in EXPORT_COLUMNS]
    fields = [field for _, field in EXPORT_COLUMNS]
    for values in queryset.values_list(*fields).iterator(chunk_size=2000):
        row = dict(zip(fields, values, strict=True))
        yield [
            row["id"],
            _utc(row["decided_at"]),
            _utc(row["planned_for"]),
            row["outcome"],
            _utc(row["defer_until"]),
            ";".join(row["rule_ids"] or []),
            row["explanation"],
            ";".join(d.get("rule", "") for d in row["disclosures"] or []),
            row["action"],
            row["account_id"] or "",
            row["account__office_reference"] or "",
            row["debtor_id"] or "",
            row["contact_point_id"] or "",
            row["message_id"] or "",
        ]


def _utc(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def policy_history(office):
    """Every policy the office has had, newest first, each with what it changed."""
    rows = list(OfficePolicy.objects.select_related("changed_by").order_by("effective_from", "id"))
    history = []
    # The first change is told against the law's defaults (what applied before it).
    previous = OfficePolicy(office=office)
    for policy in rows:
        history.append({"policy": policy, "changes": policy_changes(previous, policy, office)})
        previous = policy
    return list(reversed(history))


def complaint_register(*, status="open"):
    """Open complaints first, soonest response due first; then closed, newest first."""
    qs = Complaint.objects.select_related("debtor").prefetch_related("accounts")
    if status == "open":
        return qs.filter(outcome=Complaint.Outcome.PENDING).order_by("response_due_at", "id")
    if status == "closed":
        return qs.exclude(outcome=Complaint.Outcome.PENDING).order_by("-received_at", "-id")
    return qs.order_by(
        # pending sorts first ("pending" is neither upheld nor not upheld)
        ~Q(outcome=Complaint.Outcome.PENDING),
        "response_due_at",
        "-id",
    )


def complaint_counts():
    now = timezone.now()
    return Complaint.objects.aggregate(
        open=Count("id", filter=Q(outcome=Complaint.Outcome.PENDING)),
        overdue=Count("id", filter=Q(outcome=Complaint.Outcome.PENDING, response_due_at__lt=now)),
        closed=Count("id", filter=~Q(outcome=Complaint.Outcome.PENDING)),
    )


def _in_effect(qs, now):
    return qs.filter(effective_from__lte=now).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=now)
    )


def account_compliance(*, account, decisions=20):
    """What the rules know about one account and its debtor, right now: holds in force,
    open disputes, circumstances, the latest consent or opt-out per contact point and
    channel, validation notices and the latest decisions."""
    now = timezone.now()
    debtor = account.debtor
    holds = list(
        _in_effect(Hold.objects.filter(debtor=debtor), now)
        .select_related("set_by", "account")
        .order_by("-effective_from")
    )
    consents = {}
    for record in (
        Consent.objects.filter(debtor=debtor, effective_from__lte=now)
        .select_related("recorded_by")
        .order_by("effective_from", "id")
    ):
        consents[(record.contact_point_id, record.channel)] = record
    channels = []
    for cp in debtor.contact_points.order_by("kind", "-is_primary", "id"):
        for channel in CHANNELS_BY_CONTACT_KIND.get(cp.kind, ()):
            channels.append(
                {"contact_point": cp, "channel": channel, "record": consents.get((cp.id, channel))}
            )
    return {
        "holds": holds,
        "gdpr": in_eu(account.office, debtor.contact_points.all()),
        "disputes": list(
            Dispute.objects.filter(account=account, status=Dispute.Status.OPEN).order_by(
                "-received_at"
            )
        ),
        "circumstances": list(
            _in_effect(Circumstance.objects.filter(debtor=debtor), now)
            .select_related("recorded_by")
            .order_by("-effective_from")
        ),
        "consent_channels": channels,
        "work_requests": list(
            _in_effect(
                ContactPreference.objects.filter(
                    debtor=debtor, kind=ContactPreference.Kind.NO_CONTACT_AT_WORK
                ),
                now,
            ).order_by("-effective_from")
        ),
        "notices": list(account.validation_notices.order_by("-sent_at")),
        "decisions": list(
            Decision.objects.filter(account=account).order_by("-decided_at", "-id")[:decisions]
        ),
    }


def policy_changes(older, newer, office):
    """What a policy row changed from the one before it, as short phrases."""
    if older is None:
        return ["First policy recorded"]
    before, after = policy_effective(older, office), policy_effective(newer, office)
    changes = []
    for channel in after["caps"]:
        if before["caps"][channel] != after["caps"][channel]:
            changes.append(
                f"{POLICY_CHANNELS[channel]} cap {before['caps'][channel]} → "
                f"{after['caps'][channel]}"
            )
    for key, label in (("earliest_hour", "Earliest hour"), ("latest_hour", "Latest hour")):
        if before[key] != after[key]:
            changes.append(f"{label} {before[key]:02d}:00 → {after[key]:02d}:00")
    off = set(before["channels_enabled"]) - set(after["channels_enabled"])
    on = set(after["channels_enabled"]) - set(before["channels_enabled"])
    changes += [f"{POLICY_CHANNELS[c]} switched off" for c in sorted(off)]
    changes += [f"{POLICY_CHANNELS[c]} switched on" for c in sorted(on)]
    for key, label in (
        ("first_party_follows_reg_f", "Follows Regulation F as policy"),
        ("sms_provider_permits_third_party", "SMS provider permits third-party collection"),
        ("nyc_rules_enabled", "New York City rules"),
    ):
        if before[key] != after[key]:
            changes.append(f"{label}: {'yes' if after[key] else 'no'}")
    return changes or ["No change in effect"]


def account_by_reference(*, membership, reference):
    """The account this member can see with that office or creditor reference, or a
    ValidationError saying why there is none."""
    from django.core.exceptions import ValidationError

    from accounts.selectors import accounts_visible_to

    reference = reference.strip()
    visible = accounts_visible_to(membership).select_related("debtor")
    found = list(visible.filter(office_reference__iexact=reference)[:1]) or list(
        visible.filter(creditor_reference__iexact=reference)[:2]
    )
    if not found:
        raise ValidationError({"account": f"No account has the reference “{reference}”."})
    if len(found) > 1:
        raise ValidationError(
            {
                "account": f"More than one account has the creditor reference “{reference}”: "
                "use the office reference."
            }
        )
    return found[0]


def audit_figures(result):
    """The audit's two figures ready to show: rates, rules (with titles and bar widths)
    and example rows with their account references (one query)."""
    from accounts.models import Account

    titles = rule_titles()
    account_ids = {
        example[1]
        for figure in (result.known_at_send, result.known_now)
        for example in figure.examples
    }
    references = dict(
        Account.objects.filter(id__in=account_ids).values_list("id", "office_reference")
    )
    figures = []
    for key, label, note in (
        (
            "known_at_send",
            "Facts known at send time",
            "The KPI: did the gate decide right on what we knew? Must be 0.",
        ),
        (
            "known_now",
            "Facts known now",
            "Includes what arrived before a send but was recorded after it: slow intake.",
        ),
    ):
        figure = getattr(result, key)
        biggest = max(figure.by_rule.values(), default=0)
        figures.append(
            {
                "key": key,
                "label": label,
                "note": note,
                "figure": figure,
                "rate": figure.rate * 100,
                "rules": [
                    {
                        "rule": rule,
                        "title": titles.get(rule, ""),
                        "count": n,
                        "width": n * 100 / biggest if biggest else 0,
                    }
                    for rule, n in figure.by_rule.most_common()
                ],
                "examples": [
                    {
                        "attempt_id": pk,
                        "account_id": account_id,
                        "account_reference": references.get(account_id, account_id),
                        "channel": channel,
                        "at": at,
                        "why": why,
                    }
                    for pk, account_id, channel, at, why in figure.examples
                ],
            }
        )
    return figures


def erasure_requests():
    """Every erasure request, waiting ones first (soonest due first), then the erased."""
    return ErasureRequest.objects.select_related("recorded_by").order_by(
        "-status", "erasable_on", "-received_at", "-id"
    )


def erasure_counts():
    counts = dict.fromkeys(ErasureRequest.Status.values, 0)
    for row in ErasureRequest.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
