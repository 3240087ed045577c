"""Test data. Tenant-owned factories create their rows inside their office's context,
exactly as production code must."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, Creditor, Placement
from debtors.models import ContactPoint, Debtor
from recovery import tenancy
from recovery.models import Membership, Office, Role, User, WorkItem

PASSWORD = "correct-horse-battery"  # noqa: S105 - test credential


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    name = factory.Sequence(lambda n: f"Office {n}")
    slug = factory.Sequence(lambda n: f"office-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    office = factory.SubFactory(OfficeFactory)
    role = Role.AGENT


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates the row inside its office's context (the scoped manager insists)."""

    class Meta:
        abstract = True

    office = factory.SubFactory(OfficeFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenancy.office_context(kwargs["office"].id):
            return super()._create(model_class, *args, **kwargs)


class CreditorFactory(TenantFactory):
    class Meta:
        model = Creditor

    name = factory.Faker("company")
    reference = factory.Sequence(lambda n: f"CR{n}")


class PlacementFactory(TenantFactory):
    class Meta:
        model = Placement

    creditor = factory.SubFactory(CreditorFactory, office=factory.SelfAttribute("..office"))
    reference = factory.Sequence(lambda n: f"P-{n}")


class DebtorFactory(TenantFactory):
    class Meta:
        model = Debtor

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = "1980-04-12"
    ssn_last4 = "1234"


class ContactPointFactory(TenantFactory):
    class Meta:
        model = ContactPoint

    debtor = factory.SubFactory(DebtorFactory, office=factory.SelfAttribute("..office"))
    kind = ContactPoint.Kind.PHONE
    value = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")
    phone_type = ContactPoint.PhoneType.MOBILE
    candidate_timezones = ["America/New_York"]
    timezone_source = ContactPoint.TimezoneSource.AREA_CODE


class AccountFactory(TenantFactory):
    """An account opened through the ledger service, so its balances are real."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    creditor = factory.SubFactory(CreditorFactory, office=factory.SelfAttribute("..office"))
    debtor = factory.SubFactory(DebtorFactory, office=factory.SelfAttribute("..office"))
    creditor_reference = factory.Sequence(lambda n: f"C-{n}")
    office_reference = factory.Sequence(lambda n: f"A-{n}")
    original_creditor = "Original Bank"
    placed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def opening_balance(obj, create, extracted, **kwargs):  # noqa: N805
        if not create:
            return
        amount = Decimal("500.00") if extracted is None else Decimal(extracted)
        if amount:
            with tenancy.office_context(obj.office_id):
                account_services.account_open(account=obj, principal=amount)


class WorkItemFactory(TenantFactory):
    class Meta:
        model = WorkItem

    kind = WorkItem.Kind.CALLBACK
    title = "Call back"
