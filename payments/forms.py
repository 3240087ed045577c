"""Forms of the account page's money actions. They parse what a person typed and say
what is missing; what may be done (amounts, policy) is decided in payments.services."""

from django import forms

from payments.models import Payment, PlanPolicy
from payments.services.offline import OFFLINE_METHODS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
OFFLINE_CHOICES = [(m.value, m.label) for m in Payment.Method if m.value in OFFLINE_METHODS]


class OfflinePaymentForm(forms.Form):
    amount = forms.CharField(label="Amount received", widget=MONEY, max_length=20)
    method = forms.ChoiceField(label="How it was paid", choices=OFFLINE_CHOICES)
    received_on = forms.DateField(label="Date received", widget=DATE)
    check_number = forms.CharField(label="Check number", required=False, max_length=30)
    serial_number = forms.CharField(
        label="Money order serial number", required=False, max_length=40
    )
    bank_reference = forms.CharField(label="Bank transfer reference", required=False)
    routing_number = forms.CharField(
        label="Routing number", required=False, max_length=9, help_text="Check by phone only"
    )
    account_last4 = forms.CharField(
        label="Bank account, last 4 digits", required=False, max_length=4
    )

    def instrument(self):
        names = (
            "check_number",
            "serial_number",
            "bank_reference",
            "routing_number",
            "account_last4",
        )
        return {n: self.cleaned_data.get(n, "") for n in names}


class PaymentLinkForm(forms.Form):
    amount = forms.CharField(label="Amount", widget=MONEY, max_length=20)
    settle = forms.BooleanField(label="Accept as the lump-sum settlement on offer", required=False)


class OfferForm(forms.Form):
    discount_percent = forms.DecimalField(
        label="Discount (% of the balance)", min_value=1, max_value=100, decimal_places=1
    )
    days = forms.IntegerField(label="Open for (days)", min_value=7, max_value=90, initial=30)
    channel = forms.ChoiceField(
        label="Send it",
        choices=[
            ("email", "By email (PDF attached)"),
            ("letter", "By letter"),
            ("", "Don't send: the debtor sees it in the portal"),
        ],
        required=False,
    )


class PromiseForm(forms.Form):
    amount = forms.CharField(label="Amount promised", widget=MONEY, max_length=20)
    due_date = forms.DateField(label="By", widget=DATE)


class PlanForm(forms.Form):
    count = forms.IntegerField(label="Number of payments", min_value=1, max_value=260)
    frequency = forms.ChoiceField(
        label="How often",
        choices=[("weekly", "Weekly"), ("biweekly", "Every two weeks"), ("monthly", "Monthly")],
    )
    start_date = forms.DateField(label="First payment on", widget=DATE)
    total = forms.CharField(
        label="Settle for (total)",
        required=False,
        widget=MONEY,
        help_text="Leave empty for a plan over the full balance.",
    )
    note = forms.CharField(
        label="Why this plan", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200)


class RefundForm(forms.Form):
    amount = forms.CharField(
        label="Amount to refund", widget=MONEY, max_length=20, help_text="Empty: all of it"
    )
    reason = forms.CharField(label="Reason", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].required = False


class PolicyForm(forms.ModelForm):
    frequencies = forms.MultipleChoiceField(
        label="Frequencies offered",
        choices=PlanForm.base_fields["frequency"].choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PlanPolicy
        fields = [
            "minimum_payment",
            "minimum_installment",
            "max_months",
            "frequencies",
            "max_lump_sum_discount",
            "lump_sum_offer_days",
            "max_settlement_discount",
            "waive_interest_on_plan",
            "grace_days",
            "autopay_notice_days",
        ]
        labels = {
            "max_lump_sum_discount": "Largest lump-sum discount (0–1)",
            "max_settlement_discount": "Largest settlement discount (0–1)",
            "lump_sum_offer_days": "Days a lump-sum offer stays open",
            "grace_days": "Grace days after a missed payment",
        }
