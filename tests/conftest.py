import os

import pytest
from django.conf import settings

from tests.factories import MembershipFactory, OfficeFactory


def pytest_configure(config):
    # The suite runs on PostgreSQL; CI must never fall back to SQLite silently.
    if os.environ.get("CI", "").lower() == "true" and not settings.IS_POSTGRES:
        raise pytest.UsageError(
            "CI=true but DATABASE_URL is not PostgreSQL: refusing to run the suite on SQLite."
        )
    _cache_of_its_own()


def _cache_of_its_own():
    """Under pytest-xdist, each worker process gets its own Redis database for the cache:
    tests clear the cache and count failures per address (portal lockouts) in it, and
    two workers sharing one would see each other's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, …
    cache = settings.CACHES["default"]
    if not worker[2:].isdigit() or "redis" not in cache["BACKEND"].lower():
        return
    base, _, db = cache["LOCATION"].rpartition("/")
    if base.startswith("redis") and db.isdigit():
        cache["LOCATION"] = f"{base}/{(int(db) + 1 + int(worker[2:])) % 16}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Migrations ran as the owner role; the tests run as the application role, which
    has no BYPASSRLS, so row-level security is in force for the whole suite."""
    from django.db import connection

    if not settings.IS_POSTGRES:
        yield
        return
    owner = {k: connection.settings_dict[k] for k in ("USER", "PASSWORD")}
    with django_db_blocker.unblock():
        # Test-only: transactional tests empty the tables between tests with TRUNCATE
        # (which RLS does not govern). Production never grants it to the app role.
        with connection.cursor() as cursor:
            cursor.execute(
                f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {settings.DATABASE_APP_ROLE}"
            )
        connection.close()
        connection.settings_dict["USER"] = settings.DATABASE_APP_ROLE
        connection.settings_dict["PASSWORD"] = os.environ.get("DATABASE_APP_PASSWORD", "")
    yield
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(owner)


@pytest.fixture(autouse=True)
def anymail_test_backend(settings):
    """Django's test setup swaps in the locmem backend; the suite sends through
    anymail's test backend instead, so the ESP path (status, message ids, errors) runs."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture
def office_a(db):
    return OfficeFactory(name="Harbor Test Office", slug="harbor-test")


@pytest.fixture
def office_b(db):
    return OfficeFactory(name="Other Test Office", slug="other-test")


@pytest.fixture
def login(client):
    """Log a membership's user in and return the client."""

    def _login(membership):
        client.force_login(membership.user)
        return client

    return _login


@pytest.fixture
def agent_a(office_a):
    return MembershipFactory(office=office_a, role="agent")


@pytest.fixture
def agent_b(office_b):
    return MembershipFactory(office=office_b, role="agent")


@pytest.fixture
def admin_a(office_a):
    return MembershipFactory(office=office_a, role="admin")


@pytest.fixture
def lazy_worker(settings):
    """Celery not eager: what webhook requests store in the inbox waits for
    `inbox.drain_once` (or the drain task called directly), as it would for the worker
    (the kick runs after commit, which a test's transaction never reaches)."""
    from recovery.celery import app

    eager = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager
