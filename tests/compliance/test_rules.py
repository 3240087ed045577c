"""One case allowed and one blocked (or deferred) per catalogue row."""

from datetime import timedelta

import pytest

from compliance import services
from compliance.models import ContactAttempt, Dispute
from debtors.models import Circumstance, ContactPreference
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene


def add_calls(scene, n, *, start, result="connected", gap=timedelta(hours=20)):
    with tenancy.office_context(scene.office.id):
        ContactAttempt.objects.bulk_create(
            ContactAttempt(office=scene.office, debtor=scene.debtor, account=scene.account,
                           contact_point=scene.phone, channel="call", result=result,
                           occurred_at=start + i * gap)
            for i in range(n)
        )  # fmt: skip


def circumstance(scene, kind, **details):
    with tenancy.office_context(scene.office.id):
        Circumstance.objects.create(
            debtor=scene.debtor,
            kind=kind,
            source="agent",
            details=details,
            effective_from=NOON - timedelta(days=1),
        )


def test_a_plain_email_is_allowed_with_its_disclosures(agency_scene):
    outcome = agency_scene.decide_one("email")
    assert outcome.outcome == "allow", outcome.explanation
    rules = [d["rule"] for d in outcome.disclosures]
    assert rules == ["F-MIRANDA", "F-OPTOUT"]
    assert "attempt to collect a debt" in outcome.disclosures[0]["text"]


def test_first_party_never_says_debt_collector(scene):
    outcome = scene.decide_one("email")
    assert outcome.outcome == "allow"
    assert all("debt collector" not in d["text"] for d in outcome.disclosures)
    assert all("collect a debt" not in d["text"] for d in outcome.disclosures)


def test_spanish_speaker_gets_spanish_disclosures(agency_scene):
    agency_scene.debtor.language = "es"
    with tenancy.office_context(agency_scene.office.id):
        agency_scene.debtor.save()
    outcome = agency_scene.decide_one("email", at=NOON)
    texts = " ".join(d["text"] for d in outcome.disclosures)
    assert outcome.outcome == "allow"
    assert "intento de cobrar una deuda" in texts
    assert "darse de baja" in texts


def test_f_time_defers_to_eight_in_the_morning(scene):
    early = NOON.replace(hour=11)  # 06:00 in New York
    outcome = scene.decide_one("email", at=early)
    assert outcome.outcome == "defer"
    assert outcome.rule_ids == ["F-TIME"]
    assert outcome.defer_until == NOON.replace(hour=13)  # 08:00 New York
    assert scene.decide_one("email", at=NOON).outcome == "allow"


def test_f_time_holds_in_every_candidate_zone(scene):
    # A Los Angeles mobile too: 08:00 must have come in Los Angeles as well.
    with tenancy.office_context(scene.office.id):
        from debtors.services import contact_point_add

        contact_point_add(
            debtor=scene.debtor, kind="phone", value="+13105550100", source="skip_trace"
        )
    outcome = scene.decide_one("email", at=NOON.replace(hour=14))  # 09:00 NY, 06:00 LA
    assert outcome.outcome == "defer"
    assert outcome.defer_until == NOON.replace(hour=16)


def test_f_pref_inconvenient_time_and_medium(scene):
    with tenancy.office_context(scene.office.id):
        ContactPreference.objects.create(
            debtor=scene.debtor,
            kind="inconvenient_time",
            source="debtor",
            value={"from": "09:00", "to": "12:00"},
            effective_from=NOON - timedelta(days=2),
        )
        ContactPreference.objects.create(
            debtor=scene.debtor,
            kind="no_contact_channel",
            source="debtor",
            value={"channel": "call"},
            effective_from=NOON - timedelta(days=2),
        )
    outcome = scene.decide_one("email", at=NOON)  # 10:00 NY
    assert outcome.outcome == "defer" and "F-PREF" in outcome.rule_ids
    assert outcome.defer_until == NOON.replace(hour=17)  # 12:00 NY
    assert scene.decide_one("email", at=NOON.replace(hour=18)).outcome == "allow"
    call = scene.decide_one("call", at=NOON.replace(hour=18))
    assert call.outcome == "block" and "F-PREF" in call.rule_ids


