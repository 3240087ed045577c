"""Hardship forbearance (the office's policy: pause for N days) and F-PASSIVE (no
furnishing to credit bureaus before contact)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from compliance import services
from compliance.models import ContactAttempt, Hold, OfficePolicy
from compliance.rules import catalogue
from debtors.models import ContactPoint
from portal import services as portal_services
from recovery import tenancy
from tests.compliance.conftest import NOON


def in_office(scene):
    return tenancy.office_context(scene.office.id)


def set_hardship_days(scene, days):
    with in_office(scene):
        OfficePolicy.objects.create(
            hardship_pause_days=days, effective_from=NOON - timedelta(days=5)
        )


# ---------- hardship ----------


def test_hardship_grant_pauses_collection_for_the_policys_days(scene):
    with in_office(scene), time_machine.travel(NOON, tick=False):
        hold = services.hardship_grant(account=scene.account, source="agent", reason="Lost job")
    assert hold.kind == Hold.Kind.HARDSHIP and hold.scope == "account"
    assert hold.source == "agent" and hold.effective_from == NOON
    # 30 days by default, through the whole last day (office zone: New York).
    assert NOON + timedelta(days=30) < hold.effective_to <= NOON + timedelta(days=31)
    blocked = scene.decide_one("email", at=NOON + timedelta(hours=1))
    assert blocked.outcome == "block" and blocked.rule_ids == ["HOLD"]
    assert "hardship forbearance hold" in blocked.explanation
    # The debtor's own action is still answered (F-RESPONSE)...
    reply = scene.decide_one("email", at=NOON + timedelta(hours=1), debtor_initiated=True)
    assert reply.allowed and reply.rule_ids[0] == "F-RESPONSE"
    # ...and collection resumes when the pause ends.
    assert scene.decide_one("email", at=NOON + timedelta(days=32)).allowed


def test_hardship_pause_follows_the_policy_and_zero_means_none(scene):
    set_hardship_days(scene, 10)
    with in_office(scene), time_machine.travel(NOON, tick=False):
        hold = services.hardship_grant(debtor=scene.debtor, source="agent")
        assert hold.scope == "debtor"
        assert NOON + timedelta(days=10) < hold.effective_to <= NOON + timedelta(days=11)
        # A second request inside the pause adds nothing.
        assert services.hardship_grant(account=scene.account, source="portal") is None
    set_hardship_days(scene, 0)
    with in_office(scene), time_machine.travel(NOON + timedelta(days=20), tick=False):
        assert services.hardship_grant(account=scene.account, source="portal") is None


def test_portal_hardship_request_places_the_hold(scene):
    with in_office(scene), time_machine.travel(NOON, tick=False):
        portal_services.hardship_request(account=scene.account, reasons=["illness"], note="Ill")
        hold = Hold.objects.get(debtor=scene.debtor, kind="hardship")
    assert hold.source == "portal" and hold.account_id == scene.account.id
    assert "illness" in hold.reason
    assert scene.decide_one("sms", at=NOON + timedelta(hours=1)).rule_ids == ["HOLD"]


def test_policy_change_keeps_or_sets_the_hardship_days(scene):
    kwargs = {
        "caps_per_7_days": {"email": 3, "sms": 3, "call": 7},
        "earliest_hour": 8,
        "latest_hour": 21,
        "channels_enabled": ["email", "sms"],
        "first_party_follows_reg_f": True,
        "sms_provider_permits_third_party": False,
        "nyc_rules_enabled": False,
        "changed_by": None,
        "office": scene.office,
    }
    with in_office(scene):
        policy = services.policy_change(reason="Email and SMS only", **kwargs)
        assert policy.hardship_pause_days == 30
        policy = services.policy_change(reason="Longer pause", hardship_pause_days=45, **kwargs)
        assert policy.hardship_pause_days == 45
        assert services.hardship_pause_days(scene.office) == 45
        with pytest.raises(ValidationError):
            services.policy_change(reason="Too long", hardship_pause_days=400, **kwargs)


# ---------- F-PASSIVE ----------


def furnish(scene, at=NOON):
    return scene.decide_one("furnish", at=at, contact_point_id=None)


def ledger(scene, *, channel, at, result="attempted", contact_point=None):
    with in_office(scene):
        ContactAttempt.objects.create(
            office=scene.office,
            debtor=scene.debtor,
            account=scene.account,
            contact_point=contact_point,
            channel=channel,
            result=result,
            occurred_at=at,
        )


def test_f_passive_is_in_the_catalogue():
    rule = next(r for r in catalogue() if r.id == "F-PASSIVE")
    assert rule.concerns("furnish") and not rule.concerns("email")


def test_f_passive_allows_after_a_delivered_notice(agency_scene):
    # The validation notice went out 60 days ago and did not come back.
    outcome = furnish(agency_scene)
    assert outcome.allowed, outcome.explanation
    assert "F-MIRANDA" not in outcome.rule_ids and not outcome.disclosures


def test_f_passive_blocks_without_contact(agency_scene):
    with in_office(agency_scene):
        agency_scene.account.validation_notices.update(returned_at=NOON - timedelta(days=50))
    outcome = furnish(agency_scene)
    assert outcome.outcome == "block" and outcome.rule_ids == ["F-PASSIVE"]
    assert "credit bureaus" in outcome.explanation


def test_f_passive_waits_14_days_after_a_message(agency_scene):
    with in_office(agency_scene):
        agency_scene.account.validation_notices.all().delete()
    sent = NOON - timedelta(days=5)
    ledger(agency_scene, channel="email", at=sent, contact_point=agency_scene.email)
    outcome = furnish(agency_scene)
    assert outcome.outcome == "defer" and outcome.rule_ids == ["F-PASSIVE"]
    assert outcome.defer_until == sent + timedelta(days=14)
    assert furnish(agency_scene, at=sent + timedelta(days=14)).allowed


def test_f_passive_ignores_messages_that_bounced(agency_scene):
    with in_office(agency_scene):
        agency_scene.account.validation_notices.all().delete()
        ContactPoint.objects.filter(pk=agency_scene.email.pk).update(validity="bounced")
    ledger(
        agency_scene,
        channel="email",
        at=NOON - timedelta(days=30),
        contact_point=agency_scene.email,
    )
    assert furnish(agency_scene).rule_ids == ["F-PASSIVE"]


def test_f_passive_allows_after_a_conversation(agency_scene):
    with in_office(agency_scene):
        agency_scene.account.validation_notices.all().delete()
    ledger(
        agency_scene,
        channel="call",
        at=NOON - timedelta(days=1),
        result="conversation",
        contact_point=agency_scene.phone,
    )
    assert furnish(agency_scene).allowed
