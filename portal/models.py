"""What the portal keeps of its own: how an office wants debtors to prove who they are,
and the conversation between a debtor and the office.

Everything else a portal action changes (disputes, holds, consents, preferences,
payments, plans) lives in the app that owns it; these tables hold no debt facts.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recovery.tenancy import TenantModel


class PortalSettings(TenantModel):
    """One row per office (absent means the defaults)."""

    class Verification(models.TextChoices):
        NAME_DOB = "name_dob", _("Last name and date of birth")
        ZIP_SSN4 = "zip_ssn4", _("ZIP code and last 4 digits of the SSN")

    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.NAME_DOB
    )
    # What the office offers a debtor in hardship, in plain words, per language; blank
    # means the portal's generic wording.
    hardship_offer_en = models.TextField(blank=True)
    hardship_offer_es = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "portal settings"
        constraints = [
            models.UniqueConstraint(fields=["office"], name="portalsettings_one_per_office")
        ]

    def __str__(self):
        return f"Portal settings of office {self.office_id}"


class PortalMessage(TenantModel):
    """One message in the conversation about an account: from the debtor (through the
    portal) or a reply from the office. Staff read the debtor's side in their inbox (a
    work item points at it)."""

    class Direction(models.TextChoices):
        FROM_DEBTOR = "in", _("From you")
        FROM_OFFICE = "out", _("From the office")

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="portal_messages"
    )
    debtor_id = models.BigIntegerField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body = models.TextField()
    author = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_item = models.ForeignKey(
        "recovery.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["office", "debtor_id", "created_at"])]

    def __str__(self):
        return f"{self.get_direction_display()} #{self.pk}"
