"""What a verified debtor does, and what it changes for the rules and the office."""

import io
from datetime import timedelta

import time_machine

from accounts.models import Event
from compliance.models import Dispute, Hold
from debtors.models import Consent, ContactPreference
from portal.models import PortalMessage
from recovery.models import Document, WorkItem
from tests.compliance.conftest import NOON
from tests.portal.conftest import in_office


def test_dispute_places_a_hold_and_blocks_planned_collection_email(verified, portal_scene):
    scene = portal_scene
    assert scene.decide_one("email", at=NOON + timedelta(hours=1)).outcome == "allow"
    upload = io.BytesIO(b"%PDF-1.4 receipt")
    upload.name = "receipt.pdf"
    with time_machine.travel(NOON, tick=False):
        response = verified.post(
            f"/p/accounts/{scene.account.id}/dispute/",
            {"scope": "all", "reason": "paid", "details": "Paid in March", "documents": upload},
        )
    assert response.status_code == 302
    page = verified.get(response["Location"]).content.decode()
    assert "What happens next" in page and "paused collection" in page
    with in_office(scene.office):
        dispute = Dispute.objects.get(account=scene.account)
        assert dispute.received_via == "portal"
        assert dispute.reason.startswith("I already paid it")
        assert dispute.hold.kind == Hold.Kind.DISPUTE
        assert WorkItem.objects.filter(account=scene.account, kind="dispute").exists()
        assert Document.objects.filter(account=scene.account, kind="upload").count() == 1
        assert Event.objects.filter(
            account=scene.account, summary__startswith="Dispute filed in the portal"
        ).exists()
    # The email planned for an hour later is blocked when the gate sees it.
    decision = scene.decide_one("email", at=NOON + timedelta(hours=1))
    assert decision.outcome == "block"
    assert "F-DISPUTE" in decision.rule_ids


def test_part_dispute_checks_the_amount(verified, portal_scene):
    url = f"/p/accounts/{portal_scene.account.id}/dispute/"
    response = verified.post(url, {"scope": "part", "amount": "900", "reason": "wrong_amount"})
    assert response.status_code == 400
    assert "no more than $500.00" in response.content.decode()
    response = verified.post(url, {"scope": "part", "amount": "120.50", "reason": "wrong_amount"})
    assert response.status_code == 302
    with in_office(portal_scene.office):
        dispute = Dispute.objects.get(account=portal_scene.account)
    assert dispute.is_partial and str(dispute.disputed_amount) == "120.50"


def test_validation_information_request_pauses_collection(verified, portal_scene):
    response = verified.post(f"/p/accounts/{portal_scene.account.id}/validation/")
    assert response.status_code == 302
    with in_office(portal_scene.office):
        dispute = Dispute.objects.get(account=portal_scene.account)
    assert dispute.original_creditor_requested
    assert "original creditor" in verified.get(response["Location"]).content.decode()


def test_preferences_are_dated_records_the_gate_follows(verified, portal_scene):
    scene = portal_scene
    with time_machine.travel(NOON, tick=False):
        response = verified.post(
            "/p/preferences/",
            {
                "preferred_channel": "email",
                "quiet_times": ["mornings"],
                "opt_outs": ["sms"],
                "language": "es",
            },
        )
    assert response.status_code == 302
    with in_office(scene.office):
        prefs = ContactPreference.objects.filter(debtor=scene.debtor, effective_to__isnull=True)
        kinds = {p.kind: p for p in prefs}
        assert kinds["preferred_channel"].value == {"channel": "email"}
        assert kinds["inconvenient_time"].value["from"] == "08:00"
        assert kinds["language"].value == {"language": "es"}
        assert all(p.source == "portal" for p in prefs)
        opt_out = Consent.objects.get(contact_point=scene.phone, channel="sms", kind="opt_out")
        assert opt_out.source == "portal"
        scene.debtor.refresh_from_db()
        assert scene.debtor.language == "es"
        assert Event.objects.filter(
            account=scene.account, summary__startswith="Contact preferences changed"
        ).exists()
    # A text planned for the afternoon is now refused; a morning email waits.
    assert scene.decide_one("sms", at=NOON + timedelta(hours=3)).outcome == "block"
    morning = scene.decide_one("email", at=NOON.replace(hour=14) + timedelta(days=1))
    assert morning.outcome == "defer"
    assert "F-PREF" in morning.rule_ids
    # Saving again without changes records nothing new.
    verified.post(
        "/p/preferences/",
        {
            "preferred_channel": "email",
            "quiet_times": ["mornings"],
            "opt_outs": ["sms"],
            "language": "es",
        },
    )
    with in_office(scene.office):
        assert ContactPreference.objects.filter(debtor=scene.debtor).count() == 3
        assert Consent.objects.filter(contact_point=scene.phone, kind="opt_out").count() == 1


