"""Staff record a debtor's circumstances (with source and dates) from the account page;
the rules read them from their start and stop when they end. E-SIGN consent for notices
sent electronically (F-ESIGN) and the country profiles (IN-RBI, UK-CONC)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Event
from compliance import services
from debtors.models import Circumstance
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene
from tests.factories import MembershipFactory


def rows(scene, model, **filters):
    with tenancy.office_context(scene.office.id):
        return list(model.objects.filter(**filters))


def record(scene, kind, *, days_ago=3, **kwargs):
    with tenancy.office_context(scene.office.id):
        return services.circumstance_record(
            debtor=scene.debtor,
            kind=kind,
            source=kwargs.pop("source", "court"),
            effective_from=kwargs.pop("effective_from", NOON - timedelta(days=days_ago)),
            **kwargs,
        )


# ---------- the service ----------


def test_a_recorded_bankruptcy_stops_collection_until_the_case_ends(scene):
    filing = record(scene, "bankruptcy", details={"chapter": "7", "case": "24-10001"})
    assert filing.details == {"chapter": "7", "case": "24-10001"}
    assert scene.decide_one("email").rule_ids == ["F-STAY"]
    with tenancy.office_context(scene.office.id):
        services.circumstance_end(circumstance=filing, ended_at=NOON - timedelta(days=1))
    assert scene.decide_one("email").outcome == "allow"
    # What was true before it ended is still replayed.
    assert scene.decide_one("email", at=NOON - timedelta(days=2)).rule_ids == ["F-STAY"]
    summaries = [e.summary for e in rows(scene, Event, account=scene.account, kind="hold")]
    assert sorted(summaries) == ["Bankruptcy ended", "Bankruptcy filing recorded"]


@pytest.mark.parametrize(
    ("kind", "details", "rule"),
    [
        ("deceased", {"representative": "Ana Delgado"}, "F-DECEASED"),
        ("identity_theft", {"report": "FTC 123"}, "F-PAID"),
        ("attorney", {"firm": "Lee & Co"}, "F-ATTY"),
    ],
)
def test_recorded_circumstances_block_collection(scene, kind, details, rule):
    record(scene, kind, details=details)
    outcome = scene.decide_one("email")
    assert outcome.outcome == "block" and rule in outcome.rule_ids, outcome.explanation


def test_a_servicemember_needs_the_scra_review_before_legal_action(scene):
    record(scene, "servicemember", details={"branch": "Navy"},
           effective_to=NOON + timedelta(days=300))  # fmt: skip
    assert scene.decide_one("legal").rule_ids[-1] == "SCRA"


def test_a_circumstance_not_yet_recorded_does_not_apply_before_it_started(scene):
    record(scene, "deceased", effective_from=NOON + timedelta(hours=1))
    assert scene.decide_one("email").outcome == "allow"


def test_an_attorney_without_a_name_is_refused_and_nothing_is_written(scene):
    events = len(rows(scene, Event))
    with pytest.raises(ValidationError) as exc:
        record(scene, "attorney", details={"attorney_contact": "555-0100"})
    assert "Name the attorney or law firm" in str(exc.value)
    assert not rows(scene, Circumstance) and len(rows(scene, Event)) == events


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"effective_from": timezone.now() + timedelta(days=2)}, "cannot be in the future"),
        ({"effective_to": NOON - timedelta(days=5)}, "must be after the start"),
        ({"kind_override": "married"}, "Choose what is true"),
        ({"details": {"chapter": "9"}}, "Choose chapter 7, 11, 12 or 13"),
        ({"details": {"firm": "x"}}, "Unexpected details"),
    ],
)
def test_bad_circumstances_are_refused(scene, kwargs, message):
    kind = kwargs.pop("kind_override", "bankruptcy")
    with pytest.raises(ValidationError) as exc:
        record(scene, kind, **kwargs)
    assert message in str(exc.value)
    assert not rows(scene, Circumstance)


def test_a_circumstance_ends_once_and_not_before_it_began(scene):
    filing = record(scene, "bankruptcy")
    with tenancy.office_context(scene.office.id):
        with pytest.raises(ValidationError, match="after the start"):
            services.circumstance_end(circumstance=filing, ended_at=NOON - timedelta(days=9))
        services.circumstance_end(circumstance=filing, ended_at=NOON)
        with pytest.raises(ValidationError, match="already ended"):
            services.circumstance_end(circumstance=filing, ended_at=NOON)


# ---------- the account page ----------


def url(scene, name, pk):
    return f"/o/{scene.office.slug}/compliance/{name.format(pk=pk)}"


def test_staff_record_a_circumstance_from_the_account_page(client, login, scene, agent_a):
    login(agent_a)
    page = client.get(f"/o/{scene.office.slug}/accounts/{scene.account.pk}/")
    assert "Record a circumstance" in page.content.decode()
    today = scene.office.today().isoformat()
    response = client.post(
        url(scene, "accounts/{pk}/circumstance/", scene.account.pk),
        {"kind": "bankruptcy", "source": "court", "effective_on": today, "chapter": "13",
         "case": "26-555", "firm": "ignored for a bankruptcy"},
    )  # fmt: skip
    assert response.status_code == 302
    [saved] = rows(scene, Circumstance)
    assert saved.details == {"chapter": "13", "case": "26-555"}
    assert saved.source == "court" and saved.recorded_by == agent_a.user
    follow = client.get(response["Location"]).content.decode()
    assert "Bankruptcy filing recorded" in follow and "case 26-555" in follow


def test_a_bad_circumstance_form_says_what_to_fix(client, login, scene, agent_a):
    login(agent_a)
    response = client.post(
        url(scene, "accounts/{pk}/circumstance/", scene.account.pk),
        {"kind": "attorney", "source": "debtor", "effective_on": scene.office.today().isoformat()},
    )
    assert response.status_code == 200
    assert "Name the attorney or law firm" in response.content.decode()
    assert not rows(scene, Circumstance)


def test_a_supervisor_ends_a_circumstance_and_an_agent_may_not(client, login, scene, agent_a):
    filing = record(scene, "identity_theft", effective_from=timezone.now() - timedelta(days=4))
    end_url = url(scene, "circumstances/{pk}/end/", filing.pk)
    today = scene.office.today().isoformat()
    login(agent_a)
    assert client.post(end_url, {"ended_on": today}).status_code in (403, 404)
    supervisor = MembershipFactory(office=scene.office, role="supervisor")
    login(supervisor)
    response = client.post(end_url, {"ended_on": today, "account": scene.account.pk})
    assert response.status_code == 302
    [saved] = rows(scene, Circumstance)
    assert saved.effective_to is not None and saved.ended_by == supervisor.user


# ---------- F-ESIGN ----------


def esign(scene, kind="consent"):
    with tenancy.office_context(scene.office.id):
        services.consent_record(contact_point=scene.email, channel="esign", kind=kind,
                                source="portal", method="portal E-SIGN disclosure",
                                effective_from=NOON - timedelta(days=5))  # fmt: skip


def test_f_esign_a_later_notice_by_email_needs_esign_consent(agency_scene):
    notice = frozenset({"validation_notice"})
    # The scene's account was contacted before (its first notice went by letter)…
    agency_scene.decide_one("letter", at=NOON - timedelta(days=1), reserve=True)
    blocked = agency_scene.decide_one("email", content=notice)
    assert blocked.outcome == "block" and blocked.rule_ids == ["F-ESIGN"]
    assert agency_scene.decide_one("letter", content=notice).outcome == "allow"
    esign(agency_scene)
    assert agency_scene.decide_one("email", content=notice).outcome == "allow"
    esign(agency_scene, kind="opt_out")
    assert "was withdrawn" in agency_scene.decide_one("email", content=notice).explanation


def test_f_esign_a_dispute_response_by_email_needs_esign_consent(agency_scene):
    outcome = agency_scene.decide_one("email", content=frozenset({"verification"}))
    assert outcome.rule_ids == ["F-ESIGN"]


def test_f_esign_a_notice_that_is_the_first_communication_needs_none(office_a):
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        scene.account.validation_notices.all().delete()
    outcome = scene.decide_one("email", content=frozenset({"validation_notice"}))
    assert outcome.outcome == "allow", outcome.explanation


# ---------- country profiles ----------


def test_in_rbi_recovery_contact_only_until_seven_in_the_evening(scene):
    scene.office.country = "IN"
    scene.office.save()
    # 18:30 in New York, where the debtor lives: allowed; 19:30: deferred.
    assert scene.decide_one("call", at=datetime(2026, 11, 17, 23, 30, tzinfo=UTC)).allowed
    late = scene.decide_one("call", at=datetime(2026, 11, 18, 0, 30, tzinfo=UTC))
    assert late.outcome == "defer" and "IN-RBI" in late.rule_ids
    assert late.defer_until == datetime(2026, 11, 18, 13, 0, tzinfo=UTC)  # 08:00 New York


def test_uk_conc_no_court_action_on_a_statute_barred_debt(scene):
    scene.office.country = "GB"
    scene.office.save()
    account = scene.account

    def save():
        with tenancy.office_context(scene.office.id):
            account.save()

    account.governing_law_state = ""
    account.charge_off_date = (NOON - timedelta(days=365 * 7)).date()
    account.last_payment_date = None
    save()
    barred = scene.decide_one("legal")
    assert barred.rule_ids == ["UK-CONC"] and "statute-barred" in barred.explanation
    account.charge_off_date = (NOON - timedelta(days=365 * 2)).date()
    save()
    assert scene.decide_one("legal").outcome == "allow"
    # Scotland: extinguished after 5 years.
    account.governing_law_state = "SC"
    account.charge_off_date = (NOON - timedelta(days=365 * 5 + 30)).date()
    save()
    assert scene.decide_one("legal").rule_ids == ["UK-CONC"]


def test_uk_conc_contact_at_reasonable_hours_only(scene):
    scene.office.country = "GB"
    scene.office.save()
    late = scene.decide_one("sms", at=datetime(2026, 11, 18, 2, 30, tzinfo=UTC))
    assert late.outcome == "defer" and "UK-CONC" in late.rule_ids
