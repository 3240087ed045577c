"""The first wall: every tenant-owned model carries an office and the fail-closed
manager, and its unique keys start with the office."""

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from accounts.models import Account, Creditor
from recovery import tenancy
from recovery.models import Office
from recovery.tenancy import NoOfficeSelected, TenantManager
from tests.factories import AccountFactory, CreditorFactory

OUR_APPS = {"recovery", "accounts", "debtors", "payments", "campaigns", "compliance"}
# Platform tables, read before any office is known (login, office switcher).
# The webhook inbox is a platform table too: an event arrives with no office; its
# handler finds the office when it applies it (`recovery.inbox`).
PLATFORM_MODELS = {
    "recovery.User",
    "recovery.Office",
    "recovery.Membership",
    "recovery.InboundWebhook",
}
# Globally unique secrets looked up before their office is known (hashes of random
# tokens): unique on their own by design.
GLOBAL_UNIQUE_FIELDS = {("recovery.Invitation", "token_hash"), ("recovery.ApiKey", "key_hash")}


def tenancy_violations(model_list):
    problems = []
    for model in model_list:
        label = model._meta.label
        if label in PLATFORM_MODELS:
            continue
        try:
            field = model._meta.get_field("office")
        except Exception:  # noqa: BLE001
            problems.append(f"{label}: no office field")
            continue
        if field.null or field.related_model is not Office:
            problems.append(f"{label}: office must be a NOT NULL foreign key to Office")
        if not isinstance(model._default_manager, TenantManager):
            problems.append(f"{label}: default manager is not the scoped TenantManager")
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and (
                constraint.fields[:1] != ("office",)
            ):
                problems.append(f"{label}: unique constraint {constraint.name} lacks office")
        for together in model._meta.unique_together:
            if together[0] != "office":
                problems.append(f"{label}: unique_together {together} lacks office")
        for f in model._meta.local_fields:
            if f.unique and not f.primary_key and (label, f.name) not in GLOBAL_UNIQUE_FIELDS:
                problems.append(f"{label}.{f.name}: unique without office")
        for m2m in model._meta.local_many_to_many:
            if m2m.remote_field.through._meta.auto_created:
                problems.append(f"{label}.{m2m.name}: many-to-many needs a tenant through model")
    return problems


def our_models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_tenant_model_has_office_and_scoped_manager():
    assert len(our_models()) > 25
    assert tenancy_violations(our_models()) == []


@isolate_apps("accounts")
def test_model_walk_catches_a_model_without_office_or_scoped_manager():
    class Leaky(models.Model):
        name = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "accounts"

    class Unscoped(models.Model):
        office = models.ForeignKey(Office, on_delete=models.CASCADE, null=True)
        ref = models.CharField(max_length=10)

        class Meta:
            app_label = "accounts"
            constraints = [models.UniqueConstraint(fields=["ref"], name="ref_only")]

    problems = tenancy_violations([Leaky, Unscoped])
    assert "accounts.Leaky: no office field" in problems
    assert any("Unscoped: office must be a NOT NULL" in p for p in problems)
    assert any("Unscoped: default manager" in p for p in problems)
    assert any("ref_only lacks office" in p for p in problems)


def test_query_without_office_raises(db):
    with pytest.raises(NoOfficeSelected):
        list(Account.objects.all())


def test_scoped_manager_sees_only_the_office_in_context(office_a, office_b):
    mine = AccountFactory(office=office_a)
    theirs = AccountFactory(office=office_b)
    with tenancy.office_context(office_a.id):
        assert list(Account.objects.values_list("id", flat=True)) == [mine.id]
        with pytest.raises(Account.DoesNotExist):
            Account.objects.get(pk=theirs.pk)
    with tenancy.all_offices("test: cross-office check"):
        assert Account.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_saving_into_another_office_is_refused(office_a, office_b):
    creditor = CreditorFactory(office=office_a)
    with tenancy.office_context(office_b.id), pytest.raises(NoOfficeSelected):
        creditor.name = "Renamed"
        creditor.save()
    with tenancy.office_context(office_b.id):
        new = Creditor(name="New", reference="N1")
        new.save()
    assert new.office_id == office_b.id


def test_save_without_office_in_context_is_refused(office_a):
    with pytest.raises(NoOfficeSelected):
        Creditor(office=office_a, name="X", reference="X").save()


def test_office_context_restores_the_previous_office(office_a, office_b):
    with tenancy.office_context(office_a.id):
        with tenancy.office_context(office_b.id):
            assert tenancy.current_office_id() == office_b.id
        assert tenancy.current_office_id() == office_a.id
    assert tenancy.current_office_id() is None


def test_escape_hatch_needs_a_reason():
    with pytest.raises(ValueError), tenancy.all_offices(""):
        pass
