"""Compliance state: decisions with their rule ids, holds, disputes and complaints. The
rules engine comes with the compliance issue; these tables hold what it decides and
reads, with effective dates so any past moment can be replayed."""

from django.db import models
from django.utils import timezone

from accounts.models import MoneyField
from recovery.tenancy import TenantModel


class Decision(TenantModel):
    class Outcome(models.TextChoices):
        ALLOW = "allow", "Allow"
        DEFER = "defer", "Defer"
        BLOCK = "block", "Block"

    message = models.ForeignKey(
        "campaigns.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="decisions",
    )
    action = models.CharField(max_length=30, help_text="e.g. email, sms, call, legal")
    contact_point_id = models.BigIntegerField(null=True, blank=True)
    planned_for = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    debtor_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=5, choices=Outcome.choices)
    defer_until = models.DateTimeField(null=True, blank=True)
    rule_ids = models.JSONField(default=list)
    explanation = models.TextField()
    disclosures = models.JSONField(default=list, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["office", "account", "decided_at"]),
            models.Index(fields=["office", "outcome", "decided_at"]),
        ]


class Hold(TenantModel):
    """A pause on collection for a debtor, an account, a contact point or a channel."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", "Dispute"
        BANKRUPTCY = "bankruptcy", "Bankruptcy (automatic stay)"
        SCRA = "scra", "Servicemember (SCRA)"
        CEASE = "cease", "Cease communication"
        ATTORNEY = "attorney", "Attorney representation"
        DECEASED = "deceased", "Deceased"
        HARDSHIP = "hardship", "Hardship forbearance"
        IDENTITY_THEFT = "identity_theft", "Identity theft"
        OTHER = "other", "Other"

    class Scope(models.TextChoices):
        DEBTOR = "debtor", "Debtor"
        ACCOUNT = "account", "Account"
        CONTACT_POINT = "contact_point", "Contact point"
        CHANNEL = "channel", "Channel"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    scope = models.CharField(max_length=15, choices=Scope.choices)
    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.CASCADE, related_name="holds")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    contact_point = models.ForeignKey(
        "debtors.ContactPoint", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=20)
    reason = models.CharField(max_length=300, blank=True)
    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    set_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When we learned of it (effective_from is when it took effect): the audit replays
    # both "what was true" and "what we knew".
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["office", "debtor", "effective_from"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="account") | models.Q(account__isnull=False),
                name="hold_account_scope_needs_account",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope="contact_point") | models.Q(contact_point__isnull=False),
                name="hold_contact_scope_needs_contact_point",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope="channel") | ~models.Q(channel=""),
                name="hold_channel_scope_needs_channel",
            ),
        ]

    @property
    def is_active(self):
        now = timezone.now()
        return self.effective_from <= now and (self.effective_to is None or self.effective_to > now)


class Dispute(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Awaiting verification"
        VERIFIED = "verified", "Verification sent"
        RESOLVED = "resolved", "Resolved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="disputes"
    )
    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    received_via = models.CharField(max_length=20)
    is_partial = models.BooleanField(default=False)
    disputed_amount = MoneyField(null=True, blank=True, default=None)
    reason = models.CharField(max_length=300, blank=True)
    original_creditor_requested = models.BooleanField(default=False)
    within_validation_period = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    hold = models.ForeignKey(Hold, null=True, blank=True, on_delete=models.SET_NULL)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["office", "status", "received_at"])]


class Complaint(TenantModel):
    """The complaint register: who complained, through whom, and what came of it."""

    class Source(models.TextChoices):
        DEBTOR = "debtor", "Debtor directly"
        CFPB = "cfpb", "CFPB"
        STATE_AG = "state_ag", "State attorney general"
        CREDITOR = "creditor", "Creditor"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        UPHELD = "upheld", "Upheld"
        NOT_UPHELD = "not_upheld", "Not upheld"

    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.CASCADE, related_name="+")
    accounts = models.ManyToManyField(
        "accounts.Account", through="ComplaintAccount", related_name="complaints", blank=True
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    received_at = models.DateTimeField(default=timezone.now)
    response_due_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    root_cause = models.CharField(max_length=200, blank=True)


class ComplaintAccount(TenantModel):
    """Links a complaint to the accounts it concerns (carries office_id like every row)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "complaint", "account"], name="complaint_account_unique"
            )
        ]


