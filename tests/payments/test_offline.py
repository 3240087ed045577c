"""When an offline payment counts as received: the moment it is recorded, or the start of
the day it came in, in the office's own zone (never midnight UTC, which is the evening
before in the Americas)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import time_machine

from payments.models import Payment
from payments.services import payment_record_offline
from recovery import tenancy
from tests.factories import UserFactory

NOW = datetime(2026, 11, 17, 20, 30, tzinfo=UTC)  # 14:30 in Chicago


def record(scene, **kwargs):
    with tenancy.office_context(scene.office.id):
        payment = payment_record_offline(
            account=scene.account,
            amount=Decimal("40.00"),
            method="money_order",
            instrument={"serial_number": "77001"},
            actor=UserFactory(),
            **kwargs,
        )
        return Payment.objects.get(pk=payment.pk)


def test_a_payment_received_today_counts_from_when_it_is_recorded(scene):
    scene.office.time_zone = "America/Chicago"
    scene.office.save()
    with time_machine.travel(NOW, tick=False):
        payment = record(scene)
    assert payment.received_at == NOW


def test_a_payment_received_earlier_counts_from_that_days_start_in_the_office(scene):
    scene.office.time_zone = "America/Chicago"
    scene.office.save()
    with time_machine.travel(NOW, tick=False):
        payment = record(scene, received_on=date(2026, 11, 13))
    # Midnight in Chicago is 06:00 UTC; midnight UTC would be the 12th in Chicago.
    assert payment.received_at == datetime(2026, 11, 13, 6, 0, tzinfo=UTC)
