"""Tenant models load without Model.__init__ (recovery.tenancy.TenantModel.from_db):
what is loaded, deferred, cached and saved must behave exactly as Django's own path."""

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from debtors.models import ContactPoint, Debtor
from recovery import tenancy
from tests.factories import AccountFactory, ContactPointFactory

pytestmark = pytest.mark.django_db


def test_a_loaded_row_reads_saves_and_refreshes_like_djangos(office_a):
    point = ContactPointFactory(office=office_a, value="+12125550111")
    with tenancy.office_context(office_a.id):
        loaded = ContactPoint.objects.get(pk=point.pk)
        assert loaded._state.adding is False and loaded._state.db == "default"
        assert (loaded.value, loaded.debtor_id) == ("+12125550111", point.debtor_id)
        assert loaded.candidate_timezones == ["America/New_York"]
        assert loaded == point and hash(loaded) == hash(point)
        # A save of a loaded row is an UPDATE of that row, not a second row.
        loaded.validity = ContactPoint.Validity.VALID
        loaded.save()
        assert ContactPoint.objects.count() == 1
        point.refresh_from_db()
        assert point.validity == ContactPoint.Validity.VALID
        # The relation is fetched on first use and kept, as usual.
        with CaptureQueriesContext(connection) as queries:
            assert loaded.debtor.pk == point.debtor_id
            assert loaded.debtor.pk == point.debtor_id
        assert len(queries) == 1


def test_deferred_and_encrypted_fields_behave_as_before(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        debtor = Debtor.objects.defer("ssn_last4").get(pk=account.debtor_id)
        assert debtor.get_deferred_fields() == {"ssn_last4"}
        with CaptureQueriesContext(connection) as queries:
            assert debtor.ssn_last4 == "1234"  # decrypted on the one query it costs
        assert len(queries) == 1
        assert debtor.date_of_birth == "1980-04-12"
        # select_related builds the related rows the same way.
        joined = Account.objects.select_related("debtor", "creditor").get(pk=account.pk)
        with CaptureQueriesContext(connection) as queries:
            assert joined.debtor.last_name == account.debtor.last_name
            assert joined.creditor.name == account.creditor.name
        assert len(queries) == 0


def test_a_post_init_receiver_gets_djangos_own_path(office_a):
    point = ContactPointFactory(office=office_a)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=ContactPoint)
    try:
        with tenancy.office_context(office_a.id):
            ContactPoint.objects.get(pk=point.pk)
    finally:
        post_init.disconnect(receiver, sender=ContactPoint)
    assert seen == [point.pk]