def test_opting_back_in_closes_nothing_and_adds_a_consent(verified, portal_scene):
    data = {"preferred_channel": "", "quiet_times": [], "language": "en"}
    verified.post("/p/preferences/", {**data, "opt_outs": ["email"]})
    verified.post("/p/preferences/", data)
    with in_office(portal_scene.office):
        kinds = list(
            Consent.objects.filter(contact_point=portal_scene.email)
            .order_by("id")
            .values_list("kind", flat=True)
        )
    assert kinds == ["opt_out", "consent"]


def test_message_goes_to_the_agent_inbox_and_replies_show(verified, portal_scene):
    from portal.services import reply_send

    response = verified.post(
        "/p/messages/",
        {"account": portal_scene.account.id, "body": "Can I pay on the 15th instead?"},
    )
    assert response.status_code == 302
    with in_office(portal_scene.office):
        item = WorkItem.objects.get(account=portal_scene.account, kind="inbox")
        assert "15th" in item.detail
        reply_send(account=portal_scene.account, body="Yes, the 15th is fine.", author=None)
        item.refresh_from_db()
        assert item.status == "done"
        assert PortalMessage.objects.filter(account=portal_scene.account).count() == 2
    overview = verified.get("/p/accounts/").content.decode()
    assert "1 new reply" in overview
    page = verified.get("/p/messages/").content.decode()
    assert "the 15th is fine" in page


def test_hardship_request_reaches_an_agent(verified, portal_scene):
    url = f"/p/accounts/{portal_scene.account.id}/hardship/"
    assert verified.post(url, {}).status_code == 400
    response = verified.post(url, {"reasons": ["job_loss"], "note": "Lost hours at work"})
    assert response.status_code == 200
    assert "Thank you for telling us" in response.content.decode()
    with in_office(portal_scene.office):
        assert WorkItem.objects.filter(
            account=portal_scene.account, title__startswith="Hardship"
        ).exists()
        assert Event.objects.filter(
            account=portal_scene.account, summary="Hardship help requested in the portal"
        ).exists()


def test_validation_notice_pdf_opens(verified, portal_scene):
    response = verified.get(f"/p/accounts/{portal_scene.account.id}/notice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content[:4] == b"%PDF"


def test_third_party_pages_carry_the_debt_collector_disclosure(verified, portal_scene):
    page = verified.get("/p/accounts/").content.decode()
    assert "This communication is from a debt collector" in page
    assert "(800) 555-0199" in page


def test_money_help_page_is_open_to_anyone(client, db):
    response = client.get("/p/help/money/")
    assert response.status_code == 200
    assert "nfcc.org" in response.content.decode()


def test_an_agent_replies_from_the_staff_conversation(verified, portal_scene, agent_a, agent_b):
    from django.test import Client

    verified.post("/p/messages/", {"account": portal_scene.account.id, "body": "Is the fee right?"})
    url = f"/o/{portal_scene.office.slug}/accounts/{portal_scene.account.id}/messages/"
    with in_office(portal_scene.office):
        item = WorkItem.objects.get(account=portal_scene.account, kind="inbox")
    assert url in item.detail
    agent = Client()
    agent.force_login(agent_a.user)
    assert "Is the fee right?" in agent.get(url).content.decode()
    assert agent.post(url, {"body": "Yes: it is in the original agreement."}).status_code == 302
    assert "original agreement" in verified.get("/p/messages/").content.decode()
    outsider = Client()
    outsider.force_login(agent_b.user)
    assert outsider.get(url).status_code == 404
    other_office_url = url.replace(portal_scene.office.slug, agent_b.office.slug)
    assert outsider.get(other_office_url).status_code == 404
