"""Steps that wait for an account's date, in the builder: the form says what to fix,
the preview says when each step would go out for an account or why it is skipped, and
the dry-run counts the skips with their reasons."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from campaigns import services
from campaigns.builder import preview
from campaigns.builder.dryrun import dry_run
from campaigns.models import Campaign
from payments.models import PromiseToPay
from recovery import tenancy
from tests.campaigns.builder_helpers import reminder_template, simple_spec
from tests.campaigns.test_builder import with_email
from tests.factories import MembershipFactory

BEFORE_PROMISE = {"wait_days": 3, "wait_event": "promise_due", "wait_before": True}


def promise(account, due):
    PromiseToPay.objects.create(account=account, amount="50.00", due_date=due)


def test_the_step_form_says_what_to_fix_and_saves_a_relative_wait(client, office_a):
    manager = MembershipFactory(office=office_a, role="manager")
    email = reminder_template(office_a)
    client.force_login(manager.user)
    url = f"/o/{office_a.slug}/campaigns/new/"
    data = {
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "name": "Before the promise",
        "segment": '{"op": "and", "rules": [{"field": "balance", "min": "100"}]}',
        "steps-0-wait_days": "3",
        "steps-0-wait_side": "before",
        "steps-0-wait_event": "",
        "steps-0-channels": ["email"],
        "steps-0-template_email": str(email.pk),
    }
    page = client.post(url, data).content.decode()
    assert "Choose the date to wait before" in page
    page = client.post(url, {**data, "steps-0-wait_event": "charge_off"}).content.decode()
    assert "Waiting “before” the charge-off date is not possible" in page
    response = client.post(url, {**data, "steps-0-wait_event": "promise_due"})
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        step = Campaign.objects.get(name="Before the promise").steps.get()
    assert (step.wait_days, step.wait_event, step.wait_before) == (3, "promise_due", True)
    detail = client.get(response["Location"]).content.decode()
    assert "3 days before the promise-to-pay date" in detail
    # Editing shows the wait as it was saved.
    edit = client.get(response["Location"] + "edit/").content.decode()
    assert '<option value="promise_due" selected>' in edit


def test_the_service_refuses_an_unknown_date_to_wait_for(office_a):
    with tenancy.office_context(office_a.id):
        spec = simple_spec(
            steps=[{"wait_days": 1, "wait_event": "birthday", "channels": ["email"]}]
        )
        errors = services.campaign_spec_check(spec)
    assert errors == {"steps": ["Step 1: Unknown date to wait for: “birthday”."]}


def test_preview_says_when_the_step_goes_out_or_why_it_is_skipped(client, office_a):
    promised, unpromised = with_email(office_a, 2, opening_balance="900.00")
    today = office_a.today()
    with tenancy.office_context(office_a.id):
        promise(promised, today + timedelta(days=10))
        campaign = services.campaign_save(
            spec=simple_spec(steps=[{**BEFORE_PROMISE, "channels": ["email"]}])
        )
        counts = preview.entry_counts(campaign)
        [gap] = counts["without_date"]
        assert (gap["count"], gap["reason"]) == (1, "no open promise to pay")
        accounts = Account.objects.select_related("debtor", "creditor", "office")
        [due] = preview.step_previews(campaign, accounts.get(pk=promised.pk))
        [skipped] = preview.step_previews(campaign, accounts.get(pk=unpromised.pk))
    assert (due["on"], due["skipped"]) == (today + timedelta(days=7), None)
    assert (skipped["on"], skipped["skipped"]) == (None, "no open promise to pay")
    client.force_login(MembershipFactory(office=office_a, role="manager").user)
    url = f"/o/{office_a.slug}/campaigns/{campaign.pk}/preview/"
    page = client.get(url, {"account": unpromised.office_reference}).content.decode()
    assert "Skipped for this account: no open promise to pay." in page
    assert "1 of the accounts entering today has no open promise to pay yet" in page


def test_dry_run_sends_on_the_day_and_counts_skips_with_their_reason(office_a):
    paid_late, never, later = with_email(office_a, 3, opening_balance="900.00")
    now = timezone.now()
    today = office_a.today()
    with tenancy.office_context(office_a.id):
        Account.objects.update(placed_at=now - timedelta(days=20))
        promise(paid_late, today - timedelta(days=5))
        promise(later, today + timedelta(days=5))
        after_promise = {"wait_days": 2, "wait_event": "promise_due", "channels": ["email"]}
        campaign = services.campaign_save(
            spec=simple_spec(steps=[{"wait_days": 0, "channels": ["email"]}, after_promise])
        )
        report = dry_run(campaign=campaign, days=10, now=now)
    first, second = report["steps"]
    assert report["accounts"] == 3
    assert sum(first["channels"]["email"].values()) == 3
    assert sum(second["channels"]["email"].values()) == 1  # two days after the past promise
    assert second["skipped_why"] == {"no open promise to pay": 1}
    assert second["not_yet"] == 1
    assert second["wait"] == "2 days after the promise-to-pay date"


def test_dry_run_queries_with_a_relative_step_do_not_grow_with_accounts(office_a, office_b):
    counts = []
    for office, n in ((office_a, 2), (office_b, 8)):
        accounts = with_email(office, n, opening_balance="900.00")
        today = office.today()
        with tenancy.office_context(office.id):
            Account.objects.update(placed_at=timezone.now() - timedelta(days=20))
            for account in accounts[::2]:
                promise(account, today - timedelta(days=3))
            after_promise = {"wait_days": 1, "wait_event": "promise_due", "channels": ["email"]}
            campaign = services.campaign_save(spec=simple_spec(steps=[after_promise]))
            with CaptureQueriesContext(connection) as ctx:
                report = dry_run(campaign=campaign, days=10)
            counts.append(len(ctx.captured_queries))
        assert report["steps"][0]["skipped_why"] == {"no open promise to pay": n // 2}
    assert counts[0] == counts[1]