@pytest.mark.parametrize(
    ("kind", "rule", "details"),
    [
        ("attorney", "F-ATTY", {"firm": "Lee & Park LLP"}),
        ("bankruptcy", "F-STAY", {"chapter": 7, "case": "26-10001"}),
        ("deceased", "F-DECEASED", {}),
        ("identity_theft", "F-PAID", {}),
    ],
)
def test_circumstances_block_collection(scene, kind, rule, details):
    assert scene.decide_one("email").outcome == "allow"
    circumstance(scene, kind, **details)
    outcome = scene.decide_one("email")
    assert outcome.outcome == "block"
    assert rule in outcome.rule_ids
    assert outcome.decision.explanation.startswith("Blocked")


def test_bankruptcy_stay_does_not_stop_a_receipt_for_the_debtors_own_payment(scene):
    circumstance(scene, "bankruptcy", chapter=13)
    receipt = scene.decide_one("email", debtor_initiated=True)
    assert receipt.outcome == "allow"
    assert receipt.rule_ids[0] == "F-RESPONSE"


def test_f_response_answers_out_of_hours(scene):
    late = NOON.replace(hour=4)  # 23:00 in New York
    assert scene.decide_one("email", at=late).outcome == "defer"
    assert scene.decide_one("email", at=late, debtor_initiated=True).outcome == "allow"


def test_f_work_never_emails_a_work_address(scene):
    with tenancy.office_context(scene.office.id):
        scene.email.is_work = True
        scene.email.save()
    outcome = scene.decide_one("email")
    assert outcome.outcome == "block" and "F-WORK" in outcome.rule_ids


def test_f_cease_allows_only_final_notices(scene):
    with tenancy.office_context(scene.office.id):
        services.hold_place(
            debtor=scene.debtor,
            kind="cease",
            scope="debtor",
            source="letter",
            effective_from=NOON - timedelta(days=1),
        )
    assert scene.decide_one("email").outcome == "block"
    final = scene.decide_one("letter", content=frozenset({"final_notice"}))
    assert final.outcome == "allow", final.explanation


def test_f_email_needs_a_qualified_address(scene):
    with tenancy.office_context(scene.office.id):
        scene.email.email_qualification = ""
        scene.email.save()
    assert scene.decide_one("email").rule_ids == ["F-EMAIL"]
    with tenancy.office_context(scene.office.id):
        scene.email.email_qualification = "creditor_notice"
        scene.email.email_qualified_at = NOON - timedelta(days=10)
        scene.email.save()
    waiting = scene.decide_one("email")
    assert (
        waiting.outcome == "defer"
        and waiting.defer_until.date() == (NOON + timedelta(days=25)).date()
    )


def test_f_7in7_counts_calls_and_ignores_never_connected(scene):
    add_calls(scene, 7, start=NOON - timedelta(days=6), result="connected")
    outcome = scene.decide_one("call")
    assert outcome.outcome == "defer" and "F-7IN7" in outcome.rule_ids
    assert "7 calls already placed" in outcome.explanation


def test_f_7in7_excludes_busy_signals(scene):
    add_calls(scene, 7, start=NOON - timedelta(days=6), result="not_connected")
    assert scene.decide_one("call").outcome == "allow"


def test_f_7in7_cool_off_after_a_conversation(scene):
    add_calls(scene, 1, start=NOON - timedelta(days=3), result="conversation")
    outcome = scene.decide_one("call")
    assert outcome.outcome == "defer"
    assert "conversation" in outcome.explanation
    # Day 1 is the conversation day: calls resume on day 8 (local), at 08:00.
    assert outcome.defer_until.astimezone(scene.office_tz()).day == (NOON + timedelta(days=4)).day


def test_f_harass_caps_texts_per_week(scene):
    for n in range(3):
        assert scene.decide_one("sms", at=NOON + timedelta(hours=n), reserve=True).allowed
    fourth = scene.decide_one("sms", at=NOON + timedelta(hours=4))
    assert fourth.outcome == "defer" and fourth.rule_ids == ["F-HARASS"]
    assert fourth.defer_until == NOON + timedelta(days=7)


def test_f_vn_validation_notice_first(office_a):
    fresh = Scene(office_a)
    with tenancy.office_context(office_a.id):
        fresh.account.validation_notices.all().delete()
    outcome = fresh.decide_one("email")
    assert outcome.outcome == "block" and outcome.rule_ids == ["F-VN"]
    notice = fresh.decide_one("letter", content=frozenset({"validation_notice"}))
    assert notice.outcome == "allow"


