"""Sending and previewing the validation notice from the account page."""

import time_machine

from compliance.models import ValidationNotice
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene
from tests.factories import MembershipFactory


def test_agent_sends_the_notice_by_letter_and_sees_the_period_end(client, office_a):
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        scene.account.validation_notices.all().delete()
    agent = MembershipFactory(office=office_a, role="agent")
    client.force_login(agent.user)
    url = f"/o/{office_a.slug}/compliance/accounts/{scene.account.pk}/validation-notice/send/"
    with time_machine.travel(NOON, tick=False):
        page = client.post(url, {"channel": "letter"}, follow=True)
    assert "Validation notice sent by letter; the dispute period ends" in page.content.decode()
    with tenancy.office_context(office_a.id):
        assert ValidationNotice.objects.filter(account=scene.account, channel="letter").exists()


def test_a_refused_notice_says_why_and_records_nothing(client, office_a):
    from compliance import services

    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        scene.account.validation_notices.all().delete()
        services.hold_place(debtor=scene.debtor, kind="cease", scope="debtor", source="letter")
    agent = MembershipFactory(office=office_a, role="agent")
    client.force_login(agent.user)
    url = f"/o/{office_a.slug}/compliance/accounts/{scene.account.pk}/validation-notice/send/"
    page = client.post(url, {"channel": "email"}, follow=True)
    assert "Not sent. Blocked" in page.content.decode()
    with tenancy.office_context(office_a.id):
        assert not ValidationNotice.objects.exists()


def test_preview_is_a_pdf_and_outsiders_get_404(client, office_a, office_b):
    scene = Scene(office_a)
    agent = MembershipFactory(office=office_a, role="agent")
    client.force_login(agent.user)
    url = f"/o/{office_a.slug}/compliance/accounts/{scene.account.pk}/validation-notice.pdf"
    response = client.get(url + "?lang=es")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    outsider = MembershipFactory(office=office_b, role="admin")
    client.force_login(outsider.user)
    other = f"/o/{office_b.slug}/compliance/accounts/{scene.account.pk}/validation-notice.pdf"
    assert client.get(other).status_code == 404
