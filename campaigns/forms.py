"""Forms of the campaign builder and the template library: they parse what a manager
typed into the campaign spec the services take, and say what to fix."""

import json

from django import forms

from accounts.models import Account, AccountStatus, Creditor
from campaigns.builder.events import EVENTS, wait_check
from campaigns.builder.segments import FIELDS, MAX_DEPTH, RANGE_FIELDS, segment_check
from campaigns.library import LANGUAGES
from campaigns.models import CHANNELS, AccountScore, Campaign, MessageTemplate
from campaigns.rendering import template_check
from campaigns.services import ESCALATIONS, EXITS, SKIP_CONDITIONS, STEP_CHANNELS

ENTRY_STATUSES = [
    (v, label)
    for v, label in AccountStatus.choices
    if v in ("new", "active", "in_plan", "disputed", "on_hold", "legal")
]


def segment_fields():
    """What the segment builder (static/js/segment-builder.js) offers: each field, the
    kind of value it takes, and its choices."""
    choices = {
        "creditor": [[c.pk, c.name] for c in Creditor.objects.filter(is_active=True)],
        "language": [list(c) for c in LANGUAGES],
        "debt_type": [list(c) for c in Account.DebtType.choices],
        "status": [list(c) for c in ENTRY_STATUSES],
        "score_band": [
            [band, f"{band} ({low}–{high})"] for band, (low, high) in AccountScore.BANDS.items()
        ],
    }
    hints = {"state": "Two-letter codes, e.g. NY, NJ", "tags": "Any of these, e.g. vip, medical"}
    fields = []
    for key, label in FIELDS.items():
        if key in RANGE_FIELDS:
            kind = "money" if key == "balance" else "days"
            fields.append({"key": key, "label": label, "kind": kind})
        elif key in choices:
            fields.append({"key": key, "label": label, "kind": "choice", "choices": choices[key]})
        else:
            fields.append({"key": key, "label": label, "kind": "text", "hint": hints.get(key, "")})
    return {"fields": fields, "start": "balance", "max_depth": MAX_DEPTH}


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    # The segment tree as JSON (campaigns.builder.segments). The builder script edits it;
    # without the script it can be typed here as it is.
    segment = forms.CharField(
        label="Entry conditions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='As JSON, e.g. {"op": "and", "rules": [{"field": "balance", "min": "100"}]}',
    )
    exits = forms.MultipleChoiceField(
        label="Accounts leave the campaign when",
        choices=list(EXITS.items()),
        required=False,
        initial=list(EXITS),
        widget=forms.CheckboxSelectMultiple,
    )
    escalation_kind = forms.ChoiceField(
        label="After the last step", choices=list(ESCALATIONS.items()), required=False
    )
    escalation_campaign = forms.ModelChoiceField(
        label="Move to campaign", queryset=Campaign.objects.none(), required=False
    )
    escalation_queue = forms.CharField(
        label="Agent queue", max_length=80, required=False, help_text="e.g. Senior agents"
    )

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        others = Campaign.objects.filter(status=Campaign.Status.ACTIVE)
        if campaign is not None:
            others = others.exclude(name=campaign.name)
        self.fields["escalation_campaign"].queryset = others

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Campaign.objects.filter(name=name)
        if self.campaign is not None:
            clash = clash.exclude(name=self.campaign.name)
        if clash.exists():
            raise forms.ValidationError("Another campaign has this name; choose another.")
        return name

    def clean_segment(self):
        return segment_parse(self.cleaned_data.get("segment"))

    def clean(self):
        data = super().clean()
        segment = data.get("segment")
        if segment is not None and not segment.get("rules"):
            self.add_error(
                "segment",
                "Add at least one entry condition (for example a balance range or a "
                "creditor), so the campaign knows which accounts to take.",
            )
        elif segment is not None and (problem := segment_check(segment)):
            self.add_error("segment", problem)
        kind = data.get("escalation_kind")
        if kind == "campaign" and not data.get("escalation_campaign"):
            self.add_error("escalation_campaign", "Choose the campaign accounts move to.")
        if kind == "queue" and not data.get("escalation_queue"):
            self.add_error("escalation_queue", "Name the queue, e.g. “Senior agents”.")
        return data

    def spec(self, steps):
        data = self.cleaned_data
        kind = data.get("escalation_kind") or ""
        escalation = {"kind": kind} if kind else {}
        if kind == "campaign":
            escalation["campaign_id"] = data["escalation_campaign"].pk
        if kind == "queue":
            escalation["queue"] = data["escalation_queue"]
        return {
            "name": data["name"],
            "entry_segment": data["segment"],
            "exit_conditions": list(data.get("exits") or []),
            "escalation": escalation,
            "steps": steps,
        }

    @staticmethod
    def initial_for(campaign):
        return {
            "name": campaign.name,
            "segment": json.dumps(campaign.entry_segment or {}),
            "exits": campaign.exit_conditions,
            "escalation_kind": campaign.escalation.get("kind", ""),
            "escalation_campaign": campaign.escalation.get("campaign_id"),
            "escalation_queue": campaign.escalation.get("queue", ""),
        }


def segment_parse(text):
    """The segment tree from its JSON text ({} for none); a ValidationError that says
    what to do when it cannot be read."""
    if not (text or "").strip():
        return {}
    try:
        segment = json.loads(text)
    except ValueError:
        segment = None
    if not isinstance(segment, dict):
        raise forms.ValidationError(
            "The entry conditions could not be read. Build them again with the buttons "
            "above (or write them as JSON like the example)."
        )
    return segment


def _template_field(channel, label):
    return forms.ModelChoiceField(
        label=label,
        queryset=MessageTemplate.objects.none(),
        required=False,
        empty_label="— default text —" if channel != "letter" else "— choose —",
    )


