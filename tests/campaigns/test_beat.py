"""The clock: a beat tick plans an office's due steps and, after that commits, sends them."""

import pytest
import time_machine
from django.core import mail

from campaigns.models import Message
from recovery import tenancy
from recovery.tasks import beat_tick
from tests.campaigns.test_dispatch import planned_email
from tests.compliance.conftest import NOON


@pytest.mark.django_db(transaction=True)
def test_a_tick_plans_and_sends_each_due_message_once(settings, office_a):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from recovery.celery import app

    app.conf.task_always_eager = True
    try:
        scene = planned_email(office_a)
        with tenancy.office_context(office_a.id):
            Message.objects.all().delete()  # let the tick plan it
            from campaigns.models import Enrollment

            Enrollment.objects.update(status="active", next_due_at=NOON)
            first_step = scene.account.enrollments.get().campaign.steps.get(position=1)
            Enrollment.objects.update(next_step=first_step)
        with time_machine.travel(NOON, tick=False):
            assert beat_tick() >= 1
            beat_tick()
        assert len(mail.outbox) == 1
        with tenancy.office_context(office_a.id):
            assert Message.objects.get().status == "sent"
    finally:
        app.conf.task_always_eager = False
