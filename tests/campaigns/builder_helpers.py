"""Shared set-up for the campaign builder tests."""

from campaigns import services
from campaigns.library import starter_templates_create
from campaigns.models import MessageTemplate
from recovery import tenancy


def reminder_template(office, channel="email", language="en"):
    with tenancy.office_context(office.id):
        starter_templates_create(office=office)
        return MessageTemplate.objects.get(
            name="Friendly reminder", channel=channel, language=language
        )


def simple_spec(name="Gentle reminders", segment=None, steps=None, **extra):
    return {
        "name": name,
        "entry_segment": segment or {"op": "and", "rules": [{"field": "balance", "min": "100"}]},
        "exit_conditions": ["paid", "settled", "plan"],
        "escalation": {},
        "steps": steps
        or [{"wait_days": 0, "channels": ["email"]}, {"wait_days": 7, "channels": ["sms"]}],
        **extra,
    }


def campaign_create(office, **kwargs):
    with tenancy.office_context(office.id):
        return services.campaign_save(spec=simple_spec(**kwargs))
