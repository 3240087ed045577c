"""Forms of the compliance pages and of the account page's compliance actions. They parse
input and say what is missing; the rules about what may be recorded live in
compliance.services, whose errors the views put back on these forms."""

from datetime import timedelta

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils import timezone

from compliance.models import Complaint, ErasureRequest, Hold
from compliance.services import (
    CHANNELS_BY_CONTACT_KIND,
    COMPLAINT_RESPONSE_DAYS_CFPB,
    COMPLAINT_RESPONSE_DAYS_OTHER,
    HARDSHIP_MAX_DAYS,
    POLICY_CHANNELS,
    Correspondence,
    policy_errors,
)
from compliance.services.circumstances import DETAIL_FIELDS
from compliance.services.third_parties import THIRD_PARTY_RELATIONS
from debtors.models import Circumstance, Consent, Source

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Uploads: scans and emails of letters, kept as documents on the account.
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "tif", "tiff", "heic", "txt", "eml", "msg"]


def _date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE,
        help_text=help_text,
        error_messages={
            "required": f"Give the {label.lower()}.",
            "invalid": "Enter a date like 2026-03-31.",
        },
    )


def _number(label, required):
    return forms.IntegerField(
        label=label,
        error_messages={"invalid": "Enter a whole number.", "required": required},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class PolicyForm(forms.Form):
    cap_email = _number("Emails per debtor", "Give a cap for emails (0 to 3).")
    cap_sms = _number("Texts per debtor", "Give a cap for texts (0 to 3).")
    cap_call = _number("Calls per account", "Give a cap for calls (0 to 7).")
    earliest_hour = _number("Earliest hour", "Give the hour contact may start (8 or later).")
    latest_hour = _number("Latest hour", "Give the hour contact must end by (21 or earlier).")
    channels_enabled = forms.MultipleChoiceField(
        label="Channels in use",
        required=False,
        choices=list(POLICY_CHANNELS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    first_party_follows_reg_f = forms.BooleanField(
        label="Follow Regulation F's contact practices as policy",
        required=False,
        help_text="For a first-party office (collecting its own debts). Never adds the "
        "“debt collector” wording.",
    )
    sms_provider_permits_third_party = forms.BooleanField(
        label="Our SMS provider carries third-party debt collection texts",
        required=False,
        help_text="US and Canadian carriers (and Twilio) do not. Tick only when a provider "
        "that permits it is configured.",
    )
    nyc_rules_enabled = forms.BooleanField(
        label="Apply New York City's rules",
        required=False,
        help_text="At most 3 attempts per 7 days across channels, and written consent "
        "before email or text, for debtors with a New York City address.",
    )
    hardship_pause_days = forms.IntegerField(
        label="Days a hardship request pauses collection",
        required=False,
        min_value=0,
        max_value=HARDSHIP_MAX_DAYS,
        help_text="A debtor's hardship request (portal) places a hardship hold this long; "
        "0: no automatic pause, an agent decides.",
        error_messages={
            "invalid": "Enter a whole number.",
            "min_value": f"Choose 0 (no automatic pause) to {HARDSHIP_MAX_DAYS} days.",
            "max_value": f"Choose 0 (no automatic pause) to {HARDSHIP_MAX_DAYS} days.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=200,
        help_text="Kept in the policy's history, with your name and the time.",
        error_messages={
            "required": "Say why the policy changes: the reason is kept in its history."
        },
    )

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, **kwargs)
        self.office = office

    def clean(self):
        # Every problem at once: the law's limits (compliance.services) for the fields
        # that parsed, beside the ones that did not.
        cleaned = super().clean()
        problems = policy_errors(office=self.office, **self.service_kwargs(partial=True))
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned

    @classmethod
    def initial_from(cls, effective):
        return {
            "cap_email": effective["caps"]["email"],
            "cap_sms": effective["caps"]["sms"],
            "cap_call": effective["caps"]["call"],
            "earliest_hour": effective["earliest_hour"],
            "latest_hour": effective["latest_hour"],
            "channels_enabled": effective["channels_enabled"],
            "first_party_follows_reg_f": effective["first_party_follows_reg_f"],
            "sms_provider_permits_third_party": effective["sms_provider_permits_third_party"],
            "nyc_rules_enabled": effective["nyc_rules_enabled"],
            "hardship_pause_days": effective["hardship_pause_days"],
        }

    def service_kwargs(self, partial=False):
        """The policy_change arguments; with `partial`, only those policy_errors checks,
        from whatever parsed."""
        data = self.cleaned_data
        kwargs = {
            "caps_per_7_days": {ch: data.get(f"cap_{ch}") for ch in ("email", "sms", "call")},
            "earliest_hour": data.get("earliest_hour"),
            "latest_hour": data.get("latest_hour"),
            "channels_enabled": data.get("channels_enabled", []),
            "reason": data.get("reason", ""),
        }
        if not partial:
            kwargs.update(
                first_party_follows_reg_f=data["first_party_follows_reg_f"],
                sms_provider_permits_third_party=data["sms_provider_permits_third_party"],
                nyc_rules_enabled=data["nyc_rules_enabled"],
                # Blank: unchanged.
                hardship_pause_days=data.get("hardship_pause_days"),
            )
        return kwargs


class ComplaintForm(forms.Form):
    account = forms.CharField(
        label="Account reference",
        max_length=60,
        help_text="The office or creditor reference of the account the complaint is about.",
        error_messages={"required": "Give the reference of the account it is about."},
    )
    source = forms.ChoiceField(label="Received from", choices=Complaint.Source.choices)
    received_on = _date_field("Date received")
    response_due_on = _date_field(
        "Response due",
        required=False,
        help_text=f"Leave blank for the default: {COMPLAINT_RESPONSE_DAYS_CFPB} days after "
        f"receipt for a CFPB complaint, {COMPLAINT_RESPONSE_DAYS_OTHER} for any other.",
    )
    summary = forms.CharField(
        label="What the complaint says",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept as a note on the account and shown in the response task.",
    )


class ComplaintOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[
            (Complaint.Outcome.UPHELD, "Upheld: we got something wrong"),
            (Complaint.Outcome.NOT_UPHELD, "Not upheld"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the complaint was upheld."},
    )
    root_cause = forms.CharField(
        label="Root cause",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "root-causes"}),
        help_text="What went wrong, so it can be fixed. Pick one or write your own.",
    )


ROOT_CAUSES = [
    "Contact outside permitted hours",
    "Contact after an opt-out or cease request",
    "Too many contact attempts",
    "Dispute not handled in time",
    "Wrong balance or itemization",
    "Disclosure to a third party",
    "Staff conduct",
    "Validation notice missing or late",
    "No fault found",
]


class AuditForm(forms.Form):
    since = _date_field("From")
    until = _date_field("To")
    # The page runs the re-audit while you wait; longer periods belong to the command.
    MAX_DAYS = 92

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until:
            if since > until:
                self.add_error("until", "The end date must be on or after the start date.")
            elif (until - since).days >= self.MAX_DAYS:
                self.add_error(
                    "until",
                    f"Choose at most {self.MAX_DAYS} days here; for a longer period run "
                    "`manage.py compliance_audit`.",
                )
        return cleaned

    @classmethod
    def default(cls, zone):
        today = timezone.localdate(timezone=zone)
        return {"since": today - timedelta(days=29), "until": today}


# ---------- account page actions ----------

RECEIVED_VIA = [
    ("letter", "Letter"),
    ("email", "Email"),
    ("phone", "Phone call"),
    ("portal", "Debtor portal"),
    ("fax", "Fax"),
    ("in_person", "In person"),
]
CORRESPONDENCE_VIA = [c for c in RECEIVED_VIA if c[0] in ("letter", "email", "fax", "in_person")]


class DisputeForm(forms.Form):
    received_via = forms.ChoiceField(label="Received by", choices=RECEIVED_VIA)
    received_on = _date_field("Date received")
    extent = forms.ChoiceField(
        label="What is disputed",
        choices=[("whole", "The whole debt"), ("part", "Part of the debt")],
        initial="whole",
        widget=forms.RadioSelect,
    )
    partial_amount = forms.DecimalField(
        label="Disputed amount",
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": "Enter an amount like 120.50.",
            "max_decimal_places": "Amounts have at most two decimal places.",
            "min_value": "The disputed amount must be more than 0.",
        },
    )
    reason = forms.CharField(label="Reason given", required=False, max_length=300)
    original_creditor_requested = forms.BooleanField(
        label="The debtor asked for the name and address of the original creditor",
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("extent") == "part" and cleaned.get("partial_amount") is None:
            if "partial_amount" not in self.errors:
                self.add_error(
                    "partial_amount", "Give the disputed amount, or choose the whole debt."
                )
        return cleaned


class CorrespondenceForm(forms.Form):
    received_on = _date_field("Date received")
    received_via = forms.ChoiceField(label="Came by", choices=CORRESPONDENCE_VIA)
    classification = forms.ChoiceField(
        label="What it is",
        choices=Correspondence.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the correspondence is."},
    )
    note = forms.CharField(
        label="What it says",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In a sentence or two; kept as a note. Required for a payment direction.",
    )
    attorney = forms.CharField(label="Attorney or law firm", required=False, max_length=200)
    bankruptcy_chapter = forms.ChoiceField(
        label="Bankruptcy chapter",
        required=False,
        choices=[
            ("", "Not stated"),
            ("7", "Chapter 7"),
            ("11", "Chapter 11"),
            ("13", "Chapter 13"),
        ],
    )
    bankruptcy_case = forms.CharField(label="Case number", required=False, max_length=60)
    complaint_source = forms.ChoiceField(
        label="Complaint from",
        required=False,
        choices=Complaint.Source.choices,
        initial=Complaint.Source.DEBTOR,
    )
    upload = forms.FileField(
        label="Scan or copy",
        required=False,
        validators=[FileExtensionValidator(UPLOAD_EXTENSIONS)],
        help_text="PDF, image or saved email, up to 10 MB. Kept with the account's documents.",
    )

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload and upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                "The file is larger than 10 MB: scan it at a lower resolution."
            )
        return upload


_CONTACT_ORDER = {"phone": 0, "email": 1, "address": 2}
_CHANNEL_LABELS = dict(Consent.Channel.choices)


class ConsentForm(forms.Form):
    # One choice per contact point and channel it carries, so no pair can be wrong.
    target = forms.ChoiceField(
        label="Contact point and channel",
        error_messages={"invalid_choice": "Choose one of this debtor's contact points."},
    )
    kind = forms.ChoiceField(
        label="The debtor",
        choices=[(Consent.Kind.OPT_OUT, "Opted out"), (Consent.Kind.CONSENT, "Consented")],
        initial=Consent.Kind.OPT_OUT,
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label="How",
        choices=[
            ("told an agent by phone", "Told an agent by phone"),
            ("in writing", "In writing"),
            ("by email", "By email"),
            ("STOP reply", "Replied STOP to a text"),
            ("in person", "In person"),
        ],
    )
    effective_on = _date_field("Date")

    def __init__(self, *args, debtor, **kwargs):
        super().__init__(*args, **kwargs)
        points = sorted(
            debtor.contact_points.all(), key=lambda cp: (_CONTACT_ORDER[cp.kind], cp.pk)
        )
        self._points = {cp.pk: cp for cp in points}
        self.fields["target"].choices = [
            (f"{cp.pk}:{channel}", f"{_CHANNEL_LABELS[channel]} · {cp.value}")
            for cp in points
            for channel in CHANNELS_BY_CONTACT_KIND.get(cp.kind, ())
        ]

    def clean_target(self):
        pk, channel = self.cleaned_data["target"].split(":")
        return self._points[int(pk)], channel


class HoldForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[(Hold.Kind.HARDSHIP, "Hardship forbearance"), (Hold.Kind.OTHER, "Other")],
    )
    scope = forms.ChoiceField(
        label="Applies to",
        choices=[
            (Hold.Scope.ACCOUNT, "This account"),
            (Hold.Scope.DEBTOR, "Every account of this debtor"),
        ],
        initial=Hold.Scope.ACCOUNT,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        error_messages={"required": "Say why collection pauses: the reason stays with the hold."},
    )
    until = _date_field(
        "Until", required=False, help_text="Leave blank to hold until someone lifts it."
    )


