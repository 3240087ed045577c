"""rows_set writes what the fields' own preparation would write: values a subclass
prepares (an encrypted field, a date-time) are never sent as they are."""

import pytest
from django.db import connection

from debtors.models import Debtor
from recovery import tenancy
from recovery.bulk import rows_set
from tests.factories import DebtorFactory

pytestmark = pytest.mark.django_db


def _stored(debtor, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM debtors_debtor WHERE id = %s", [debtor.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_an_encrypted_field_is_stored_encrypted(office_a):
    debtor = DebtorFactory(office=office_a, ssn_last4="1111")
    with tenancy.office_context(office_a.id):
        debtor.ssn_last4 = "4242"
        assert rows_set(Debtor, [debtor], ["ssn_last4", "last_name"]) == 1
        stored = _stored(debtor, "ssn_last4")
        assert "4242" not in stored  # ciphertext, as a save() would have written
        assert Debtor.objects.get(pk=debtor.pk).ssn_last4 == "4242"


def test_plain_values_are_written_as_they_are(office_a):
    debtor = DebtorFactory(office=office_a, last_name="Lee")
    with tenancy.office_context(office_a.id):
        debtor.last_name = "Núñez O’Brien"
        rows_set(Debtor, [debtor], ["last_name"])
        assert Debtor.objects.get(pk=debtor.pk).last_name == "Núñez O’Brien"
