"""A dispute pauses collection until verification is sent; recording that resumes it."""

from datetime import timedelta

from compliance import services
from compliance.models import Dispute
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene
from tests.factories import MembershipFactory


def test_verification_lifts_the_pause_and_the_gate_allows_again(client, office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        dispute = services.dispute_record(account=scene.account, received_via="letter",
                                          received_at=NOON - timedelta(days=3))  # fmt: skip
    assert scene.decide_one("email").rule_ids == ["F-DISPUTE"]
    agent = MembershipFactory(office=office_a, role="agent")
    client.force_login(agent.user)
    url = f"/o/{office_a.slug}/compliance/disputes/{dispute.pk}/verification/"
    page = client.post(url, follow=True)
    assert "Verification recorded as sent" in page.content.decode()
    with tenancy.office_context(office_a.id):
        dispute.refresh_from_db()
        scene.account.refresh_from_db()
    assert dispute.status == Dispute.Status.VERIFIED
    assert scene.account.status == "active"
    later = scene.decide_one("email", at=dispute.verification_sent_at + timedelta(hours=1))
    assert "F-DISPUTE" not in later.rule_ids
    # Twice is refused with a sentence.
    again = client.post(url, follow=True)
    assert "already been answered" in again.content.decode()
