"""Office B's staff never see office A's objects: every office URL that names an object
answers 404 to an outsider, whether they use A's slug or their own."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from compliance import services as compliance_services
from compliance.models import Decision
from payments import services as payment_services
from payments.models import CommissionTier, StripePayout
from payments.services import reconcile as reconcile_services
from payments.services import remittance as remittance_services
from recovery import services as recovery_services
from recovery import tenancy
from tests.factories import AccountFactory, MembershipFactory, WorkItemFactory

POST_ONLY = {
    "plan_review",
    "plan_cancel",
    "work_item_done",
    "validation_notice_send",
    "dispute_verification",
    "api_key_revoke",
    "circumstance_end",
    "remittance_issue",
    "remittance_discard",
    "commission_tier_delete",
    "bank_line_resolve",
    "campaign_activate",
    "campaign_pause",
    "campaign_resume",
    "dry_run_start",
    "template_preview",
    "campaign_segment_count",
    "letter_batch_create",
    "letter_returned",
}


def office_url_patterns():
    """(route, kwarg names) for every URL under /o/<office_slug>/."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("o/<slug:office_slug>/"):
                found.append((route, p.name, sorted(p.pattern.converters)))

    walk(get_resolver().url_patterns, "")
    return found


@pytest.fixture
def office_a_objects(office_a):
    from tests.accounts.imports.helpers import csv_text, import_run, upload_of

    account = AccountFactory(office=office_a)
    membership = MembershipFactory(office=office_a, role="agent")
    item = WorkItemFactory(office=office_a, account=account, assignee=membership.user)
    # A placement import with a rejected row and a debtor match.
    rows = [
        ["I-1", "Ames", "1980-01-01", "1111", "10"],
        ["I-2", "Ames", "1980-01-01", "1111", "20"],
        ["I-3", "", "", "", "30"],
    ]
    placement_import = import_run(
        office_a,
        account.creditor,
        upload_of(csv_text(["Account", "Last Name", "DOB", "SSN", "Principal"], rows)),
        mode="valid_only",
    )
    with tenancy.office_context(office_a.id):
        match = placement_import.matches.get()
        hold = compliance_services.hold_place(
            debtor=account.debtor, kind="hardship", scope="debtor", source="agent"
        )
        today = timezone.localdate(timezone=ZoneInfo(office_a.time_zone))
        complaint = compliance_services.complaint_create(
            accounts=[account], source="cfpb", received_on=today
        )
        dispute = compliance_services.dispute_record(account=account, received_via="letter")
        circumstance = compliance_services.circumstance_record(
            debtor=account.debtor, kind="servicemember", source="debtor",
            effective_from=timezone.now() - timedelta(days=30),
        )  # fmt: skip
        api_key, _key = recovery_services.api_key_create(name="Isolation")
        money_account = AccountFactory(office=office_a)
        payment = payment_services.payment_record_offline(
            account=money_account, amount="10.00", method="check",
            instrument={"check_number": "101"}, actor=membership.user,
        )  # fmt: skip
        plan = payment_services.plan_create(
            account=money_account, count=2, frequency="monthly", start_date=today
        )
        installment_id = plan.installments.values_list("pk", flat=True).first()
        statement = remittance_services.remittance_prepare(
            creditor=money_account.creditor, period_start=today, period_end=today, kind="net"
        )
        tier = CommissionTier.objects.create(
            creditor=money_account.creditor, min_age_days=180, rate="0.3000"
        )
        bank_import = reconcile_services.bank_statement_import(
            data=b"date,description,amount,reference\n2026-01-05,Deposit,99.00,X1\n",
            filename="bank.csv",
        )
        bank_line = bank_import.lines.get()
        payout = StripePayout.objects.create(
            payout_id="po_isolation", amount="10.00", currency="USD", arrival_date=today
        )
        decision = Decision.objects.create(
            account=account, debtor_id=account.debtor_id, action="email", outcome="allow",
            explanation="Allowed: no rule stands in the way.",
        )  # fmt: skip
        campaign, template, dry_run = campaign_objects(account)
        letter_batch = letter_batch_objects(office_a, account)
    creditor_file = creditor_file_objects(office_a, account)
    return {
        "campaign_id": campaign.pk,
        "template_id": template.pk,
        "run_id": dry_run.pk,
        "batch_id": letter_batch.pk,
        "account_id": account.pk,
        "creditor_id": account.creditor_id,
        "payment_id": payment.pk,
        "plan_id": plan.pk,
        "installment_id": installment_id,
        "item_id": item.pk,
        "membership_id": membership.pk,
        "import_id": placement_import.pk,
        "file_id": creditor_file.pk,
        "match_id": match.pk,
        "hold_id": hold.pk,
        "complaint_id": complaint.pk,
        "decision_id": decision.pk,
        "dispute_id": dispute.pk,
        "circumstance_id": circumstance.pk,
        "key_id": api_key.pk,
        "statement_id": statement.pk,
        "tier_id": tier.pk,
        "line_id": bank_line.pk,
        "payout_id": payout.pk,
    }


