from decimal import Decimal

from django import forms

from accounts.models import Creditor
from payments.remittance.models import CommissionTier, StatementKind


class PrepareForm(forms.Form):
    creditor = forms.ModelChoiceField(queryset=Creditor._base_manager.none(), empty_label="Choose…")
    period = forms.ChoiceField(
        choices=[
            ("last", "The last complete period (weekly or monthly, as the creditor is set up)"),
            ("custom", "These dates"),
        ],
        initial="last",
        widget=forms.RadioSelect,
    )
    period_start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(choices=StatementKind.choices, label="Statement type")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = Creditor.objects.filter(is_active=True).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            for name in ("period_start", "period_end"):
                if not data.get(name):
                    self.add_error(name, "Enter a date, or choose the last complete period.")
        return data


class TierForm(forms.ModelForm):
    creditor = forms.ModelChoiceField(queryset=Creditor._base_manager.none())
    rate = forms.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=100,
        label="Fee rate (%)",
        help_text="e.g. 33.33 for a third of what is collected",
    )

    class Meta:
        model = CommissionTier
        fields = ["creditor", "min_age_days", "age_from", "min_balance"]
        labels = {
            "min_age_days": "Accounts at least this many days old",
            "age_from": "Counting from",
            "min_balance": "Accounts placed with at least",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = Creditor.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("min_age_days") is None and data.get("min_balance") is None:
            raise forms.ValidationError("Set an age, a placed balance, or both.")
        return data

    def save(self, commit=True):
        self.instance.rate = (self.cleaned_data["rate"] / 100).quantize(Decimal("0.0001"))
        return super().save(commit=commit)


class BankUploadForm(forms.Form):
    file = forms.FileField(
        label="Bank statement (CSV)",
        help_text="Columns: date, description, amount, reference. Deposits positive.",
    )


class PayoutImportForm(forms.Form):
    payout_id = forms.CharField(label="Stripe payout id", max_length=80)


class ResolveForm(forms.Form):
    action = forms.ChoiceField(choices=[("match", "Match"), ("not_ours", "Not ours")])
    payment_id = forms.IntegerField(required=False, min_value=1, label="Payment number")
    payout_id = forms.CharField(required=False, max_length=80, label="Stripe payout id")
    note = forms.CharField(required=False, max_length=500, widget=forms.TextInput)


class DirectPaymentForm(forms.Form):
    amount = forms.CharField(label="Amount the debtor paid the creditor")
    received_on = forms.DateField(
        label="Date the creditor received it", widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(
        max_length=60,
        label="Creditor's reference",
        error_messages={"required": "Enter the creditor's reference for this payment."},
    )
