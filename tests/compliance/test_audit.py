"""The re-audit finds planted violations, and tells slow intake from a broken gate."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command

from compliance.audit import audit
from compliance.models import ContactAttempt
from debtors.models import Consent
from recovery import tenancy
from tests.compliance.conftest import NOON


def sent(scene, channel, at, **kwargs):
    cp = scene.phone if channel in ("sms", "call") else scene.email
    return ContactAttempt.objects.create(
        debtor=scene.debtor,
        account=scene.account,
        contact_point=cp,
        channel=channel,
        occurred_at=at,
        **kwargs,
    )


def test_clean_history_has_no_violations(scene):
    with tenancy.office_context(scene.office.id):
        for day in range(3):
            sent(scene, "email", NOON - timedelta(days=day * 3))
        result = audit()
    assert result.known_at_send.attempts == 3
    assert result.known_at_send.violations == 0
    assert result.violation_rate == 0


def test_planted_violations_are_each_found(scene):
    with tenancy.office_context(scene.office.id):
        # 22:00 in New York.
        late = sent(scene, "email", NOON.replace(hour=3) + timedelta(days=1))
        # Eight calls in seven days: the 8th is the violation.
        call_times = [NOON - timedelta(days=6 - d) for d in range(7)]
        call_times.append(NOON + timedelta(hours=4))  # the 8th, inside the same 7 days
        calls = [sent(scene, "call", at, result="connected") for at in call_times]
        # An SMS after a STOP that was recorded before it went out.
        Consent.objects.create(
            debtor=scene.debtor,
            contact_point=scene.phone,
            channel="sms",
            kind="opt_out",
            source="sms_reply",
            method="STOP reply",
            effective_from=NOON + timedelta(days=2),
            recorded_at=NOON + timedelta(days=2),
        )
        after_stop = sent(scene, "sms", NOON + timedelta(days=2, hours=1))
        result = audit()
    found = {pk for pk, *_ in result.known_at_send.examples}
    assert late.pk in found
    assert calls[-1].pk in found and not ({c.pk for c in calls[:7]} & found)
    assert after_stop.pk in found
    assert result.known_at_send.by_rule["F-TIME"] == 1
    assert result.known_at_send.by_rule["F-7IN7"] == 1
    assert result.known_at_send.by_rule["T-REVOKE"] == 1
    assert result.known_at_send.violations == 3


def test_a_stop_recorded_after_the_send_counts_only_on_facts_known_now(scene):
    with tenancy.office_context(scene.office.id):
        text = sent(scene, "sms", NOON)
        # The STOP arrived an hour before the text but was keyed in the next day.
        Consent.objects.create(
            debtor=scene.debtor,
            contact_point=scene.phone,
            channel="sms",
            kind="opt_out",
            source="sms_reply",
            method="STOP reply",
            effective_from=NOON - timedelta(hours=1),
            recorded_at=NOON + timedelta(days=1),
        )
        result = audit()
    assert result.known_at_send.violations == 0
    assert result.known_now.violations == 1
    assert text.pk in {pk for pk, *_ in result.known_now.examples}


def test_command_prints_the_send_time_rate_last(scene):
    with tenancy.office_context(scene.office.id):
        sent(scene, "email", NOON)
        sent(scene, "email", NOON.replace(hour=3))  # 22:00 New York
    out = StringIO()
    call_command("compliance_audit", f"--office={scene.office.slug}", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("Compliance violation rate (facts known at send time): 50.0000%")