def creditor_file_objects(office, account):
    """A recall file with one good and one rejected row, applied valid-only."""
    from tests.accounts.creditor_files.helpers import file_apply

    recalled = AccountFactory(office=office, creditor=account.creditor)
    rows = [[recalled.creditor_reference, "Recalled"], ["NOPE-1", "Recalled"]]
    header = ["Account Number", "Reason"]
    return file_apply(office, account.creditor, "recall", header, rows, mode="valid_only")


def campaign_objects(account):
    """A campaign with a step, a template and a finished dry-run, in the office in context."""
    from campaigns import services as campaign_services
    from campaigns.builder.dryrun import dry_run_execute
    from campaigns.models import DryRun, MessageTemplate

    template = MessageTemplate.objects.create(name="Isolation", channel="email", body="Hi")
    campaign = campaign_services.campaign_save(
        spec={
            "name": "Isolation",
            "entry_segment": {"op": "and", "rules": [{"field": "balance", "min": "1"}]},
            "steps": [{"channels": ["email"], "templates": {"email": template.pk}}],
        }
    )
    run = dry_run_execute(run=DryRun.objects.create(campaign=campaign, days=3))
    return campaign, template, run


def letter_batch_objects(office, account):
    """A print batch of one letter, in the office in context."""
    from campaigns import letters
    from campaigns.dispatch import DEFAULT_TEXT
    from campaigns.models import Message
    from debtors.services import contact_point_add

    address = contact_point_add(
        debtor=account.debtor,
        kind="address",
        line1="1 Main St",
        city="Town",
        state="NY",
        postal_code="10001",
        source="placement",
    )
    message = Message.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        contact_point=address,
        channel="letter",
        status=Message.Status.SENDING,
        due_at=timezone.now(),
    )
    text = DEFAULT_TEXT["letter"]
    now = timezone.now()
    letters.letter_queue(message=message, text=text, disclosures=(), office=office, now=now)
    return letters.letter_batch_create()


def fill(route, values):
    url = "/" + route
    for name, value in values.items():
        for conv in ("int", "slug", "str"):
            url = url.replace(f"<{conv}:{name}>", str(value))
    assert "<" not in url, f"unfilled URL parameter in {url}"
    return url


def test_every_object_kwarg_of_office_urls_is_covered(office_a_objects):
    names = {n for _, _, conv in office_url_patterns() for n in conv} - {"office_slug"}
    assert names <= set(office_a_objects), f"add objects for {names - set(office_a_objects)}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_every_office_url(
    client, office_a, office_b, office_a_objects, method
):
    outsider = MembershipFactory(office=office_b, role="admin")
    client.force_login(outsider.user)
    routes = office_url_patterns()
    assert len(routes) >= 6
    for route, name, _ in routes:
        # Through office A's slug: not a member, so the office itself is not found.
        url = fill(route, {"office_slug": office_a.slug, **office_a_objects})
        assert getattr(client, method)(url).status_code == 404, (name, url)
        # Through the outsider's own office, naming A's objects: scoped away.
        if any(k in route for k in office_a_objects) and not (
            method == "get" and name in POST_ONLY
        ):
            url = fill(route, {"office_slug": office_b.slug, **office_a_objects})
            assert getattr(client, method)(url).status_code == 404, (name, url)


def test_member_reaches_the_same_urls(client, office_a, office_a_objects):
    insider = MembershipFactory(office=office_a, role="admin")
    client.force_login(insider.user)
    for route, name, _ in office_url_patterns():
        if name in POST_ONLY:
            continue
        url = fill(route, {"office_slug": office_a.slug, **office_a_objects})
        assert client.get(url).status_code == 200, (name, url)


def test_anonymous_is_sent_to_login(client, office_a, office_a_objects):
    response = client.get(f"/o/{office_a.slug}/accounts/{office_a_objects['account_id']}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
