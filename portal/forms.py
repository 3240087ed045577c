"""The portal's forms: parse and check what the debtor typed, with messages that say
what to fix, in the debtor's language. No business rules here."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from portal import services
from portal.templatetags.portal_tags import money
from portal.verification import Answers

_REQUIRED = {"required": _("This field is required.")}


class PortalForm(forms.Form):
    """Ties each input to its hint and error (aria-describedby, aria-invalid) so a
    screen reader reads them with the field; the templates print them with these ids."""

    def _describe(self):
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            if self.is_bound and name in self.errors:
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids and not isinstance(
                field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple
            ):
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self):
        super().full_clean()
        self._describe()


class VerifyForm(PortalForm):
    """Identity fields for the office's method; `with_reference` adds the account
    reference (the public page, where no link says who is asking)."""

    reference = forms.CharField(
        label=_("Account reference"),
        help_text=_("It is printed on our letters and emails, for example HR-100042."),
        max_length=40,
        error_messages={"required": _("Enter your account reference.")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        error_messages={"required": _("Enter your last name.")},
    )
    dob_month = forms.IntegerField(
        label=_("Month"), min_value=1, max_value=12, error_messages=_REQUIRED
    )
    dob_day = forms.IntegerField(
        label=_("Day"), min_value=1, max_value=31, error_messages=_REQUIRED
    )
    dob_year = forms.IntegerField(
        label=_("Year"), min_value=1900, max_value=2100, error_messages=_REQUIRED
    )
    postal_code = forms.RegexField(
        label=_("ZIP code"),
        regex=r"^\s*\d{5}(-?\d{4})?\s*$",
        error_messages={
            "required": _("Enter the ZIP code of your address."),
            "invalid": _("Enter a 5-digit ZIP code, like 10001."),
        },
    )
    ssn_last4 = forms.RegexField(
        label=_("Last 4 digits of your Social Security number"),
        regex=r"^\s*\d{4}\s*$",
        error_messages={
            "required": _("Enter the last 4 digits of your Social Security number."),
            "invalid": _("Enter exactly 4 digits."),
        },
    )

    def __init__(self, *args, method, with_reference, **kwargs):
        super().__init__(*args, **kwargs)
        self.method = method
        keep = {"postal_code", "ssn_last4"} if method == "zip_ssn4" else {
            "last_name", "dob_month", "dob_day", "dob_year"
        }  # fmt: skip
        if with_reference:
            keep.add("reference")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        autocomplete = {
            "last_name": "family-name",
            "dob_month": "bday-month",
            "dob_day": "bday-day",
            "dob_year": "bday-year",
            "postal_code": "postal-code",
            "ssn_last4": "off",
            "reference": "off",
        }
        for name, field in self.fields.items():
            field.widget.attrs["autocomplete"] = autocomplete[name]
            if name.startswith("dob_") or name in ("postal_code", "ssn_last4"):
                # A numeric keypad on phones, without the spinner of type=number.
                field.widget = forms.TextInput(
                    attrs={
                        "inputmode": "numeric",
                        "autocomplete": autocomplete[name],
                        "pattern": "[0-9]*" if name != "postal_code" else "[0-9-]*",
                    }
                )

    @property
    def dob_fields(self):
        return [self[name] for name in ("dob_month", "dob_day", "dob_year") if name in self.fields]

    @property
    def dob_errors(self):
        errors = []
        for name in ("dob_month", "dob_day", "dob_year", "__dob__"):
            errors.extend(self.errors.get(name, []))
        return errors[:1]

    def clean(self):
        data = super().clean()
        if self.method != "zip_ssn4" and all(
            data.get(k) is not None for k in ("dob_month", "dob_day", "dob_year")
        ):
            try:
                data["date_of_birth"] = date(
                    data["dob_year"], data["dob_month"], data["dob_day"]
                ).isoformat()
            except ValueError:
                self.add_error(None, _("That date of birth is not a real date: check it."))
        return data

    def answers(self):
        data = self.cleaned_data
        return Answers(
            last_name=data.get("last_name", ""),
            date_of_birth=data.get("date_of_birth", ""),
            postal_code=(data.get("postal_code") or "").strip(),
            ssn_last4=(data.get("ssn_last4") or "").strip(),
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


DISPUTE_REASONS = [
    ("not_mine", _("This is not my debt")),
    ("wrong_amount", _("The amount is wrong")),
    ("paid", _("I already paid it")),
    ("identity_theft", _("I am a victim of identity theft")),
    ("other", _("Another reason")),
]


class DisputeForm(PortalForm):
    scope = forms.ChoiceField(
        label=_("What do you dispute?"),
        choices=[("all", _("All of the debt")), ("part", _("Part of the debt"))],
        widget=forms.RadioSelect,
        initial="all",
        error_messages={"required": _("Choose whether you dispute all or part of the debt.")},
    )
    amount = forms.CharField(
        label=_("Amount you dispute"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.ChoiceField(
        label=_("Why?"),
        choices=DISPUTE_REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason that fits best.")},
    )
    details = forms.CharField(
        label=_("Tell us more (optional)"),
        required=False,
        max_length=250,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("Keep it under 250 characters; attach documents too.")},
    )
    documents = MultipleFileField(
        label=_("Documents (optional)"),
        help_text=_("PDF or photos, up to 10 MB each: receipts, letters, a police report."),
        required=False,
    )

    def __init__(self, *args, balance, **kwargs):
        super().__init__(*args, **kwargs)
        self.balance = balance

    def clean(self):
        data = super().clean()
        if data.get("scope") == "part":
            raw = (data.get("amount") or "").replace(",", "").replace("$", "").strip()
            try:
                amount = Decimal(raw).quantize(Decimal("0.01"))
            except InvalidOperation:
                amount = None
            if amount is None or not (Decimal("0") < amount <= self.balance):
                self.add_error(
                    "amount",
                    _("Enter an amount more than 0 and no more than %(balance)s.")
                    % {"balance": money(self.balance)},
                )
            data["amount_value"] = amount
        else:
            data["amount_value"] = None
        return data


class HardshipForm(PortalForm):
    reasons = forms.MultipleChoiceField(
        label=_("What is making it hard to pay?"),
        choices=[
            ("job_loss", _("I lost my job or work hours")),
            ("illness", _("Illness or injury")),
            ("reduced_income", _("My income went down")),
            ("family", _("A change in my family (separation, a death, a new child)")),
            ("disaster", _("A disaster or emergency")),
            ("other", _("Something else")),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one.")},
    )
    note = forms.CharField(
        label=_("Anything you want us to know (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PreferencesForm(PortalForm):
    preferred_channel = forms.ChoiceField(
        label=_("How do you prefer we contact you?"),
        required=False,
        choices=[
            ("", _("No preference")),
            ("email", _("Email")),
            ("sms", _("Text message")),
            ("call", _("Phone call")),
            ("letter", _("Letter")),
        ],
        widget=forms.RadioSelect,
    )
    quiet_times = forms.MultipleChoiceField(
        label=_("Times that are not good for you"),
        help_text=_("In your own time zone, where you live."),
        required=False,
        choices=[
            ("mornings", _("Mornings (8am to noon)")),
            ("workday", _("Working hours on weekdays (9am to 5pm)")),
            ("evenings", _("Evenings (5pm to 9pm)")),
            ("weekends", _("Weekends")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    opt_outs = forms.MultipleChoiceField(
        label=_("Stop contacting me by"),
        required=False,
        choices=[
            ("email", _("Email")),
            ("sms", _("Text message")),
            ("call", _("Phone call")),
            ("letter", _("Letter")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label=_("Language for our messages"),
        choices=[("en", "English"), ("es", "Español")],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a language.")},
    )


class MessageForm(PortalForm):
    account = forms.TypedChoiceField(
        label=_("About which account?"), coerce=int, error_messages=_REQUIRED
    )
    body = forms.CharField(
        label=_("Your message"),
        max_length=services.MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Write your message."),
            "max_length": _("Keep your message under 2,000 characters."),
        },
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [
            (a.pk, f"{a.creditor.name} · {a.office_reference}") for a in accounts
        ]
        if len(accounts) == 1:
            self.fields["account"].initial = accounts[0].pk
