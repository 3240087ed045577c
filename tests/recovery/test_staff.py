"""Office admins invite staff, change roles and deactivate them; people reset passwords."""

import re

import pytest
from django.core import mail

from recovery import tenancy
from recovery.models import Invitation, Membership, User
from tests.factories import PASSWORD, CreditorFactory, MembershipFactory


def invite_link():
    assert len(mail.outbox) == 1
    match = re.search(r"http://\S+/invite/(\S+)/", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return f"/invite/{match.group(1)}/"


def test_admin_invites_and_the_invitee_sets_a_password(
    client, login, admin_a, office_a, django_capture_on_commit_callbacks
):
    login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/o/{office_a.slug}/staff/invite/",
            {"email": "New.Agent@Example.com", "role": "agent"},
        )
    assert response.status_code == 302
    assert mail.outbox[0].to == ["new.agent@example.com"]
    link = invite_link()
    client.logout()

    page = client.get(link)
    assert page.status_code == 200
    assert office_a.name in page.content.decode()
    response = client.post(
        link, {"full_name": "Nia Agent", "password1": "a-long-pass-77", "password2": "x"}
    )
    assert "differ" in response.content.decode()
    response = client.post(
        link,
        {"full_name": "Nia Agent", "password1": "a-long-pass-77", "password2": "a-long-pass-77"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/o/{office_a.slug}/"
    user = User.objects.get(email="new.agent@example.com")
    assert user.check_password("a-long-pass-77")
    assert Membership.objects.get(user=user, office=office_a).role == "agent"
    # The link works once.
    client.logout()
    assert client.get(link).status_code == 404


def test_invitation_for_creditor_role_needs_a_creditor(client, login, admin_a, office_a):
    login(admin_a)
    response = client.post(
        f"/o/{office_a.slug}/staff/invite/", {"email": "c@example.com", "role": "creditor"}
    )
    assert response.status_code == 200
    assert "Choose the creditor" in response.content.decode()
    assert not mail.outbox
    with tenancy.office_context(office_a.id):
        assert not Invitation.objects.exists()


def test_agents_cannot_manage_staff(client, login, agent_a, office_a):
    login(agent_a)
    assert client.get(f"/o/{office_a.slug}/staff/").status_code == 403
    response = client.post(
        f"/o/{office_a.slug}/staff/invite/", {"email": "x@example.com", "role": "admin"}
    )
    assert response.status_code == 403
    assert not mail.outbox


def test_admin_changes_role_and_deactivates(client, login, admin_a, agent_a, office_a):
    login(admin_a)
    url = f"/o/{office_a.slug}/staff/{agent_a.pk}/"
    assert client.post(url, {"role": "supervisor"}).status_code == 302
    agent_a.refresh_from_db()
    assert agent_a.role == "supervisor"
    assert client.post(url, {"action": "deactivate"}).status_code == 302
    agent_a.refresh_from_db()
    assert not agent_a.is_active
    # A deactivated member no longer gets into the office.
    client.logout()
    login(agent_a)
    assert client.get(f"/o/{office_a.slug}/").status_code == 404


def test_the_last_admin_cannot_be_removed(client, login, admin_a, office_a):
    login(admin_a)
    url = f"/o/{office_a.slug}/staff/{admin_a.pk}/"
    response = client.post(url, {"action": "deactivate"}, follow=True)
    assert "at least one active admin" in response.content.decode()
    response = client.post(url, {"role": "agent"})
    assert "at least one active admin" in response.content.decode()
    admin_a.refresh_from_db()
    assert admin_a.is_active and admin_a.role == "admin"


def test_password_reset_by_email(client, agent_a):
    response = client.post("/password-reset/", {"email": agent_a.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = re.search(r"/password-reset/(\S+)/(\S+)/", mail.outbox[0].body)
    assert match
    page = client.get(match.group(0), follow=True)
    assert page.status_code == 200
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "fresh-passphrase-9", "new_password2": "fresh-passphrase-9"},
    )
    assert response.status_code == 302
    agent_a.user.refresh_from_db()
    assert agent_a.user.check_password("fresh-passphrase-9")


def test_user_in_two_offices_can_switch(client, office_a, office_b):
    membership = MembershipFactory(office=office_a, role="manager")
    MembershipFactory(office=office_b, user=membership.user, role="agent")
    client.force_login(membership.user)
    page = client.get(f"/o/{office_a.slug}/")
    assert office_b.name in page.content.decode()  # the switcher lists it
    assert client.get(f"/o/{office_b.slug}/").status_code == 200
    # Home remembers the last office chosen.
    assert client.get("/")["Location"] == f"/o/{office_b.slug}/"


@pytest.mark.parametrize("role", ["agent", "creditor"])
def test_creditor_users_see_only_their_creditors_accounts(client, office_a, role):
    from tests.factories import AccountFactory

    creditor = CreditorFactory(office=office_a)
    own = AccountFactory(office=office_a, creditor=creditor)
    other = AccountFactory(office=office_a)
    member = MembershipFactory(
        office=office_a, role=role, creditor=creditor if role == "creditor" else None
    )
    client.force_login(member.user)
    listing = client.get(f"/o/{office_a.slug}/accounts/").content.decode()
    assert own.office_reference in listing
    other_url = f"/o/{office_a.slug}/accounts/{other.pk}/"
    if role == "creditor":
        assert other.office_reference not in listing
        assert client.get(other_url).status_code == 404
    else:
        assert other.office_reference in listing
        assert client.get(other_url).status_code == 200


def test_existing_login_joins_a_second_office_only_with_its_own_password(
    client, login, admin_a, office_b, django_capture_on_commit_callbacks
):
    from recovery import services

    other_admin = MembershipFactory(office=office_b, role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            office=office_b, email=admin_a.user.email, role="agent", invited_by=other_admin.user
        )
    link = invite_link()
    page = client.get(link).content.decode()
    assert "current password" in page
    response = client.post(link, {"password": "not-the-password"})
    assert "not the password of this login" in response.content.decode()
    assert not Membership.objects.filter(office=office_b, user=admin_a.user).exists()
    response = client.post(link, {"password": PASSWORD})
    assert response.status_code == 302
    assert Membership.objects.get(office=office_b, user=admin_a.user).role == "agent"
    admin_a.user.refresh_from_db()
    assert admin_a.user.check_password(PASSWORD)  # unchanged


def test_refused_deactivation_leaves_the_role_untouched_and_says_why(
    client, login, admin_a, office_a
):
    login(admin_a)
    url = f"/o/{office_a.slug}/staff/{admin_a.pk}/"
    response = client.post(url, {"action": "deactivate"}, follow=True)
    assert "at least one active admin" in response.content.decode()
    assert 'value="admin" selected' in response.content.decode()


def test_work_items_are_for_staff_and_their_assignees(client, office_a):
    from tests.factories import WorkItemFactory

    creditor = CreditorFactory(office=office_a)
    creditor_user = MembershipFactory(office=office_a, role="creditor", creditor=creditor)
    agent = MembershipFactory(office=office_a, role="agent")
    colleague = MembershipFactory(office=office_a, role="agent")
    supervisor = MembershipFactory(office=office_a, role="supervisor")
    item = WorkItemFactory(office=office_a, assignee=colleague.user, title="Call Mr X back")

    client.force_login(creditor_user.user)
    assert client.get(f"/o/{office_a.slug}/work/").status_code == 403
    done_url = f"/o/{office_a.slug}/work/{item.pk}/done/"
    client.force_login(agent.user)
    assert client.post(done_url).status_code == 403
    client.force_login(supervisor.user)
    assert client.post(done_url).status_code == 302
    with tenancy.office_context(office_a.id):
        item.refresh_from_db()
    assert item.status == "done"


def test_repeated_wrong_passwords_lock_the_login_for_a_while(client, agent_a):
    for _ in range(4):
        response = client.post(
            "/login/", {"username": agent_a.user.email, "password": "wrong-guess"}
        )
        assert response.status_code == 200
    client.post("/login/", {"username": agent_a.user.email, "password": "wrong-guess"})
    # Locked now: even the right password is refused until the cool-off ends.
    response = client.post("/login/", {"username": agent_a.user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_a_correct_password_after_a_few_mistakes_signs_in(client, agent_a):
    for _ in range(2):
        client.post("/login/", {"username": agent_a.user.email, "password": "wrong-guess"})
    response = client.post("/login/", {"username": agent_a.user.email, "password": PASSWORD})
    assert response.status_code == 302
