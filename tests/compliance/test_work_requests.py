"""A debtor asks not to be contacted at work: F-PREF (federal, never lapses) and MA-WORK
(Massachusetts: an oral request lasts 10 days unless confirmed in writing within 7)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Event
from compliance import services
from compliance.models import OfficePolicy
from debtors.models import ContactPreference
from debtors.services import contact_point_add
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene


def rows(scene, model, **filters):
    with tenancy.office_context(scene.office.id):
        return list(model.objects.filter(**filters))


def ma_scene(office, *, collector_type="first_party"):
    office.collector_type = collector_type
    office.save()
    scene = Scene(office, state="MA", zip_code="02108", phone="+16175550100")
    with tenancy.office_context(office.id):
        scene.work = contact_point_add(
            debtor=scene.debtor,
            kind="phone",
            value="+16175550199",
            source="debtor",
            phone_type="landline",
            is_work=True,
        )
    return scene


def ask(scene, method, made_at):
    with tenancy.office_context(scene.office.id):
        return services.work_contact_request_record(
            debtor=scene.debtor, method=method, made_at=made_at
        )


def call_work(scene, at):
    return scene.decide_one("call", at=at, contact_point_id=scene.work.id)


@pytest.fixture
def ma(office_a):
    scene = ma_scene(office_a)
    # A first-party office that does not adopt Regulation F: only MA-WORK speaks.
    with tenancy.office_context(office_a.id):
        OfficePolicy.objects.create(
            first_party_follows_reg_f=False, effective_from=NOON - timedelta(days=90)
        )
    return scene


def test_ma_work_an_oral_request_blocks_work_calls_for_ten_days(ma):
    assert call_work(ma, NOON).allowed
    made = NOON - timedelta(days=1)
    ask(ma, "oral", made)
    blocked = call_work(ma, NOON)
    assert blocked.outcome == "block" and blocked.rule_ids == ["MA-WORK"]
    assert blocked.explanation == (
        "Blocked: the debtor asked on Nov 16 (orally) not to be contacted at work; confirm "
        "in writing by Nov 23 to keep it beyond Nov 26 (MA-WORK)."
    )
    # Texts to the work number too; the home mobile is still fine.
    assert "MA-WORK" in ma.decide_one("sms", contact_point_id=ma.work.id).rule_ids
    assert ma.decide_one("call").allowed
    # After 10 days with no written confirmation it lapses.
    assert call_work(ma, made + timedelta(days=10, hours=1)).allowed


def test_ma_work_a_written_confirmation_within_seven_days_keeps_it(ma):
    made = NOON - timedelta(days=6)
    ask(ma, "oral", made)
    confirmation = ask(ma, "written", made + timedelta(days=5))
    assert confirmation.value["confirms"] is not None
    later = call_work(ma, made + timedelta(days=200))
    assert later.rule_ids == ["MA-WORK"] and "in writing on" in later.explanation


def test_ma_work_applies_only_to_debtors_who_may_be_in_massachusetts(office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    ny = Scene(office_a)
    with tenancy.office_context(office_a.id):
        ny.work = contact_point_add(
            debtor=ny.debtor,
            kind="phone",
            value="+12125550199",
            source="debtor",
            phone_type="landline",
            is_work=True,
        )
    ask(ny, "oral", NOON - timedelta(days=1))
    outcome = call_work(ny, NOON)
    assert "MA-WORK" not in outcome.rule_ids
    # …but the federal inconvenient-place rule does (the office follows Reg F's practices).
    assert outcome.rule_ids == ["F-PREF"]


def test_f_pref_work_request_does_not_lapse_for_an_agency(office_a):
    scene = ma_scene(office_a, collector_type="third_party")
    made = NOON - timedelta(days=1)
    ask(scene, "oral", made)
    assert set(call_work(scene, NOON).rule_ids) >= {"F-PREF", "MA-WORK"}
    after = call_work(scene, made + timedelta(days=30))
    assert after.outcome == "block" and after.rule_ids == ["F-PREF"]
    assert "contact at work is inconvenient" in after.explanation


def test_a_work_request_is_on_the_timeline_without_personal_data(ma):
    ask(ma, "oral", NOON - timedelta(days=1))
    [event] = rows(ma, Event, account=ma.account, kind="hold")
    assert event.summary == "The debtor asked orally not to be contacted at work"
    assert ma.work.value not in str(event.data)


@pytest.mark.parametrize(
    ("method", "made_at", "message"),
    [
        ("shouted", NOON, "orally or in writing"),
        ("oral", timezone.now() + timedelta(days=2), "cannot be in the future"),
    ],
)
def test_a_bad_work_request_is_refused_and_nothing_is_written(ma, method, made_at, message):
    with pytest.raises(ValidationError, match=message):
        ask(ma, method, made_at)
    assert not rows(ma, ContactPreference, kind="no_contact_at_work")
    assert not rows(ma, Event, account=ma.account, kind="hold")


def test_staff_record_a_work_request_from_the_account_page(client, login, ma, agent_a):
    login(agent_a)
    base = f"/o/{ma.office.slug}"
    page = client.get(f"{base}/accounts/{ma.account.pk}/").content.decode()
    assert "Debtor asks: no contact at work" in page
    target = f"{base}/compliance/accounts/{ma.account.pk}/work-request/"
    bad = client.post(target, {"made_on": ma.office.today().isoformat()})
    assert bad.status_code == 200
    assert "Say whether the debtor asked orally or in writing." in bad.content.decode()
    response = client.post(target, {"method": "oral", "made_on": ma.office.today().isoformat()})
    assert response.status_code == 302
    [saved] = rows(ma, ContactPreference, kind="no_contact_at_work")
    assert saved.value == {"method": "oral"}
    follow = client.get(response["Location"]).content.decode()
    assert "lasts 10 days" in follow and "Asked orally" in follow
