"""Operator commands: create an office, create an API key, seed the demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from accounts.services import account_ledger_mismatches
from recovery import demo, tenancy
from recovery.models import ApiKey, Membership, Office, User


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_office_with_admin(db):
    out, _ = run(
        "create_office",
        "Bay Area Recovery",
        "--collector-type=first_party",
        "--licensed-states=ca, nv",
        "--admin-email=Boss@Example.com",
        "--admin-password=long-enough-pass",
    )
    office = Office.objects.get(slug="bay-area-recovery")
    assert office.collector_type == "first_party"
    assert office.licensed_states == ["CA", "NV"]
    member = Membership.objects.get(office=office)
    assert member.role == "admin" and member.user.email == "boss@example.com"
    assert "bay-area-recovery" in out


def test_create_office_refuses_a_duplicate_slug(office_a):
    with pytest.raises(CommandError, match="(?i)slug already exists"):
        run("create_office", "Again", f"--slug={office_a.slug}")


def test_api_key_is_the_last_line_and_authenticates_for_its_office_only(client, office_a):
    out, _ = run("create_api_key", f"--office={office_a.slug}", "--name=CI")
    key = out.strip().splitlines()[-1]
    assert key.startswith("rk_")
    with tenancy.office_context(office_a.id):
        stored = ApiKey.objects.get()
    assert key not in stored.key_hash  # only a hash is stored
    response = client.get("/api/v1/office/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["slug"] == office_a.slug
    bad = client.get("/api/v1/office/", HTTP_AUTHORIZATION="Bearer rk_nope_nope")
    assert bad.status_code == 401
    assert client.get("/api/v1/office/").status_code == 401


def test_revoked_api_key_is_refused(client, office_a):
    out, _ = run("create_api_key", f"--office={office_a.slug}")
    key = out.strip().splitlines()[-1]
    with tenancy.office_context(office_a.id):
        ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    response = client.get("/api/v1/office/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_create_api_key_for_unknown_office_fails(db):
    with pytest.raises(CommandError, match="No office"):
        run("create_api_key", "--office=nowhere")


def test_seed_demo_is_safe_to_run_twice_and_balances(db):
    demo.seed(accounts_per_office=40)
    counts = {o.slug: o for o in Office.objects.all()}
    assert set(counts) == {"harbor", "northwind"}
    demo.seed(accounts_per_office=40)
    assert Office.objects.count() == 2
    for office in Office.objects.all():
        with tenancy.office_context(office.id):
            assert Account.objects.count() == 40
            assert account_ledger_mismatches() == []
            assert Account.objects.filter(status="paid", principal_balance__gt=0).count() == 0
    agent = User.objects.get(email="agent@harbor.example")
    assert agent.check_password(demo.DEMO_PASSWORD)
    assert User.objects.get(email="owner@demo.example").memberships.count() == 2


def test_seed_demo_prints_logins(db):
    out, _ = run("seed_demo", "--print-logins")
    assert "agent@harbor.example" in out and demo.DEMO_PASSWORD in out


def test_create_office_refuses_an_unknown_time_zone(db):
    with pytest.raises(CommandError, match="not a time zone"):
        run("create_office", "Somewhere", "--time-zone=Mars/Olympus")
    assert not Office.objects.exists()


def test_seeded_itemization_adds_up_to_the_balance(db):
    demo.seed(accounts_per_office=60)
    office = Office.objects.get(slug="harbor")
    with tenancy.office_context(office.id):
        for a in Account.objects.all():
            expected = (
                a.itemization_amount
                + a.interest_since_itemization
                + a.fees_since_itemization
                - a.payments_since_itemization
                - a.credits_since_itemization
            )
            assert expected == a.balance, a.office_reference


def test_seeded_agency_accounts_have_their_validation_notice(db):
    from compliance.models import ValidationNotice

    demo.seed(accounts_per_office=30)
    harbor = Office.objects.get(slug="harbor")
    with tenancy.office_context(harbor.id):
        placed = Account.objects.exclude(status="new").count()
        assert ValidationNotice.objects.count() == placed > 0


def test_drf_settings_resolve_before_any_view_is_imported():
    """Every management command runs DRF's pagination check, which imports the classes
    the settings name (recovery.api_base); when that check ran before the URL check had
    imported DRF's views, api_base's own import of those views read the same settings
    and hit the half-loaded module: "could not import recovery.api_base.ApiKeyRateThrottle"
    (which check runs first varies from one install to the next). Only a fresh process,
    with nothing imported yet, shows it."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import django; django.setup()\n"
        "from rest_framework.settings import api_settings\n"
        "print(api_settings.DEFAULT_PAGINATION_CLASS.__name__,"
        " api_settings.DEFAULT_THROTTLE_CLASSES[0].__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "recovery.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ApiCursorPagination", "ApiKeyRateThrottle"]
