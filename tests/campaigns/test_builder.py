"""The campaign builder: previews count what a direct query counts, edits of a running
campaign become new versions, variants split deterministically, templates say what to
fix, and only managers of the office reach any of it."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from campaigns import library, planner, services
from campaigns.builder import preview
from campaigns.builder.variants import bucket, variant_for, variants_check
from campaigns.models import Campaign, Enrollment, Message, MessageTemplate, Step
from debtors.services import contact_point_add
from payments.models import PromiseToPay
from recovery import tenancy
from recovery.models import WorkItem
from tests.campaigns.builder_helpers import campaign_create, reminder_template, simple_spec
from tests.factories import AccountFactory, DebtorFactory, MembershipFactory


def with_email(office, n, **account):
    accounts = []
    for i in range(n):
        debtor = DebtorFactory(office=office)
        with tenancy.office_context(office.id):
            contact_point_add(
                debtor=debtor,
                kind="email",
                value=f"b{debtor.pk}-{i}@example.com",
                source="placement",
            )
        accounts.append(AccountFactory(office=office, debtor=debtor, **account))
    return accounts


def test_preview_counts_equal_a_direct_count(office_a):
    with_email(office_a, 3, opening_balance="900.00")
    with_email(office_a, 2, opening_balance="50.00")
    old = with_email(office_a, 2, opening_balance="900.00")
    segment = {
        "op": "and",
        "rules": [
            {"field": "balance", "min": "100"},
            {"field": "days_since_placement", "min": 10},
        ],
    }
    now = timezone.now()
    with tenancy.office_context(office_a.id):
        # Two placed 15 days ago match today; the three placed now match in 10 days.
        Account.objects.filter(pk__in=[a.pk for a in old]).update(
            placed_at=now - timedelta(days=15)
        )
        campaign = services.campaign_save(spec=simple_spec(segment=segment))
        counts = preview.entry_counts(campaign, now=now)
        balance = Q(principal_balance__gte=100)
        direct_today = Account.objects.filter(
            balance, placed_at__lt=now - timedelta(days=9)
        ).count()
        direct_later = Account.objects.filter(
            balance, placed_at__gte=now - timedelta(days=9)
        ).count()
    assert counts == {
        "today": direct_today,
        "next_days": direct_later,
        "horizon": 30,
        "without_date": [],
        "unscored": None,
    }
    assert (counts["today"], counts["next_days"]) == (2, 3)


def test_entrants_leave_out_enrolled_paid_and_exited_accounts(office_a):
    accounts = with_email(office_a, 4, opening_balance="900.00")
    with tenancy.office_context(office_a.id):
        campaign = services.campaign_save(spec=simple_spec())
        Account.objects.filter(pk=accounts[0].pk).update(status="paid")
        Account.objects.filter(pk=accounts[1].pk).update(status="in_plan")  # exit "plan"
        planner.enroll(campaign=campaign, accounts=[accounts[2]])
        assert list(services.entrants(campaign)) == [accounts[3]]
        assert preview.entry_counts(campaign)["today"] == 1


def test_editing_an_active_campaign_creates_a_new_version_and_enrolled_accounts_finish_theirs(
    office_a,
):
    with_email(office_a, 2, opening_balance="900.00")
    campaign = campaign_create(office_a)
    with tenancy.office_context(office_a.id):
        services.campaign_activate(campaign=campaign)
        assert services.campaign_entries_run() == 2
        spec = simple_spec(steps=[{"wait_days": 0, "channels": ["sms"]}])
        v2 = services.campaign_save(campaign=campaign, spec=spec)
        assert (v2.pk != campaign.pk, v2.version, v2.previous_version_id) == (True, 2, campaign.pk)
        assert v2.status == "draft"
        # Saving again edits the same pending draft, not a third version.
        assert services.campaign_save(campaign=campaign, spec=spec).pk == v2.pk
        campaign.refresh_from_db()
        assert campaign.status == "active" and campaign.steps.count() == 2
        services.campaign_activate(campaign=v2)
        campaign.refresh_from_db()
        assert campaign.status == "retiring"
        # The enrolled accounts stay in version 1 and are still planned there.
        assert set(Enrollment.objects.values_list("campaign_id", flat=True)) == {campaign.pk}
        assert planner.plan_due(office_id=office_a.id) == 2
        assert set(Message.objects.values_list("step__campaign_id", flat=True)) == {campaign.pk}
        # …and version 2 takes no one who is in any version already.
        assert services.campaign_entries_run() == 0
        AccountFactory(office=office_a, opening_balance="900.00")
        assert services.campaign_entries_run() == 1
        assert Enrollment.objects.filter(campaign=v2).count() == 1


def test_a_draft_is_edited_in_place(office_a):
    campaign = campaign_create(office_a)
    with tenancy.office_context(office_a.id):
        again = services.campaign_save(campaign=campaign, spec=simple_spec(name="Renamed"))
        assert again.pk == campaign.pk and again.version == 1 and again.name == "Renamed"


def test_pause_and_resume(office_a):
    campaign = campaign_create(office_a)
    with tenancy.office_context(office_a.id):
        services.campaign_activate(campaign=campaign)
        services.campaign_pause(campaign=campaign)
        assert Campaign.objects.get(pk=campaign.pk).status == "paused"
        with pytest.raises(ValidationError):
            services.campaign_pause(campaign=campaign)
        services.campaign_resume(campaign=campaign)
        assert Campaign.objects.get(pk=campaign.pk).status == "active"


def test_variant_split_is_deterministic_and_near_the_percentages():
    variants = [{"key": "A", "percent": 70}, {"key": "B", "percent": 30}]
    assert variants_check(variants) is None
    assert "add up to 90%" in variants_check(
        [{"key": "A", "percent": 60}, {"key": "B", "percent": 30}]
    )
    first = [variant_for(i, variants) for i in range(1, 10_001)]
    assert first == [variant_for(i, variants) for i in range(1, 10_001)]
    share = Counter(first)["B"] / len(first)
    assert 0.28 < share < 0.32
    assert variant_for(5, []) == ""


def test_the_planner_assigns_the_same_variants_in_sql(office_a):
    accounts = with_email(office_a, 30, opening_balance="900.00")
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.create(name="Split", status="active")
        variants = [
            {"key": "A", "percent": 50, "templates": {}},
            {"key": "B", "percent": 50, "templates": {}},
        ]
        Step.objects.create(campaign=campaign, position=1, channels=["email"], variants=variants)
        planner.enroll(campaign=campaign, accounts=accounts)
        planner.plan_due(office_id=office_a.id)
        rows = Message.objects.values_list("enrollment_id", "variant")
        assert {v for _, v in rows} == {"A", "B"}
        assert all(variant == variant_for(e, variants) for e, variant in rows)
        assert all(0 <= bucket(e) < 100 for e, _ in rows)


def test_skip_if_a_promise_is_open_passes_the_step_over(office_a):
    promised, plain = with_email(office_a, 2, opening_balance="900.00")
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.create(name="Skips", status="active")
        Step.objects.create(
            campaign=campaign,
            position=1,
            channels=["email"],
            conditions={"skip_if": ["promise_open"]},
        )
        PromiseToPay.objects.create(account=promised, amount="50.00", due_date=timezone.localdate())
        planner.enroll(campaign=campaign, accounts=[promised, plain])
        assert planner.plan_due(office_id=office_a.id) == 1
        assert Message.objects.get().account_id == plain.pk
        assert Enrollment.objects.filter(status="completed").count() == 2


def test_legal_escalation_is_refused_by_compliance_for_time_barred_debt(office_a):
    barred, fine = with_email(office_a, 2, opening_balance="900.00")
    today = timezone.localdate()
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=barred.pk).update(
            governing_law_state="NY", charge_off_date=today - timedelta(days=3650)
        )
        Account.objects.filter(pk=fine.pk).update(
            governing_law_state="NY", charge_off_date=today - timedelta(days=100)
        )
        campaign = Campaign.objects.create(
            name="To legal", status="active", escalation={"kind": "legal"}
        )
        Step.objects.create(campaign=campaign, position=1, channels=["email"])
        planner.enroll(campaign=campaign, accounts=[barred, fine])
        planner.plan_due(office_id=office_a.id)
        reviews = WorkItem.objects.filter(kind="review")
        assert list(reviews.values_list("account_id", flat=True)) == [fine.pk]


def test_queue_escalation_puts_the_account_in_the_named_queue(office_a):
    (account,) = with_email(office_a, 1, opening_balance="900.00")
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.create(
            name="Then a person",
            status="active",
            escalation={"kind": "queue", "queue": "Senior agents"},
        )
        Step.objects.create(campaign=campaign, position=1, channels=["email"])
        planner.enroll(campaign=campaign, accounts=[account])
        planner.plan_due(office_id=office_a.id)
        item = WorkItem.objects.get()
        assert item.account_id == account.pk and item.title.startswith("Senior agents")


def test_exits_take_accounts_out(office_a):
    paid, other = with_email(office_a, 2, opening_balance="900.00")
    campaign = campaign_create(office_a)
    with tenancy.office_context(office_a.id):
        services.campaign_activate(campaign=campaign)
        services.campaign_entries_run()
        Account.objects.filter(pk=paid.pk).update(status="paid")
        assert services.enrollments_exit_matching() == 1
        assert Enrollment.objects.get(account=paid).exit_reason == "paid"
        assert Enrollment.objects.get(account=other).status == "active"


# --- templates ---------------------------------------------------------------------------


def test_template_errors_for_tags_and_unknown_fields(office_a):
    with tenancy.office_context(office_a.id):
        with pytest.raises(ValidationError) as tags:
            services.template_save(
                name="Bad",
                channel="email",
                language="en",
                subject="Hi",
                body="{% if x %}Hello{% endif %}",
            )
        assert "no tags or filters" in str(tags.value)
        with pytest.raises(ValidationError) as unknown:
            services.template_save(
                name="Bad", channel="email", language="en", subject="Hi", body="Hello {{ ssn }}"
            )
        assert "Unknown merge field: {{ ssn }}" in str(unknown.value)
        attr = library.template_review(subject="", body="{{ first_name.upper }}", channel="sms")
        assert attr["errors"]
        flagged = library.template_review(
            subject="", body="Pay within 10 days or else.", channel="email"
        )
        assert flagged["flags"] == ["overshadows"] and "F-OVERSHADOW" in flagged["problems"][0]


def test_the_starter_set_is_kind_bilingual_and_passes_every_check(office_a):
    with tenancy.office_context(office_a.id):
        assert library.starter_templates_create(office=office_a) == len(library.STARTER)
        assert library.starter_templates_create(office=office_a) == 0  # idempotent
        names = set(MessageTemplate.objects.values_list("name", flat=True))
        assert names == {
            "Friendly reminder",
            "Offer of a payment plan",
            "Lump-sum discount",
            "Hardship help",
            "Formal notice",
        }
        for t in MessageTemplate.objects.all():
            review = library.template_review(subject=t.subject, body=t.body, channel=t.channel)
            assert review == {"errors": [], "problems": [], "flags": []}, t.name
        assert set(MessageTemplate.objects.values_list("language", flat=True)) == {"en", "es"}


def test_a_campaign_that_gives_a_missing_office_phone_is_not_activated(office_a):
    """ "Call us at ." is what a debtor would read: the manager is told to add the number."""
    office_a.public_phone = ""
    office_a.save()
    friendly = reminder_template(office_a)  # "... call us at {{ office_phone }}."
    campaign = campaign_create(
        office_a,
        steps=[{"wait_days": 0, "channels": ["email"], "templates": {"email": friendly.pk}}],
    )
    with tenancy.office_context(office_a.id):
        with pytest.raises(ValidationError) as refused:
            services.campaign_activate(campaign=campaign)
        assert "phone number, and none is on file" in str(refused.value)
        assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    office_a.public_phone = "(800) 555-0199"
    office_a.save()
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.get(pk=campaign.pk)
        assert services.campaign_activate(campaign=campaign).status == "active"


def test_office_create_gives_a_new_office_the_starter_set(db):
    from recovery.services import office_create

    office = office_create(name="Fresh Start Recovery")
    with tenancy.office_context(office.id):
        assert MessageTemplate.objects.count() == len(library.STARTER)


def test_the_debtors_language_picks_the_template_variant(office_a):
    english = reminder_template(office_a)
    with tenancy.office_context(office_a.id):
        step = Step(templates={"email": english.pk})
        index = library.TemplateIndex()
        assert library.step_template(step, "email", language="es", index=index).language == "es"
        assert library.step_template(step, "email", language="fr", index=index).pk == english.pk


def test_preview_renders_each_step_with_the_disclosures_the_gate_adds(office_a):
    english = reminder_template(office_a)
    spanish = DebtorFactory(office=office_a, first_name="Lucía", language="es")
    with tenancy.office_context(office_a.id):
        contact_point_add(debtor=spanish, kind="email", value="lucia@example.com", source="debtor")
    account = AccountFactory(office=office_a, debtor=spanish, opening_balance="900.00")
    with tenancy.office_context(office_a.id):
        campaign = services.campaign_save(
            spec=simple_spec(
                steps=[
                    {
                        "wait_days": 0,
                        "channels": ["email", "call"],
                        "templates": {"email": english.pk},
                    }
                ]
            )
        )
        account = Account.objects.select_related("debtor", "creditor", "office").get(pk=account.pk)
        (step,) = preview.step_previews(campaign, account)
        email = step["items"][0]
        assert "Hola Lucía" in email["body_rendered"]
        assert "{{" not in email["body_rendered"]
        if email["outcome"].outcome != "block":
            assert all(d["text"] in email["body_rendered"] for d in email["disclosures"])
        assert step["items"][1]["call"] is True


# --- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [("agent", 403), ("supervisor", 403), ("manager", 200)])
def test_only_managers_reach_the_campaign_pages(client, office_a, role, status):
    member = MembershipFactory(office=office_a, role=role)
    client.force_login(member.user)
    assert client.get(f"/o/{office_a.slug}/campaigns/").status_code == status
    assert client.get(f"/o/{office_a.slug}/campaigns/templates/").status_code == status


def test_another_offices_campaign_is_404(client, office_a, office_b):
    campaign = campaign_create(office_a)
    outsider = MembershipFactory(office=office_b, role="manager")
    client.force_login(outsider.user)
    assert client.get(f"/o/{office_b.slug}/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/o/{office_a.slug}/campaigns/{campaign.pk}/").status_code == 404
    response = client.post(f"/o/{office_b.slug}/campaigns/{campaign.pk}/activate/")
    assert response.status_code == 404


def test_the_form_builds_a_campaign_and_says_what_to_fix(client, office_a):
    manager = MembershipFactory(office=office_a, role="manager")
    email = reminder_template(office_a)
    client.force_login(manager.user)
    url = f"/o/{office_a.slug}/campaigns/new/"
    assert client.get(url).status_code == 200
    base = {
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "name": "Spring",
        "exits": ["paid", "settled"],
    }
    response = client.post(url, base)
    assert "Add at least one entry condition" in response.content.decode()
    segment = json.dumps({"op": "and", "rules": [{"field": "balance", "min": "100"}]})
    response = client.post(url, {**base, "segment": segment})
    assert "Add at least one step" in response.content.decode()
    data = {
        **base,
        "segment": segment,
        "steps-0-wait_days": "0",
        "steps-0-channels": ["email", "sms"],
        "steps-0-template_email": str(email.pk),
        "steps-1-wait_days": "5",
        "steps-1-channels": ["call"],
        "steps-1-skip_if": ["promise_open"],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        campaign = Campaign.objects.get(name="Spring")
        steps = list(campaign.steps.values_list("channels", "templates", "conditions"))
    assert steps == [
        (["email", "sms"], {"email": email.pk}, {}),
        (["call"], {}, {"skip_if": ["promise_open"]}),
    ]
    assert campaign.entry_segment == {"op": "and", "rules": [{"field": "balance", "min": "100"}]}
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and "Would enter today" in detail.content.decode()


def test_template_editor_shows_errors_and_flags_live(client, office_a):
    manager = MembershipFactory(office=office_a, role="manager")
    client.force_login(manager.user)
    url = f"/o/{office_a.slug}/campaigns/templates/preview/"
    data = {
        "name": "X",
        "channel": "email",
        "language": "en",
        "subject": "Hi {{ first_name }}",
        "body": "Final demand: {{ balance }} {{ whatever }}",
    }
    html = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "Unknown merge field: {{ whatever }}" in html
    data["body"] = "Final demand, {{ first_name }}."
    html = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "F-OVERSHADOW" in html and "Final demand, Maria." in html
    response = client.post(
        f"/o/{office_a.slug}/campaigns/templates/new/", {**data, "body": "{% load x %}"}
    )
    assert response.status_code == 200 and "no tags or filters" in response.content.decode()