def test_f_vn_returned_notice_must_be_resent(office_a):
    fresh = Scene(office_a)
    with tenancy.office_context(office_a.id):
        fresh.account.validation_notices.update(returned_at=NOON - timedelta(days=30))
    assert "came back undeliverable" in fresh.decide_one("email").explanation


def test_f_dispute_pauses_collection_until_verification(scene):
    with tenancy.office_context(scene.office.id):
        dispute = services.dispute_record(
            account=scene.account, received_via="portal", received_at=NOON - timedelta(days=1)
        )
    outcome = scene.decide_one("email")
    assert outcome.outcome == "block" and "F-DISPUTE" in outcome.rule_ids
    verification = scene.decide_one("letter", content=frozenset({"verification"}))
    assert "F-DISPUTE" not in verification.rule_ids
    with tenancy.office_context(scene.office.id):
        Dispute.objects.filter(pk=dispute.pk).update(
            status="verified", verification_sent_at=NOON - timedelta(hours=2)
        )
        services.hold_lift(hold=dispute.hold, lifted_by=None, at=NOON - timedelta(hours=2))
    assert scene.decide_one("email").outcome == "allow"


def test_f_overshadow_during_the_validation_period(office_a):
    fresh = Scene(office_a)
    with tenancy.office_context(office_a.id):
        fresh.account.validation_notices.all().delete()
        services.validation_notice_record(
            account=fresh.account, channel="email", sent_at=NOON - timedelta(days=3)
        )
    pushy = fresh.decide_one("email", content=frozenset({"overshadows"}))
    assert pushy.outcome == "block" and "F-OVERSHADOW" in pushy.rule_ids
    assert fresh.decide_one("email").outcome == "allow"


def test_f_paid_account_gets_no_collection(scene):
    from accounts.services import account_transition

    with tenancy.office_context(scene.office.id):
        account_transition(account=scene.account, status="paid")
    assert scene.decide_one("email").rule_ids == ["F-PAID"]


@pytest.mark.parametrize(("state", "last_payment_years_ago", "expected"), [
    ("NY", 5, "block"), ("NY", 1, "allow"), ("ZZ", 1, "block"),
])  # fmt: skip
def test_f_timebar_blocks_legal_on_barred_or_unknown_debt(
    office_a, state, last_payment_years_ago, expected
):
    fresh = Scene(office_a)
    with tenancy.office_context(office_a.id):
        fresh.account.governing_law_state = state
        fresh.account.last_payment_date = (
            NOON - timedelta(days=365 * last_payment_years_ago)
        ).date()
        fresh.account.save()
    outcome = fresh.decide_one("legal")
    assert outcome.outcome == expected, outcome.explanation
    if expected == "block":
        assert outcome.rule_ids == ["F-TIMEBAR"]


def test_scra_needs_a_review_before_legal(scene):
    with tenancy.office_context(scene.office.id):
        scene.account.last_payment_date = (NOON - timedelta(days=100)).date()
        scene.account.save()
    circumstance(scene, "servicemember")
    assert scene.decide_one("legal").rule_ids == ["SCRA"]
    assert scene.decide_one("legal", content=frozenset({"scra_review"})).outcome == "allow"


def test_f_media_refuses_postcards(scene):
    assert scene.decide_one("postcard").rule_ids == ["F-MEDIA"]


def test_t_revoke_stop_blocks_texts_at_once(scene):
    with tenancy.office_context(scene.office.id):
        services.consent_record(
            contact_point=scene.phone,
            channel="sms",
            kind="opt_out",
            source="sms_reply",
            method="STOP reply",
            effective_from=NOON - timedelta(minutes=5),
        )
    outcome = scene.decide_one("sms")
    assert outcome.outcome == "block" and "T-REVOKE" in outcome.rule_ids
    assert "+1212" not in outcome.explanation  # no personal data in decisions
    assert scene.decide_one("email").outcome == "allow"  # other channels unaffected


def test_t_consent_needs_a_number_the_debtor_gave(scene):
    with tenancy.office_context(scene.office.id):
        scene.phone.source = "skip_trace"
        scene.phone.save()
    assert "T-CONSENT" in scene.decide_one("sms").rule_ids


