"""The compliance officer's pages: decisions (search, summary, CSV), the office policy
and its history, the complaint register and the audit — who may open them, and what
they do."""

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Event
from compliance.facts import policy_in_force
from compliance.models import Complaint, ComplaintAccount, ContactAttempt, Decision, OfficePolicy
from compliance.services import complaint_create
from recovery import tenancy
from recovery.models import WorkItem
from tests.compliance.conftest import NOON
from tests.factories import AccountFactory, MembershipFactory

PAGES = [
    "",
    "decisions.csv",
    "policy/",
    "policy/edit/",
    "complaints/",
    "complaints/new/",
    "audit/",
]


def url(office, path=""):
    return f"/o/{office.slug}/compliance/{path}"


def office_today(office):
    return timezone.localdate(timezone=ZoneInfo(office.time_zone))


@pytest.fixture
def officer_a(office_a):
    return MembershipFactory(office=office_a, role="compliance")


def decisions_for(office, accounts, outcomes=("allow",), rules=(), **fields):
    """One decision per account, cycling through the outcomes given."""
    rows = []
    for i, account in enumerate(accounts):
        outcome = outcomes[i % len(outcomes)]
        rows.append(
            Decision(
                office_id=office.id,
                account=account,
                debtor_id=account.debtor_id,
                action=fields.get("action", "email"),
                outcome=outcome,
                rule_ids=list(rules) if outcome != "allow" else [],
                explanation=f"{outcome.title()}: test decision.",
                decided_at=fields.get("decided_at", timezone.now()),
            )
        )
    with tenancy.office_context(office.id):
        return Decision.objects.bulk_create(rows)


# ---------- who may open what ----------


@pytest.mark.parametrize("path", PAGES)
def test_a_compliance_officer_opens_every_page(client, login, officer_a, office_a, path):
    login(officer_a)
    assert client.get(url(office_a, path)).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_an_agent_is_refused_every_page(client, login, agent_a, office_a, path):
    login(agent_a)
    assert client.get(url(office_a, path)).status_code == 403


def test_a_supervisor_reads_but_changes_nothing(client, login, office_a):
    login(MembershipFactory(office=office_a, role="supervisor"))
    assert client.get(url(office_a)).status_code == 200
    assert client.get(url(office_a, "policy/")).status_code == 200
    assert client.get(url(office_a, "policy/edit/")).status_code == 403
    assert client.get(url(office_a, "complaints/new/")).status_code == 403


def test_a_manager_may_not_edit_the_policy(client, login, office_a):
    login(MembershipFactory(office=office_a, role="manager"))
    page = client.get(url(office_a, "policy/"))
    assert page.status_code == 200
    assert "Change the policy" not in page.content.decode()
    assert client.post(url(office_a, "policy/edit/"), {}).status_code == 403


def test_the_compliance_link_shows_for_officers_not_agents(client, login, office_a, agent_a):
    login(agent_a)
    assert url(office_a) not in client.get(f"/o/{office_a.slug}/").content.decode()
    login(MembershipFactory(office=office_a, role="compliance"))
    assert url(office_a) in client.get(f"/o/{office_a.slug}/").content.decode()


# ---------- the office policy ----------


def policy_post(**changes):
    data = {
        "cap_email": 3,
        "cap_sms": 3,
        "cap_call": 7,
        "earliest_hour": 8,
        "latest_hour": 21,
        "channels_enabled": ["email", "sms", "call", "voicemail", "letter", "payment_link"],
        "first_party_follows_reg_f": "on",
        "reason": "Tighter hours after a complaint",
    }
    data.update(changes)
    return data


