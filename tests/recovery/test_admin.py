"""The Django admin is the platform operator's cross-office console."""

from recovery.models import User
from tests.factories import AccountFactory


def test_operator_sees_every_offices_accounts_in_the_admin(client, office_a, office_b):
    a = AccountFactory(office=office_a, office_reference="A-ADMIN-1")
    b = AccountFactory(office=office_b, office_reference="B-ADMIN-1")
    operator = User.objects.create_superuser("op@example.com", "op-password-123")
    client.force_login(operator)
    page = client.get("/admin/accounts/account/")
    assert page.status_code == 200
    body = page.content.decode()
    assert a.office_reference in body and b.office_reference in body
    assert client.get(f"/admin/accounts/account/{b.pk}/change/").status_code == 200


def test_office_staff_cannot_enter_the_admin(client, agent_a):
    client.force_login(agent_a.user)
    assert client.get("/admin/accounts/account/").status_code == 302
