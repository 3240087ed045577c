"""`field__any`: the batch lookup the dispatcher and the gate use for their ids, and the
read-only fact rows the gate loads instead of model instances."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.facts import row_type, rows
from compliance.rules import label
from debtors.models import ContactPoint
from recovery import tenancy
from recovery.lookups import array
from tests.factories import ContactPointFactory, DebtorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def points(office_a):
    own = ContactPointFactory(office=office_a)
    other = ContactPointFactory(office=office_a, relation=ContactPoint.Relation.EMPLOYER)
    third = ContactPointFactory(office=office_a)
    return own, other, third


def _ids(qs):
    return sorted(qs.values_list("id", flat=True))


def test_any_matches_the_same_rows_as_in(office_a, points):
    own, other, _ = points
    with tenancy.office_context(office_a.id):
        wanted = [own.debtor_id, other.debtor_id]
        expected = _ids(ContactPoint.objects.filter(debtor_id__in=wanted))
        assert expected == sorted([own.id, other.id])
        # On a relation, on the primary key, wrapped or not, from a set or a list.
        assert _ids(ContactPoint.objects.filter(debtor_id__any=wanted)) == expected
        assert _ids(ContactPoint.objects.filter(debtor_id__any=array(wanted))) == expected
        assert _ids(ContactPoint.objects.filter(id__any={own.id, other.id})) == expected
        assert _ids(ContactPoint.objects.filter(kind__any=["email"])) == []
        # Excluding works too (NOT (x = ANY …)).
        assert _ids(ContactPoint.objects.exclude(debtor_id__any=array(wanted))) == [points[2].id]


def test_any_of_nothing_matches_nothing(office_a, points):
    with tenancy.office_context(office_a.id):
        assert list(ContactPoint.objects.filter(debtor_id__any=[])) == []
        assert list(ContactPoint.objects.filter(debtor_id__any=array([]))) == []


def test_any_sends_one_parameter_however_many_ids(office_a, points):
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's")
    ids = [p.debtor_id for p in points] + list(range(10_000_000, 10_000_500))
    with tenancy.office_context(office_a.id):
        with CaptureQueriesContext(connection) as queries:
            assert len(_ids(ContactPoint.objects.filter(debtor_id__any=array(ids)))) == 3
    sql = queries.captured_queries[-1]["sql"]
    assert "= ANY(" in sql and "::bigint[]" in sql
    assert sql.count("10000499") == 1  # one array literal, not 503 placeholders


def test_any_refuses_a_single_value_with_a_clear_error(office_a):
    with tenancy.office_context(office_a.id), pytest.raises(TypeError, match="takes a list"):
        list(ContactPoint.objects.filter(debtor_id__any=5))


def test_fact_rows_read_like_the_records(office_a, points):
    own, other, _ = points
    row = row_type(ContactPoint, "is_third_party")
    with tenancy.office_context(office_a.id):
        loaded = {r.id: r for r in rows(ContactPoint.objects.all(), row)}
        again = {r.id: r for r in rows(ContactPoint.objects.all(), row)}
    first = loaded[own.id]
    assert (first.pk, first.debtor_id, first.value) == (own.id, own.debtor_id, own.value)
    assert first.candidate_timezones == ["America/New_York"]  # JSON decoded as the model does
    assert first.is_third_party is False and loaded[other.id].is_third_party is True
    # Equal and hashed by record, as model instances are (JSON lists are unhashable).
    assert first == again[own.id] and first != loaded[other.id]
    assert len({*loaded.values(), *again.values()}) == 3
    # Choice labels read the model's fields.
    assert label(type(first), "relation", other.relation) == "Employer"
    with pytest.raises(AttributeError):
        first.value = "changed"  # facts are read-only


def test_fact_rows_keep_the_querysets_order(office_a):
    debtor = DebtorFactory(office=office_a)
    made = [ContactPointFactory(office=office_a, debtor=debtor) for _ in range(3)]
    with tenancy.office_context(office_a.id):
        newest_first = [r.id for r in rows(ContactPoint.objects.order_by("-id"))]
    assert newest_first == sorted((p.id for p in made), reverse=True)
