import pytest
from django.core.cache import cache

from portal.tokens import link_token
from recovery import tenancy
from tests.compliance.conftest import Scene


@pytest.fixture(autouse=True)
def fresh_lockouts():
    """Lockout counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal_scene(office_a):
    office_a.public_phone = "(800) 555-0199"
    office_a.save()
    scene = Scene(office_a)
    scene.token = link_token(
        office_id=office_a.id, debtor_id=scene.debtor.id, account_id=scene.account.id
    )
    return scene


def verify(client, scene, *, last_name="Delgado", dob=("4", "12", "1980")):
    client.get(f"/p/{scene.token}/")
    return client.post(
        "/p/verify/",
        {"last_name": last_name, "dob_month": dob[0], "dob_day": dob[1], "dob_year": dob[2]},
    )


@pytest.fixture
def verified(client, portal_scene):
    response = verify(client, portal_scene)
    assert response.status_code == 302, response.content[:500]
    return client


def in_office(office):
    return tenancy.office_context(office.id)
