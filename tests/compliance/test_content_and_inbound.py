from datetime import timedelta

import pytest

from compliance import content, services
from recovery import tenancy
from recovery.models import WorkItem
from tests.compliance.conftest import NOON


@pytest.mark.parametrize(("text", "flags"), [
    ("Hi Rosa, here are some options that may help.", set()),
    ("If you do not pay we will take legal action.", {"threatens_suit"}),
    ("We may file a lawsuit.", {"threatens_suit"}),
    ("Pay within 10 days to avoid further action.", {"overshadows"}),
    ("Final demand: we will sue.", {"overshadows", "threatens_suit"}),
])  # fmt: skip
def test_content_flags(text, flags):
    assert content.content_flags(text) == flags


def test_template_problems_say_what_to_fix():
    problems = content.template_problems("Pay within 10 days or we sue.")
    assert any("F-OVERSHADOW" in p for p in problems)
    assert any("F-TIMEBAR" in p and "“sue”" in p for p in problems)
    assert content.template_problems("Hello from Harbor, please call Ana at 555-0100.",
                                     kind="voicemail") == []  # fmt: skip
    lcm = content.template_problems("Please call about your past due balance.", kind="voicemail")
    assert len(lcm) == 1 and "F-LCM" in lcm[0]


def test_a_threatening_template_is_blocked_by_the_gate_on_unknown_limitation(scene):
    flags = content.content_flags("Pay or we will take legal action.")
    outcome = scene.decide_one("letter", content=flags)
    assert outcome.outcome == "block"
    assert "F-TIMEBAR" in outcome.rule_ids


@pytest.mark.parametrize("body", ["STOP", " stop ", "Unsubscribe", "QUIT", "opt out"])
def test_stop_keywords_opt_the_number_out_of_texts_at_once(scene, body):
    with tenancy.office_context(scene.office.id):
        done = services.sms_inbound_record(
            from_number=scene.phone.value, body=body, received_at=NOON - timedelta(minutes=2)
        )
    assert done == "opted_out"
    assert "T-REVOKE" in scene.decide_one("sms").rule_ids


def test_start_opts_back_in(scene):
    with tenancy.office_context(scene.office.id):
        services.sms_inbound_record(
            from_number=scene.phone.value, body="STOP", received_at=NOON - timedelta(hours=2)
        )
        done = services.sms_inbound_record(
            from_number=scene.phone.value, body="START", received_at=NOON - timedelta(hours=1)
        )
    assert done == "opted_in"
    assert scene.decide_one("sms").outcome == "allow"


def test_plain_language_revocation_goes_to_a_person(scene):
    with tenancy.office_context(scene.office.id):
        done = services.sms_inbound_record(
            from_number=scene.phone.value, body="Please stop texting me at work"
        )
        item = WorkItem.objects.get()
    assert done == "review"
    assert item.account_id == scene.account.id
    assert "revoke" in item.title


def test_other_replies_change_nothing(scene):
    with tenancy.office_context(scene.office.id):
        assert services.sms_inbound_record(from_number=scene.phone.value, body="ok thanks") == (
            "none"
        )
        assert services.sms_inbound_record(from_number="+19995550000", body="STOP") == "none"
