"""F-3P: a third party may be asked once where the debtor is, never told about the debt;
those treated as the debtor (spouse, a minor's parent, guardian, executor) are not third
parties."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Event
from compliance import services
from compliance.models import ContactAttempt, Decision
from debtors.models import ContactPoint
from debtors.services import contact_point_add
from recovery import tenancy
from tests.compliance.conftest import NOON

LOCATION = frozenset({"location_inquiry"})


def rows(scene, model, **filters):
    with tenancy.office_context(scene.office.id):
        return list(model.objects.filter(**filters))


def point(scene, relation, value="+12125550177"):
    with tenancy.office_context(scene.office.id):
        return contact_point_add(debtor=scene.debtor, kind="phone", value=value, source="agent",
                                 phone_type="landline", relation=relation)  # fmt: skip


def call(scene, cp, at=NOON, content=LOCATION, **kwargs):
    return scene.decide_one("call", at=at, contact_point_id=cp.id, content=content, **kwargs)


def test_f_3p_one_location_inquiry_then_blocked(agency_scene):
    sister = point(agency_scene, "relative")
    first = call(agency_scene, sister, reserve=True)
    assert first.allowed, first.explanation
    # Nothing about the debt in what the caller must say to a third party.
    assert not first.disclosures
    second = call(agency_scene, sister, at=NOON + timedelta(days=20))
    assert second.outcome == "block" and second.rule_ids == ["F-3P"]
    assert second.explanation == (
        "Blocked: this third party (relative) was already asked on Nov 17 where the debtor "
        "is; a location inquiry is once only."
    )


def test_f_3p_a_call_that_never_connected_is_not_the_inquiry(agency_scene):
    employer = point(agency_scene, "employer")
    with tenancy.office_context(agency_scene.office.id):
        ContactAttempt.objects.create(debtor=agency_scene.debtor, account=agency_scene.account,
                                      contact_point=employer, channel="call",
                                      result="not_connected",
                                      occurred_at=NOON - timedelta(days=2))  # fmt: skip
    assert call(agency_scene, employer).allowed


def test_f_3p_two_inquiries_in_one_batch_take_one_slot(agency_scene):
    neighbour = point(agency_scene, "neighbour")
    first, second = agency_scene.decide(
        agency_scene.attempt("call", contact_point_id=neighbour.id, content=LOCATION),
        agency_scene.attempt("call", at=NOON + timedelta(hours=1), contact_point_id=neighbour.id,
                             content=LOCATION),
    )  # fmt: skip
    assert first.allowed and second.rule_ids == ["F-3P"]


@pytest.mark.parametrize("content", [frozenset(), frozenset({"location_inquiry", "mentions_debt"})])
def test_f_3p_anything_but_a_plain_location_inquiry_is_blocked(agency_scene, content):
    outcome = call(agency_scene, point(agency_scene, "relative"), content=content)
    assert outcome.rule_ids == ["F-3P"]
    assert "without mentioning the debt" in outcome.explanation


@pytest.mark.parametrize("relation", ["spouse", "guardian", "executor", "estate_rep"])
def test_f_3p_those_treated_as_the_debtor_are_not_third_parties(agency_scene, relation):
    cp = point(agency_scene, relation)
    for day in (0, 9):
        outcome = call(agency_scene, cp, at=NOON + timedelta(days=day), content=frozenset(),
                       reserve=True)  # fmt: skip
        assert outcome.allowed, outcome.explanation
        assert "F-3P" not in outcome.rule_ids


# ---------- the agent's action ----------


def log(scene, relation="relative", phone="(212) 555-0177"):
    with tenancy.office_context(scene.office.id):
        return services.location_inquiry_log(
            account=scene.account, relation=relation, phone=phone, at=NOON
        )


def test_an_agent_logs_one_location_inquiry_and_is_refused_a_second(agency_scene):
    assert log(agency_scene).allowed
    [cp] = rows(agency_scene, ContactPoint, relation="relative")
    assert cp.value == "+12125550177" and cp.is_third_party
    [ledger] = rows(agency_scene, ContactAttempt, contact_point=cp)
    [event] = rows(agency_scene, Event, account=agency_scene.account, kind="call")
    assert event.summary.startswith("Location inquiry to a third party (relative)")
    assert "555" not in event.summary + str(event.data)
    again = log(agency_scene, phone="+1 212 555 0177")
    assert not again.allowed and again.rule_ids == ["F-3P"]
    assert len(rows(agency_scene, ContactAttempt, contact_point=cp)) == 1
    # Both decisions are kept (F-RETAIN).
    assert len(rows(agency_scene, Decision, contact_point_id=cp.id)) == 2
    assert ledger.decision_id is not None


@pytest.mark.parametrize(
    ("relation", "phone", "message"),
    [
        ("spouse", "+12125550177", "Choose who the third party is"),
        ("relative", "not a number", "is not a phone number"),
        ("relative", "+12125550100", "on file as the debtor's own"),  # the scene's mobile
    ],
)
def test_a_bad_location_inquiry_is_refused(agency_scene, relation, phone, message):
    with pytest.raises(ValidationError, match=message):
        log(agency_scene, relation=relation, phone=phone)
    assert not rows(agency_scene, ContactAttempt)
    assert not rows(agency_scene, ContactPoint, relation=relation)


def test_the_account_page_checks_a_location_inquiry(client, login, agency_scene, agent_a):
    login(agent_a)
    base = f"/o/{agency_scene.office.slug}"
    page = client.get(f"{base}/accounts/{agency_scene.account.pk}/").content.decode()
    assert "Ask a third party where the debtor is" in page
    target = f"{base}/compliance/accounts/{agency_scene.account.pk}/location-inquiry/"
    form = {"relation": "employer", "phone": "+12125550188"}
    with time_machine.travel(NOON, tick=False):  # 10:00 in New York: F-TIME is not the point
        first = client.post(target, form)
        assert first.status_code == 302
        assert "do not mention the debt" in client.get(first["Location"]).content.decode()
        second = client.post(target, form)
    assert second.status_code == 200
    body = second.content.decode()
    assert "Do not call." in body and "a location inquiry is once only" in body


def test_a_number_that_is_not_one_is_marked_at_the_number(client, login, agency_scene, agent_a):
    login(agent_a)
    base = f"/o/{agency_scene.office.slug}"
    target = f"{base}/compliance/accounts/{agency_scene.account.pk}/location-inquiry/"
    response = client.post(target, {"relation": "employer", "phone": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "“12345” is not a valid phone number for US."
    ]
    assert not rows(agency_scene, ContactPoint, relation="employer")