def test_a_looser_policy_is_refused_with_what_to_fix_and_nothing_written(
    client, login, officer_a, office_a
):
    login(officer_a)
    response = client.post(
        url(office_a, "policy/edit/"),
        policy_post(earliest_hour=7, latest_hour=22, cap_email=5, cap_call=-1),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Contact may not start before 08:00: choose 8 or later." in page
    assert "Contact must end by 21:00: choose 21 or earlier." in page
    assert "allows at most 3 emails in 7 days, and the policy may only be stricter" in page
    assert "A cap can&#x27;t be negative" in page
    with tenancy.office_context(office_a.id):
        assert OfficePolicy.objects.count() == 0


def test_the_window_must_be_a_window_and_the_change_needs_a_reason(
    client, login, officer_a, office_a
):
    login(officer_a)
    page = client.post(
        url(office_a, "policy/edit/"), policy_post(earliest_hour=12, latest_hour=10, reason="")
    ).content.decode()
    assert "The latest hour must be after the earliest hour (12:00)." in page
    assert "Say why the policy changes" in page
    page = client.post(url(office_a, "policy/edit/"), policy_post()).content.decode()
    assert "Nothing changed" in page
    with tenancy.office_context(office_a.id):
        assert OfficePolicy.objects.count() == 0


def test_a_stricter_policy_is_a_new_row_and_the_old_one_stays_in_history(
    client, login, officer_a, office_a
):
    login(officer_a)
    first = client.post(url(office_a, "policy/edit/"), policy_post(latest_hour=20))
    assert first.status_code == 302
    second = client.post(
        url(office_a, "policy/edit/"),
        policy_post(latest_hour=20, cap_sms=1, channels_enabled=["email", "call", "letter"],
                    reason="Fewer texts"),
    )  # fmt: skip
    assert second.status_code == 302
    with tenancy.office_context(office_a.id):
        rows = list(OfficePolicy.objects.order_by("effective_from", "id"))
        in_force = policy_in_force(office_a, timezone.now())
    assert len(rows) == 2
    assert rows[0].latest_hour == 20 and rows[0].caps_per_7_days["sms"] == 3
    assert in_force.pk == rows[1].pk
    assert in_force.caps_per_7_days == {"email": 3, "sms": 1, "call": 7}
    assert in_force.channels_enabled == ["email", "call", "letter"]
    assert in_force.changed_by == officer_a.user and in_force.reason == "Fewer texts"
    page = client.get(url(office_a, "policy/")).content.decode()
    assert "Latest hour 21:00 → 20:00" in page
    assert "SMS cap 3 → 1" in page
    assert "SMS switched off" in page
    assert "Tighter hours after a complaint" in page and "Fewer texts" in page


def test_the_gate_reads_the_policy_the_page_wrote(client, login, officer_a, scene):
    login(officer_a)
    client.post(url(scene.office, "policy/edit/"), policy_post(cap_email=1))
    with tenancy.office_context(scene.office.id):
        ContactAttempt.objects.create(
            debtor=scene.debtor, account=scene.account, contact_point=scene.email,
            channel="email", occurred_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip
    outcome = scene.decide_one("email", at=timezone.now(), record=False)
    assert "F-HARASS" in outcome.rule_ids and "cap 1 in 7 days" in outcome.explanation


# ---------- decisions ----------


def test_decisions_filter_by_rule_outcome_account_and_channel(client, login, officer_a, office_a):
    a1, a2 = AccountFactory(office=office_a), AccountFactory(office=office_a)
    decisions_for(office_a, [a1, a1], outcomes=("block",), rules=["F-TIME"])
    decisions_for(office_a, [a2], outcomes=("block",), rules=["F-TIMEBAR"], action="legal")
    decisions_for(office_a, [a2], outcomes=("allow",))
    login(officer_a)

    def rows(**query):
        page = client.get(url(office_a), query)
        assert page.status_code == 200
        return page.context["page"].paginator.count

    assert rows() == 4
    assert rows(rule="F-TIME") == 2  # not F-TIMEBAR
    assert rows(rule="F-TIMEBAR") == 1
    assert rows(outcome="allow") == 1
    assert rows(account=a2.office_reference) == 2
    assert rows(account=a1.creditor_reference) == 2
    assert rows(debtor=a1.debtor_id) == 2
    assert rows(channel="legal") == 1
    assert rows(account=a2.office_reference, outcome="block") == 1


def test_the_period_defaults_to_30_days_and_can_be_widened(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    decisions_for(office_a, [account])
    decisions_for(office_a, [account], decided_at=timezone.now() - timedelta(days=90))
    login(officer_a)
    assert client.get(url(office_a)).context["page"].paginator.count == 1
    widened = client.get(url(office_a), {"date_from": "", "date_to": ""})
    assert widened.context["page"].paginator.count == 2
    bad = client.get(url(office_a), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "The end date must be on or after the start date." in bad.content.decode()


def test_the_summary_counts_outcomes_and_the_rules_that_blocked(client, login, officer_a, office_a):
    accounts = [AccountFactory(office=office_a, opening_balance=0) for _ in range(6)]
    decisions_for(office_a, accounts[:3], outcomes=("block",), rules=["T-REVOKE", "F-TIME"])
    decisions_for(office_a, accounts[3:4], outcomes=("block",), rules=["F-TIME"])
    decisions_for(office_a, accounts[4:5], outcomes=("defer",), rules=["F-HARASS"])
    decisions_for(office_a, accounts[5:], outcomes=("allow",))
    login(officer_a)
    summary = client.get(url(office_a)).context["summary"]
    counts = {o["value"]: o["count"] for o in summary["outcomes"]}
    assert counts == {"allow": 1, "defer": 1, "block": 4}
    assert [(r["rule"], r["count"]) for r in summary["top_blocking"]] == [
        ("F-TIME", 4),
        ("T-REVOKE", 3),
    ]
    narrowed = client.get(url(office_a), {"rule": "T-REVOKE"}).context["summary"]
    assert narrowed["total"] == 3


def test_the_csv_export_has_ids_and_rules_and_no_names(client, login, officer_a, scene):
    scene.decide_one("sms", at=NOON)  # allowed, with the opt-out text required
    scene.decide_one("postcard", at=NOON)  # blocked: F-MEDIA
    with tenancy.office_context(scene.office.id):
        ids = list(Decision.objects.order_by("-decided_at", "-id").values_list("id", flat=True))
    login(officer_a)
    response = client.get(url(scene.office, "decisions.csv"), {"date_from": "", "date_to": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["decision_id"]) for r in rows] == ids
    blocked, allowed = rows
    assert blocked["outcome"] == "block" and blocked["rule_ids"] == "F-MEDIA"
    assert blocked["channel"] == "postcard"
    assert blocked["account_id"] == str(scene.account.pk)
    assert blocked["account_reference"] == scene.account.office_reference
    assert blocked["debtor_id"] == str(scene.debtor.pk)
    assert blocked["planned_for_utc"] == "2026-11-17T15:00:00Z"
    assert allowed["outcome"] == "allow" and "F-OPTOUT" in allowed["disclosure_rules"]
    assert allowed["contact_point_id"] == str(scene.phone.pk)
    assert "Rosa" not in body and "Delgado" not in body and scene.phone.value not in body
    only_blocked = client.get(
        url(scene.office, "decisions.csv"), {"outcome": "block", "date_from": "", "date_to": ""}
    )
    lines = b"".join(only_blocked.streaming_content).decode().splitlines()
    assert len(lines) == 2 and lines[1].startswith(str(ids[0]))


def test_the_decision_page_explains_each_rule(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    [decision] = decisions_for(office_a, [account], outcomes=("block",), rules=["F-7IN7"])
    login(officer_a)
    page = client.get(url(office_a, f"decisions/{decision.pk}/")).content.decode()
    assert "Seven calls in seven days" in page and "Block: test decision." in page


@pytest.mark.parametrize("count", [5, 50])
def test_the_decisions_page_costs_the_same_queries_for_5_or_50_rows(
    client, login, officer_a, office_a, django_assert_max_num_queries, count
):
    accounts = [AccountFactory(office=office_a, opening_balance=0) for _ in range(count)]
    decisions_for(office_a, accounts, outcomes=("allow", "defer", "block"), rules=["F-TIME"])
    login(officer_a)
    with CaptureQueriesContext(connection) as baseline:
        client.get(url(office_a), {"date_from": "", "date_to": "", "outcome": "allow"})
    # The same page with every row on it may not cost a query more than with a third.
    with django_assert_max_num_queries(len(baseline)):
        response = client.get(url(office_a))
    assert len(response.context["page"].object_list) == count
    assert response.content.decode().count("test decision.") == count


def test_the_account_page_shows_the_latest_decisions_without_a_query_each(
    client, login, agent_a, office_a, django_assert_max_num_queries
):
    account = AccountFactory(office=office_a)
    login(agent_a)
    with CaptureQueriesContext(connection) as baseline:
        client.get(f"/o/{office_a.slug}/accounts/{account.pk}/")
    decisions_for(office_a, [account] * 20, outcomes=("block",), rules=["F-TIME"])
    with django_assert_max_num_queries(len(baseline)):
        page = client.get(f"/o/{office_a.slug}/accounts/{account.pk}/")
    assert page.content.decode().count("test decision.") == 20


# ---------- complaints ----------


def test_a_complaint_enters_the_register_and_the_recorders_work(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    login(officer_a)
    received = office_today(office_a) - timedelta(days=2)
    response = client.post(
        url(office_a, "complaints/new/"),
        {
            "account": account.office_reference,
            "source": "cfpb",
            "received_on": received.isoformat(),
            "summary": "Says we called at 7am.",
        },
    )
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        complaint = Complaint.objects.get()
        assert list(ComplaintAccount.objects.values_list("account_id", flat=True)) == [account.pk]
        task = WorkItem.objects.get(kind=WorkItem.Kind.REVIEW)
        events = list(Event.objects.filter(account=account, data__complaint_id=complaint.pk))
    zone = ZoneInfo(office_a.time_zone)
    assert complaint.source == "cfpb" and complaint.outcome == "pending"
    assert timezone.localtime(complaint.received_at, zone).date() == received
    # CFPB: 15 days to respond.
    assert timezone.localtime(complaint.response_due_at, zone).date() == received + timedelta(15)
    assert task.assignee == officer_a.user and task.due_at == complaint.response_due_at
    assert task.account_id == account.pk and "Says we called at 7am." in task.detail
    assert len(events) == 1 and "response due" in events[0].summary
    my_work = client.get(f"/o/{office_a.slug}/work/").content.decode()
    assert f"Respond to complaint #{complaint.pk}" in my_work
    register = client.get(url(office_a, "complaints/")).content.decode()
    assert f"#{complaint.pk}" in register and account.office_reference in register


def test_other_complaints_are_due_in_30_days_unless_told(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    login(officer_a)
    today = office_today(office_a)
    client.post(
        url(office_a, "complaints/new/"),
        {"account": account.office_reference, "source": "state_ag", "received_on": today},
    )
    client.post(
        url(office_a, "complaints/new/"),
        {
            "account": account.office_reference,
            "source": "debtor",
            "received_on": today,
            "response_due_on": today + timedelta(days=5),
        },
    )
    zone = ZoneInfo(office_a.time_zone)
    with tenancy.office_context(office_a.id):
        due = [
            timezone.localtime(c.response_due_at, zone).date() - today
            for c in Complaint.objects.order_by("id")
        ]
    assert due == [timedelta(30), timedelta(5)]


def test_a_complaint_about_an_unknown_account_is_refused(client, login, officer_a, office_a):
    login(officer_a)
    page = client.post(
        url(office_a, "complaints/new/"),
        {"account": "NOPE-1", "source": "debtor", "received_on": office_today(office_a)},
    ).content.decode()
    assert "No account has the reference “NOPE-1”." in page
    tomorrow = office_today(office_a) + timedelta(days=1)
    account = AccountFactory(office=office_a)
    page = client.post(
        url(office_a, "complaints/new/"),
        {"account": account.office_reference, "source": "debtor", "received_on": tomorrow},
    ).content.decode()
    assert "The date received cannot be in the future." in page
    with tenancy.office_context(office_a.id):
        assert not Complaint.objects.exists() and not WorkItem.objects.exists()


def test_the_register_lists_open_first_and_flags_overdue(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    login(officer_a)
    old = office_today(office_a) - timedelta(days=40)
    for source in ("debtor", "cfpb"):
        client.post(
            url(office_a, "complaints/new/"),
            {"account": account.office_reference, "source": source, "received_on": old},
        )
    page = client.get(url(office_a, "complaints/"))
    assert [c.source for c in page.context["page"].object_list] == ["cfpb", "debtor"]
    assert page.context["counts"]["overdue"] == 2
    assert page.content.decode().count("overdue</span>") == 2


def test_closing_a_complaint_needs_a_root_cause_when_upheld(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    login(officer_a)
    client.post(
        url(office_a, "complaints/new/"),
        {"account": account.office_reference, "source": "debtor",
         "received_on": office_today(office_a)},
    )  # fmt: skip
    with tenancy.office_context(office_a.id):
        complaint = Complaint.objects.get()
    detail = url(office_a, f"complaints/{complaint.pk}/")
    page = client.post(detail, {"outcome": "upheld", "root_cause": ""}).content.decode()
    assert "Name the root cause of an upheld complaint" in page
    response = client.post(
        detail, {"outcome": "upheld", "root_cause": "Contact outside permitted hours"}
    )
    assert response.status_code == 302
    with tenancy.office_context(office_a.id):
        complaint.refresh_from_db()
        assert complaint.outcome == "upheld"
        assert complaint.root_cause == "Contact outside permitted hours"
        assert WorkItem.objects.get().status == WorkItem.Status.DONE
        assert Event.objects.filter(account=account, summary="Complaint closed: upheld").exists()
    again = client.post(detail, {"outcome": "not_upheld"}, follow=True).content.decode()
    assert "already recorded" in again


def test_a_supervisor_cannot_close_a_complaint(client, login, officer_a, office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        complaint = complaint_create(
            accounts=[account], source="debtor", received_on=office_today(office_a)
        )
    login(MembershipFactory(office=office_a, role="supervisor"))
    client.post(url(office_a, f"complaints/{complaint.pk}/"), {"outcome": "not_upheld"})
    with tenancy.office_context(office_a.id):
        complaint.refresh_from_db()
    assert complaint.outcome == "pending"


# ---------- audit ----------


def test_the_audit_page_shows_both_figures_with_rules_and_examples(client, login, officer_a, scene):
    with tenancy.office_context(scene.office.id):
        # Sent at 22:00 in New York: a violation on any facts.
        late = ContactAttempt.objects.create(
            debtor=scene.debtor, account=scene.account, contact_point=scene.email,
            channel="email", occurred_at=NOON.replace(hour=3) + timedelta(days=1),
        )  # fmt: skip
        ContactAttempt.objects.create(
            debtor=scene.debtor, account=scene.account, contact_point=scene.email,
            channel="email", occurred_at=NOON - timedelta(days=3),
        )  # fmt: skip
    login(officer_a)
    response = client.get(
        url(scene.office, "audit/"), {"since": "2026-11-01", "until": "2026-11-30"}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.known_at_send.attempts == 2
    assert result.known_at_send.violations == 1 and result.known_now.violations == 1
    page = response.content.decode()
    assert "Facts known at send time" in page and "Facts known now" in page
    assert "F-TIME" in page and f"attempt {late.pk}" in page
    assert "50.00%" in page


def test_the_audit_period_is_checked(client, login, officer_a, office_a):
    login(officer_a)
    page = client.get(
        url(office_a, "audit/"), {"since": "2026-01-01", "until": "2026-12-31"}
    ).content.decode()
    assert "Choose at most 92 days here" in page
    default = client.get(url(office_a, "audit/"))
    assert default.context["form"].cleaned_data["until"] == office_today(office_a)
