from datetime import UTC, datetime, timedelta

import pytest

from compliance import services
from compliance.gate import Attempt, evaluate
from debtors.services import contact_point_add
from recovery import tenancy
from tests.factories import AccountFactory, DebtorFactory

# A Tuesday, 15:00 UTC = 10:00 in New York: inside every US mainland window.
NOON = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


class Scene:
    """One consumer account of a debtor in New York (address + mobile + email), with its
    validation notice sent long ago: every rule passes until a test changes something."""

    def __init__(self, office, *, state="NY", zip_code="10001", phone="+12125550100"):
        self.office = office
        self.debtor = DebtorFactory(office=office, first_name="Rosa", last_name="Delgado")
        with tenancy.office_context(office.id):
            self.address = contact_point_add(
                debtor=self.debtor,
                kind="address",
                line1="1 Main St",
                city="Town",
                state=state,
                postal_code=zip_code,
                source="placement",
            )
            self.phone = contact_point_add(
                debtor=self.debtor,
                kind="phone",
                value=phone,
                source="placement",
                phone_type="mobile",
                last_consent_at=NOON - timedelta(days=10),
            )
            self.email = contact_point_add(
                debtor=self.debtor,
                kind="email",
                value="rosa@example.com",
                source="placement",
                email_qualification="used_by_debtor",
                email_qualified_at=NOON - timedelta(days=90),
            )
        self.account = AccountFactory(office=office, debtor=self.debtor, governing_law_state=state)
        with tenancy.office_context(office.id):
            services.validation_notice_record(
                account=self.account, channel="letter", sent_at=NOON - timedelta(days=60)
            )

    def attempt(self, channel, at=NOON, **kwargs):
        cp = {"sms": self.phone, "call": self.phone, "voicemail": self.phone,
              "email": self.email, "letter": self.address}.get(channel)  # fmt: skip
        kwargs.setdefault("contact_point_id", cp.id if cp else None)
        return Attempt(account_id=self.account.id, channel=channel, at=at, **kwargs)

    def office_tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/New_York")

    def decide(self, *attempts, **kwargs):
        with tenancy.office_context(self.office.id):
            return evaluate(list(attempts), **kwargs)

    def decide_one(self, channel, at=NOON, **kwargs):
        gate_kwargs = {k: kwargs.pop(k) for k in ("reserve", "record") if k in kwargs}
        return self.decide(self.attempt(channel, at, **kwargs), **gate_kwargs)[0]


@pytest.fixture
def scene(office_a):
    office_a.collector_type = "first_party"  # SMS allowed through Twilio (T-CARRIER)
    office_a.save()
    return Scene(office_a)


@pytest.fixture
def agency_scene(office_a):
    return Scene(office_a)
