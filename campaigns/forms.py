"""Forms of the campaign builder and the template library: they parse what a manager
typed into the campaign spec the services take, and say what to fix."""

from django import forms

from accounts.models import Account, AccountStatus, Creditor
from campaigns.builder.segments import segment_check
from campaigns.library import LANGUAGES
from campaigns.models import CHANNELS, Campaign, MessageTemplate
from campaigns.rendering import template_check
from campaigns.services import ESCALATIONS, EXITS, SKIP_CONDITIONS, STEP_CHANNELS

RANGES = [
    ("balance", "balance_min", "balance_max"),
    ("days_since_placement", "placed_min", "placed_max"),
    ("days_since_charge_off", "chargeoff_min", "chargeoff_max"),
    ("days_since_last_payment", "lastpay_min", "lastpay_max"),
]
LISTS = [
    ("language", "languages"),
    ("debt_type", "debt_types"),
    ("status", "statuses"),
]
TEXT_LISTS = [("state", "states"), ("tags", "tags")]
ENTRY_STATUSES = [
    (v, label)
    for v, label in AccountStatus.choices
    if v in ("new", "active", "in_plan", "disputed", "on_hold", "legal")
]


def _days(label):
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=36500)


def _split(text):
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    match = forms.ChoiceField(
        label="Accounts enter when they match",
        choices=[("and", "all of the conditions"), ("or", "any of the conditions")],
        initial="and",
    )
    creditors = forms.ModelMultipleChoiceField(
        queryset=Creditor.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    balance_min = forms.DecimalField(label="Balance from", required=False, min_value=0)
    balance_max = forms.DecimalField(label="Balance up to", required=False, min_value=0)
    placed_min = _days("Days since placement, from")
    placed_max = _days("up to")
    chargeoff_min = _days("Days since charge-off, from")
    chargeoff_max = _days("up to")
    lastpay_min = _days("Days since last payment, from")
    lastpay_max = _days("up to")
    states = forms.CharField(
        label="States", required=False, help_text="Two-letter codes, e.g. NY, NJ"
    )
    languages = forms.MultipleChoiceField(
        choices=LANGUAGES, required=False, widget=forms.CheckboxSelectMultiple
    )
    debt_types = forms.MultipleChoiceField(
        label="Debt type",
        choices=Account.DebtType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    statuses = forms.MultipleChoiceField(
        label="Account status",
        choices=ENTRY_STATUSES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(required=False, help_text="Any of these tags, comma-separated")
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
        self.fields["creditors"].queryset = Creditor.objects.filter(is_active=True)
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

    def clean(self):
        data = super().clean()
        for _, low, high in RANGES:
            if data.get(low) is not None and data.get(high) is not None:
                if data[low] > data[high]:
                    self.add_error(high, "This must not be below the “from” value.")
        if self.errors:
            return data
        segment = self.segment()
        if not segment["rules"]:
            raise forms.ValidationError(
                "Add at least one entry condition (for example a balance range or a "
                "creditor), so the campaign knows which accounts to take."
            )
        if problem := segment_check(segment):
            raise forms.ValidationError(problem)
        kind = data.get("escalation_kind")
        if kind == "campaign" and not data.get("escalation_campaign"):
            self.add_error("escalation_campaign", "Choose the campaign accounts move to.")
        if kind == "queue" and not data.get("escalation_queue"):
            self.add_error("escalation_queue", "Name the queue, e.g. “Senior agents”.")
        return data

    def segment(self):
        data, rules = self.cleaned_data, []
        if data.get("creditors"):
            rules.append({"field": "creditor", "values": [c.pk for c in data["creditors"]]})
        for field, low, high in RANGES:
            lo, hi = data.get(low), data.get(high)
            if lo is not None or hi is not None:
                rule = {"field": field}
                if lo is not None:
                    rule["min"] = str(lo)
                if hi is not None:
                    rule["max"] = str(hi)
                rules.append(rule)
        for field, name in TEXT_LISTS:
            if values := _split(data.get(name)):
                rules.append({"field": field, "values": values})
        for field, name in LISTS:
            if data.get(name):
                rules.append({"field": field, "values": list(data[name])})
        return {"op": data.get("match") or "and", "rules": rules}

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
            "entry_segment": self.segment(),
            "exit_conditions": list(data.get("exits") or []),
            "escalation": escalation,
            "steps": steps,
        }

    @staticmethod
    def initial_for(campaign):
        initial = {
            "name": campaign.name,
            "exits": campaign.exit_conditions,
            "match": campaign.entry_segment.get("op", "and"),
            "escalation_kind": campaign.escalation.get("kind", ""),
            "escalation_campaign": campaign.escalation.get("campaign_id"),
            "escalation_queue": campaign.escalation.get("queue", ""),
        }
        ranges = {field: (low, high) for field, low, high in RANGES}
        lists = dict(LISTS)
        for rule in campaign.entry_segment.get("rules") or []:
            field = rule.get("field")
            if field in ranges:
                initial[ranges[field][0]] = rule.get("min")
                initial[ranges[field][1]] = rule.get("max")
            elif field == "creditor":
                initial["creditors"] = rule.get("values")
            elif field in lists:
                initial[lists[field]] = rule.get("values")
            elif field in dict(TEXT_LISTS):
                initial[dict(TEXT_LISTS)[field]] = ", ".join(rule.get("values") or [])
        return initial


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
            "channels": channels,
            "templates": templates,
            "conditions": conditions,
            "variants": variants,
        }

    @staticmethod
    def initial_for(step):
        initial = {
            "wait_days": step.wait_days,
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