class StepForm(forms.Form):
    wait_days = forms.IntegerField(
        label="Wait (days)", min_value=0, max_value=365, required=False, initial=0
    )
    wait_side = forms.ChoiceField(
        label="Before or after",
        choices=[("after", "after"), ("before", "before")],
        required=False,
        initial="after",
    )
    wait_event = forms.ChoiceField(
        label="Counted from",
        choices=[("", "the step before (or entry)"), *EVENTS.items()],
        required=False,
    )
    channels = forms.MultipleChoiceField(
        choices=[c for c in CHANNELS if c[0] in STEP_CHANNELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    template_email = _template_field("email", "Email template")
    template_sms = _template_field("sms", "SMS template")
    template_letter = _template_field("letter", "Letter template")
    skip_if = forms.MultipleChoiceField(
        label="Skip this step when",
        choices=list(SKIP_CONDITIONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    challenger_percent = forms.IntegerField(
        label="Challenger share (%)",
        min_value=0,
        max_value=90,
        required=False,
        help_text="0 for no experiment; the challenger uses the templates below",
    )
    challenger_email = _template_field("email", "Challenger email")
    challenger_sms = _template_field("sms", "Challenger SMS")
    challenger_letter = _template_field("letter", "Challenger letter")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        templates = MessageTemplate.objects.order_by("name", "language")
        for channel in ("email", "sms", "letter"):
            qs = templates.filter(channel=channel)
            for name in (f"template_{channel}", f"challenger_{channel}"):
                self.fields[name].queryset = qs
                self.fields[name].label_from_instance = lambda t: f"{t.name} · {t.language.upper()}"

    def is_blank(self):
        return not (self.cleaned_data or {}).get("channels")

    def clean(self):
        data = super().clean()
        channels = data.get("channels") or []
        before = data.get("wait_side") == "before"
        if before and not data.get("wait_event"):
            self.add_error(
                "wait_event",
                "Choose the date to wait before (e.g. the promise-to-pay date); a step "
                "can only come after the step before it.",
            )
        elif problem := wait_check(
            event=data.get("wait_event"), before=before, days=data.get("wait_days") or 0
        ):
            self.add_error("wait_event", problem)
        if "letter" in channels and not data.get("template_letter"):
            self.add_error("template_letter", "A letter step needs a letter template.")
        percent = data.get("challenger_percent") or 0
        if percent and channels:
            if not any(data.get(f"challenger_{c}") for c in channels if c != "call"):
                self.add_error(
                    "challenger_percent",
                    "Choose at least one challenger template, or set the share to 0.",
                )
        return data

    def step(self):
        data = self.cleaned_data
        channels = list(data["channels"])
        templates = {
            c: data[f"template_{c}"].pk
            for c in ("email", "sms", "letter")
            if c in channels and data.get(f"template_{c}")
        }
        variants = []
        percent = data.get("challenger_percent") or 0
        if percent:
            challenger = {
                c: data[f"challenger_{c}"].pk
                for c in ("email", "sms", "letter")
                if c in channels and data.get(f"challenger_{c}")
            }
            variants = [
                {"key": "A", "percent": 100 - percent, "templates": {}},
                {"key": "B", "percent": percent, "templates": challenger},
            ]
        conditions = {"skip_if": list(data["skip_if"])} if data.get("skip_if") else {}
        return {
            "wait_days": data.get("wait_days") or 0,
            "wait_event": data.get("wait_event") or "",
            "wait_before": bool(data.get("wait_event")) and data.get("wait_side") == "before",
            "channels": channels,
            "templates": templates,
            "conditions": conditions,
            "variants": variants,
        }

    @staticmethod
    def initial_for(step):
        initial = {
            "wait_days": step.wait_days,
            "wait_event": step.wait_event,
            "wait_side": "before" if step.wait_before else "after",
            "channels": step.channels,
            "skip_if": (step.conditions or {}).get("skip_if", []),
        }
        for channel, template_id in (step.templates or {}).items():
            initial[f"template_{channel}"] = template_id
        for variant in step.variants or []:
            if variant.get("key") == "B":
                initial["challenger_percent"] = variant.get("percent")
                for channel, template_id in (variant.get("templates") or {}).items():
                    initial[f"challenger_{channel}"] = template_id
        return initial


class BaseStepFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not [f for f in self.forms if not f.is_blank()]:
            raise forms.ValidationError(
                "Add at least one step: choose its channels (email, SMS, letter or call)."
            )

    def steps(self):
        return [f.step() for f in self.forms if not f.is_blank()]


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=0, max_num=12)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "channel", "language", "subject", "body"]
        widgets = {
            "language": forms.Select(choices=LANGUAGES),
            "body": forms.Textarea(attrs={"rows": 12}),
        }
        help_texts = {
            "subject": "Email and letter heading; texts have none.",
            "body": "Write to a person. Merge fields like {{ first_name }} are filled in; "
            "the disclosures the law requires are added for you.",
        }

    def clean_subject(self):
        value = self.cleaned_data.get("subject", "")
        if problem := template_check(value):
            raise forms.ValidationError(problem)
        return value

    def clean_body(self):
        value = self.cleaned_data.get("body", "")
        if problem := template_check(value):
            raise forms.ValidationError(problem)
        return value

    def validate_unique(self):
        # The office is not a form field; the service checks the name per office.
        pass


class DryRunForm(forms.Form):
    days = forms.IntegerField(
        label="Replay the last", min_value=1, max_value=365, initial=30, help_text="days"
    )
    outcome_days = forms.IntegerField(
        label="Outcome within",
        min_value=1,
        max_value=180,
        initial=30,
        help_text="days of entering",
    )
