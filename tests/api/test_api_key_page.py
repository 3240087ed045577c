"""The office admin's API keys page: create (shown once), list, revoke."""

from recovery import tenancy
from recovery.models import ApiKey
from tests.factories import CreditorFactory, MembershipFactory


def test_admin_creates_a_key_that_is_shown_once_and_works(login, admin_a, office_a, api):
    client = login(admin_a)
    creditor = CreditorFactory(office=office_a, name="Lakeside Dental")
    url = f"/o/{office_a.slug}/api-keys/"
    response = client.post(url, {"name": "Lakeside nightly", "creditor": creditor.pk}, follow=True)
    assert response.status_code == 200
    key = response.context["new_key"]["key"]
    assert key.startswith("rk_") and key in response.content.decode()
    assert key not in client.get(url).content.decode()
    with tenancy.office_context(office_a.id):
        api_key = ApiKey.objects.get()
        assert (api_key.name, api_key.creditor_id) == ("Lakeside nightly", creditor.pk)
        assert api_key.key_hash != key
    assert api(key).get("/api/v1/accounts/").status_code == 200


def test_admin_revokes_a_key(login, admin_a, office_a, api, make_key):
    key = make_key(office_a, name="Old integration")
    with tenancy.office_context(office_a.id):
        api_key = ApiKey.objects.get()
    client = login(admin_a)
    response = client.post(f"/o/{office_a.slug}/api-keys/{api_key.pk}/revoke/", follow=True)
    assert "no longer works" in response.content.decode()
    assert api(key).get("/api/v1/accounts/").status_code == 401
    assert "Revoked" in client.get(f"/o/{office_a.slug}/api-keys/").content.decode()


def test_a_key_needs_a_name(login, admin_a, office_a):
    response = login(admin_a).post(f"/o/{office_a.slug}/api-keys/", {"name": ""})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    with tenancy.office_context(office_a.id):
        assert not ApiKey.objects.exists()


def test_only_admins_manage_keys(login, office_a):
    manager = MembershipFactory(office=office_a, role="manager")
    assert login(manager).get(f"/o/{office_a.slug}/api-keys/").status_code == 403