class ContactAttempt(TenantModel):
    """The contact ledger: every attempt to reach a debtor, by channel, with its result.
    The frequency caps (F-7IN7, F-HARASS, MA-CALLS, WA) count these rows."""

    class Result(models.TextChoices):
        ATTEMPTED = "attempted", "Attempted (sent / rang)"
        NOT_CONNECTED = "not_connected", "Never connected (busy, not in service)"
        CONNECTED = "connected", "Connected (voicemail, someone answered)"
        CONVERSATION = "conversation", "Conversation with the debtor"

    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact_point = models.ForeignKey(
        "debtors.ContactPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=12)
    result = models.CharField(max_length=15, choices=Result.choices, default=Result.ATTEMPTED)
    occurred_at = models.DateTimeField(default=timezone.now)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    debtor_initiated = models.BooleanField(default=False)
    # The content flags of what was sent (e.g. validation_notice), for the re-audit.
    content_flags = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["office", "debtor", "channel", "occurred_at"]),
            models.Index(fields=["office", "account", "channel", "occurred_at"]),
        ]


class ValidationNotice(TenantModel):
    """A Regulation F validation notice sent for an account (F-VN, F-VPERIOD)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="validation_notices"
    )
    channel = models.CharField(max_length=10)
    sent_at = models.DateTimeField()
    assumed_received_on = models.DateField()
    period_ends_on = models.DateField()
    returned_at = models.DateTimeField(null=True, blank=True, help_text="Bounced or returned")
    document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["office", "account", "sent_at"])]


class OfficePolicy(TenantModel):
    """An office's own compliance policy: only ever stricter than the law.

    Changes are kept as new rows (the newest is in force), so the audit can replay the
    policy in force when a message was sent."""

    # e.g. {"email": 2, "sms": 2, "call": 5} per 7 days; lower than the defaults only.
    caps_per_7_days = models.JSONField(default=dict, blank=True)
    earliest_hour = models.PositiveSmallIntegerField(default=8)
    latest_hour = models.PositiveSmallIntegerField(default=21)
    channels_enabled = models.JSONField(default=list, blank=True)
    # A first-party office may adopt Regulation F's contact practices as policy.
    first_party_follows_reg_f = models.BooleanField(default=True)
    # A third-party US office may text only through a provider that permits it.
    sms_provider_permits_third_party = models.BooleanField(default=False)
    nyc_rules_enabled = models.BooleanField(default=False)
    # What a debtor's hardship request does (the office's forbearance policy): collection
    # contact pauses for this many days (0: no automatic pause; an agent decides).
    hardship_pause_days = models.PositiveSmallIntegerField(default=30)
    effective_from = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["office", "effective_from"])]


class ErasureRequest(TenantModel):
    """A data subject's request to erase their personal data (EU-GDPR, Art. 17). It
    restricts processing at once (Art. 18: the gate blocks every contact); the erasure
    itself waits while a retention duty (F-RETAIN) or a legal claim needs the data.
    Holds no personal data itself: the debtor by id, the request's facts."""

    class Via(models.TextChoices):
        PORTAL = "portal", "Debtor portal"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        PHONE = "phone", "Phone"
        IN_PERSON = "in_person", "In person"

    class Requester(models.TextChoices):
        DEBTOR = "debtor", "The debtor"
        REPRESENTATIVE = "representative", "An authorised representative"

    class Status(models.TextChoices):
        RESTRICTED = "restricted", "Restricted, erasure waiting"
        ERASED = "erased", "Erased"

    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.PROTECT, related_name="+")
    requested_by = models.CharField(max_length=15, choices=Requester.choices)
    received_via = models.CharField(max_length=10, choices=Via.choices)
    received_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESTRICTED)
    # When no retention duty needs the data any more (None: a legal claim is open, or
    # nothing keeps it); and what still keeps it, as short phrases without personal data.
    erasable_on = models.DateField(null=True, blank=True)
    kept_for = models.JSONField(default=list, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["office", "debtor"]),
            models.Index(fields=["office", "status", "erasable_on"]),
        ]