def test_f_sms60_and_t_rnd_need_recent_consent_or_a_check(scene):
    with tenancy.office_context(scene.office.id):
        scene.phone.last_consent_at = NOON - timedelta(days=90)
        scene.phone.save()
    assert set(scene.decide_one("sms").rule_ids) == {"F-SMS60", "T-RND"}
    with tenancy.office_context(scene.office.id):
        scene.phone.last_reassigned_check_at = NOON - timedelta(days=3)
        scene.phone.save()
    assert scene.decide_one("sms").outcome == "allow"


def test_t_carrier_blocks_third_party_sms_unless_the_provider_permits(agency_scene):
    assert "T-CARRIER" in agency_scene.decide_one("sms").rule_ids
    from compliance.models import OfficePolicy

    with tenancy.office_context(agency_scene.office.id):
        OfficePolicy.objects.create(
            sms_provider_permits_third_party=True, effective_from=NOON - timedelta(days=1)
        )
    assert agency_scene.decide_one("sms").outcome == "allow"


def test_ma_two_phone_communications_per_week(office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    ma = Scene(office_a, state="MA", zip_code="02108", phone="+16175550100")
    add_calls(ma, 2, start=NOON - timedelta(days=3))
    outcome = ma.decide_one("call")
    assert outcome.outcome == "defer" and "MA-CALLS" in outcome.rule_ids
    assert ma.decide_one("email").outcome == "allow"


def test_wa_three_communications_a_week(office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    wa = Scene(office_a, state="WA", zip_code="98101", phone="+12065550100")
    for n in range(3):
        assert wa.decide_one("email", at=NOON + timedelta(hours=6 + n), reserve=True).allowed
    outcome = wa.decide_one("letter", at=NOON + timedelta(hours=10))
    assert outcome.outcome == "defer" and "WA" in outcome.rule_ids


def test_nyc_rules_apply_only_when_switched_on(scene):
    from compliance.models import OfficePolicy

    assert scene.decide_one("email").outcome == "allow"
    with tenancy.office_context(scene.office.id):
        OfficePolicy.objects.create(nyc_rules_enabled=True, effective_from=NOON - timedelta(1))
    outcome = scene.decide_one("email")
    assert outcome.outcome == "block" and "NYC" in outcome.rule_ids


def test_office_policy_can_only_tighten(scene):
    from compliance.models import OfficePolicy

    with tenancy.office_context(scene.office.id):
        OfficePolicy.objects.create(
            earliest_hour=6,
            latest_hour=23,
            caps_per_7_days={"sms": 1},
            effective_from=NOON - timedelta(days=1),
        )
    # A looser window is ignored: 07:00 in New York stays deferred.
    assert scene.decide_one("email", at=NOON.replace(hour=12)).outcome == "defer"
    assert scene.decide_one("sms", reserve=True).allowed
    assert scene.decide_one("sms", at=NOON + timedelta(hours=1)).rule_ids == ["F-HARASS"]


def test_hardship_hold_pauses_collection(scene):
    with tenancy.office_context(scene.office.id):
        services.hold_place(
            debtor=scene.debtor,
            kind="hardship",
            scope="account",
            account=scene.account,
            source="portal",
            effective_from=NOON - timedelta(days=1),
        )
    assert scene.decide_one("email").rule_ids == ["HOLD"]


def test_decisions_are_stored_and_the_batch_costs_constant_queries(
    scene, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(n):
        attempts = [scene.attempt("email", at=NOON + timedelta(minutes=i)) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = scene.decide(*attempts, reserve=True)
        return len(ctx.captured_queries), outcomes

    small, _ = run(2)
    large, outcomes = run(40)
    assert large == small
    assert all(o.decision.pk for o in outcomes)


def test_office_policy_can_switch_a_channel_off(scene):
    from compliance.models import OfficePolicy

    with tenancy.office_context(scene.office.id):
        OfficePolicy.objects.create(channels_enabled=["email", "letter"],
                                    effective_from=NOON - timedelta(days=1))  # fmt: skip
    assert scene.decide_one("email").outcome == "allow"
    call = scene.decide_one("call")
    assert call.outcome == "block" and call.rule_ids == ["OFFICE"]


def test_letters_are_not_held_to_calling_hours(scene):
    assert scene.decide_one("letter", at=NOON.replace(hour=3)).outcome == "allow"
