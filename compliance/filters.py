"""The decisions search: what a compliance officer (or a regulator's request) narrows the
decision log by. Dates are the office's calendar days."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q

from compliance import selectors
from compliance.models import Decision

CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("call", "Call"),
    ("voicemail", "Voicemail"),
    ("letter", "Letter"),
    ("payment_link", "Payment link"),
    ("legal", "Legal action"),
    ("postcard", "Postcard"),
]
# What the page shows when nobody has chosen a period yet.
DEFAULT_PERIOD_DAYS = 30


class DecisionFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned


class DecisionFilter(django_filters.FilterSet):
    account = django_filters.CharFilter(
        label="Account reference",
        method="filter_account",
        widget=forms.TextInput(attrs={"placeholder": "e.g. HRB-000123", "spellcheck": "false"}),
    )
    debtor = django_filters.NumberFilter(
        field_name="debtor_id",
        label="Debtor id",
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
        error_messages={"invalid": "A debtor id is a number."},
    )
    rule = django_filters.ChoiceFilter(
        label="Rule", method="filter_rule", empty_label="Any rule", choices=[]
    )
    outcome = django_filters.ChoiceFilter(
        choices=Decision.Outcome.choices, empty_label="Any outcome"
    )
    channel = django_filters.ChoiceFilter(
        field_name="action", choices=CHANNELS, label="Channel", empty_label="Any channel"
    )
    date_from = django_filters.DateFilter(
        label="From", method="filter_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label="To", method="filter_to", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Decision
        fields = []
        form = DecisionFilterForm

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(office.time_zone)
        self.filters["rule"].extra["choices"] = [
            (rule, f"{rule} · {title}") for rule, title in selectors.rule_titles().items()
        ]

    def _day_start(self, day):
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def filter_account(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(account__office_reference__iexact=value)
            | Q(account__creditor_reference__iexact=value)
        )

    def filter_rule(self, queryset, name, value):
        return selectors.decisions_with_rule(queryset, value)

    def filter_from(self, queryset, name, value):
        return queryset.filter(decided_at__gte=self._day_start(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(decided_at__lt=self._day_start(value + timedelta(days=1)))

    @property
    def is_filtered(self):
        """Narrowed by anything but the period."""
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return any(data.get(k) not in (None, "") for k in self.filters if not k.startswith("date"))