# Where staff learn of a circumstance (the debtor, a court record, the creditor, a search).
CIRCUMSTANCE_SOURCES = [
    (Source.DEBTOR, "The debtor or their family"),
    (Source.COURT, "Court record (e.g. PACER)"),
    (Source.PLACEMENT, "The creditor"),
    (Source.SKIP_TRACE, "Skip-trace or database search"),
    (Source.AGENT, "An agent, another way"),
]


class CircumstanceForm(forms.Form):
    kind = forms.ChoiceField(
        label="What is true of the debtor",
        choices=Circumstance.Kind.choices,
        error_messages={"required": "Choose what is true of the debtor."},
    )
    source = forms.ChoiceField(label="We learned it from", choices=CIRCUMSTANCE_SOURCES)
    effective_on = _date_field(
        "Since", help_text="The filing date, date of death, start of active duty, report date…"
    )
    ends_on = _date_field(
        "Until", required=False, help_text="Leave blank when unknown (e.g. the case is open)."
    )
    firm = forms.CharField(label="Attorney or law firm", required=False, max_length=200)
    attorney_contact = forms.CharField(
        label="Attorney's phone or address", required=False, max_length=200
    )
    chapter = forms.ChoiceField(
        label="Bankruptcy chapter",
        required=False,
        choices=[("", "Not stated"), ("7", "Chapter 7"), ("11", "Chapter 11"),
                 ("12", "Chapter 12"), ("13", "Chapter 13")],
    )  # fmt: skip
    case = forms.CharField(label="Case number", required=False, max_length=60)
    representative = forms.CharField(label="Estate representative", required=False, max_length=200)
    representative_contact = forms.CharField(
        label="Representative's phone or address", required=False, max_length=200
    )
    branch = forms.CharField(label="Branch of service", required=False, max_length=100)
    report = forms.CharField(label="Report or reference", required=False, max_length=100)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        # Only the fields that belong to the chosen kind (a form may carry stale others).
        cleaned["details"] = {name: cleaned.get(name, "") for name in DETAIL_FIELDS.get(kind, ())}
        return cleaned


