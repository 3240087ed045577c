"""Dry-run on history: replays a campaign with the gate deciding on what it knew then,
reports blocks by rule, and costs the same number of queries for 2 accounts or 8."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from campaigns import services
from campaigns.builder.dryrun import dry_run, progress_get
from campaigns.models import DryRun
from compliance import services as compliance_services
from compliance.models import Dispute, Hold
from debtors.services import contact_point_add
from recovery import tenancy
from tests.campaigns.builder_helpers import simple_spec
from tests.factories import AccountFactory, DebtorFactory, MembershipFactory


def placed_accounts(office, n, days_ago=20):
    accounts = []
    for i in range(n):
        debtor = DebtorFactory(office=office)
        with tenancy.office_context(office.id):
            contact_point_add(
                debtor=debtor, kind="email", value=f"h{debtor.pk}-{i}@example.com", source="debtor"
            )
        accounts.append(AccountFactory(office=office, debtor=debtor, opening_balance="700.00"))
    with tenancy.office_context(office.id):
        Account.objects.filter(pk__in=[a.pk for a in accounts]).update(
            placed_at=timezone.now() - timedelta(days=days_ago)
        )
    return accounts


def two_email_steps():
    return simple_spec(
        steps=[{"wait_days": 0, "channels": ["email"]}, {"wait_days": 3, "channels": ["email"]}]
    )


def test_dry_run_reports_the_block_for_an_account_under_a_dispute_hold(office_a):
    disputed, calm = placed_accounts(office_a, 2)
    past = timezone.now() - timedelta(days=15)
    with tenancy.office_context(office_a.id):
        compliance_services.dispute_record(
            account=disputed, received_via="letter", received_at=past
        )
        Hold.objects.filter(account=disputed).update(effective_from=past, recorded_at=past)
        Dispute.objects.filter(account=disputed).update(recorded_at=past)
        # Today the account is disputed; the replay must still see it as it was.
        campaign = services.campaign_save(spec=two_email_steps())
        report = dry_run(campaign=campaign, days=10)
    assert report["accounts"] == 2
    assert report["blocked_by_rule"].get("F-DISPUTE") == 2  # both steps, the disputed account
    blocked = {e["account_id"] for e in report["examples"] if "F-DISPUTE" in e["rules"]}
    assert blocked == {disputed.pk}
    assert (
        sum(
            c["email"]["send"] + c["email"]["defer"] + c["email"]["block"]
            for c in (s["channels"] for s in report["steps"])
        )
        == 4
    )
    assert report["outcomes"]["neither"] == 2


def test_a_dispute_recorded_after_the_replayed_moment_is_not_known_then(office_a):
    (account,) = placed_accounts(office_a, 1)
    with tenancy.office_context(office_a.id):
        compliance_services.dispute_record(account=account, received_via="letter")
        Account.objects.filter(pk=account.pk).update(status="active")
        campaign = services.campaign_save(spec=two_email_steps())
        report = dry_run(campaign=campaign, days=10)
    assert "F-DISPUTE" not in report["blocked_by_rule"]


def test_dry_run_queries_do_not_grow_with_accounts(office_a, office_b):
    placed_accounts(office_a, 2)
    placed_accounts(office_b, 8)
    counts = []
    for office in (office_a, office_b):
        with tenancy.office_context(office.id):
            campaign = services.campaign_save(spec=two_email_steps())
            with CaptureQueriesContext(connection) as ctx:
                report = dry_run(campaign=campaign, days=10)
            counts.append(len(ctx.captured_queries))
    assert report["accounts"] == 8
    assert counts[0] == counts[1]


def test_the_dry_run_page_runs_small_replays_at_once_and_shows_progress(client, office_a):
    placed_accounts(office_a, 3)
    manager = MembershipFactory(office=office_a, role="manager")
    with tenancy.office_context(office_a.id):
        campaign = services.campaign_save(spec=two_email_steps())
    client.force_login(manager.user)
    response = client.post(
        f"/o/{office_a.slug}/campaigns/{campaign.pk}/dry-run/", {"days": "10", "outcome_days": "30"}
    )
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        run = DryRun.objects.get()
    assert run.status == "done" and run.result["accounts"] == 3
    assert progress_get(office_a.id, run.pk) == {"processed": 3, "total": 3}
    page = client.get(response["Location"]).content.decode()
    assert "Compliance would have blocked" in page
    partial = client.get(
        f"/o/{office_a.slug}/campaigns/dry-runs/{run.pk}/progress/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in partial and "Would have sent" in partial


def test_the_campaign_page_says_how_many_messages_wait_for_the_debtors_hours(
    client, office_a, office_b
):
    from campaigns.models import Message

    accounts = placed_accounts(office_a, 3)
    morning = timezone.now() + timedelta(hours=9)
    with tenancy.office_context(office_a.id):
        campaign = services.campaign_save(spec=two_email_steps())
        step = campaign.steps.order_by("position").first()
        for account, status in zip(accounts, ["deferred", "deferred", "sent"], strict=True):
            Message.objects.create(account=account, debtor_id=account.debtor_id, step=step,
                                   channel="email", status=status, due_at=morning)  # fmt: skip
    # Another office's waiting message is not counted here.
    other = placed_accounts(office_b, 1)[0]
    with tenancy.office_context(office_b.id):
        Message.objects.create(account=other, debtor_id=other.debtor_id, channel="email",
                               status="deferred", due_at=morning)  # fmt: skip
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    page = client.get(f"/o/{office_a.slug}/campaigns/{campaign.pk}/").content.decode()
    assert "Waiting to send" in page
    assert "held for the debtor" in page
    figures = page.split("Waiting to send", 1)[1][:120]
    assert ">2<" in figures
    listing = client.get(f"/o/{office_a.slug}/campaigns/").content.decode()
    assert 'data-label="Waiting" class="num">2<' in listing