class CircumstanceEndForm(forms.Form):
    ended_on = _date_field("Ended on")


class WorkContactRequestForm(forms.Form):
    """The debtor asked not to be contacted at work (F-PREF; MA-WORK in Massachusetts)."""

    method = forms.ChoiceField(
        label="How the debtor asked",
        choices=[("oral", "Orally (by phone or in person)"), ("written", "In writing")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the debtor asked orally or in writing."},
    )
    made_on = _date_field("Date the debtor asked")


class LocationInquiryForm(forms.Form):
    """A call to a third party to ask where the debtor is (F-3P)."""

    relation = forms.ChoiceField(
        label="Who they are to the debtor",
        choices=[("", "Choose…"), *THIRD_PARTY_RELATIONS],
        error_messages={"required": "Choose who the third party is to the debtor."},
    )
    phone = forms.CharField(
        label="Their phone number",
        max_length=40,
        error_messages={"required": "Give the number you are about to call."},
    )


class ErasureRequestForm(forms.Form):
    """A request to erase the debtor's personal data (EU-GDPR)."""

    requested_by = forms.ChoiceField(
        label="Who asked",
        choices=ErasureRequest.Requester.choices,
        error_messages={"required": "Say who asked: the debtor or their representative."},
    )
    received_via = forms.ChoiceField(
        label="How it reached us",
        choices=[("", "Choose…"), *ErasureRequest.Via.choices],
        error_messages={"required": "Say how the request reached us."},
    )
    received_on = _date_field("Date received")
