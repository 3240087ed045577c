"""Campaign strategies and the message outbox. The planner, dispatcher and channels come
with the campaigns issue; these tables hold their state."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

from recovery.tenancy import TenantModel

CHANNELS = [("email", "Email"), ("sms", "SMS"), ("letter", "Letter"), ("call", "Agent call")]


class MessageTemplate(TenantModel):
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=10, choices=CHANNELS)
    language = models.CharField(max_length=5, default="en")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "name", "channel", "language"], name="template_unique_name"
            )
        ]


class Campaign(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        # A later version took over: no new entrants; enrolled accounts finish this one.
        RETIRING = "retiring", "Finishing enrolled accounts"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    previous_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    entry_segment = models.JSONField(default=dict, blank=True)
    exit_conditions = models.JSONField(default=list, blank=True)
    escalation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "name", "version"], name="campaign_name_version"
            )
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class Step(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    wait_days = models.PositiveIntegerField(default=0)
    # A wait relative to a date the account has ("3 days before the promise-to-pay
    # date"): `wait_event` names it (campaigns.builder.events), `wait_days` is the
    # distance and `wait_before` the side. Empty: `wait_days` after the step before.
    wait_event = models.CharField(max_length=30, blank=True, db_default="")
    wait_before = models.BooleanField(default=False, db_default=False)
    channels = models.JSONField(default=list)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A template per channel, {"email": id, "sms": id, …}; the debtor's language picks
    # the variant of the same name (campaigns.library). `template` is the fallback.
    templates = models.JSONField(default=dict, blank=True)
    # e.g. {"skip_if": ["promise_open"]}: the step is passed over for those accounts.
    conditions = models.JSONField(default=dict, blank=True)
    # Champion/challenger: [{"key": "A", "percent": 50, "templates": {...}}, …].
    variants = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["office", "campaign", "position"], name="step_position")
        ]

    @property
    def wait_label(self):
        from campaigns.builder.events import wait_label

        return wait_label(self)

    def due_from(self, reached_at):
        """When an enrollment that reaches this step at `reached_at` is next looked at: a
        relative wait is decided by the planner against the event's date, from then on."""
        if self.wait_event:
            return reached_at
        return reached_at + timedelta(days=self.wait_days)


class Enrollment(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        EXITED = "exited", "Exited"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="enrollments")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    next_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_due_at = models.DateTimeField(null=True, blank=True)
    variant = models.CharField(max_length=20, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    exited_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "campaign", "account"], name="enrollment_unique"
            )
        ]
        indexes = [
            models.Index(fields=["office", "status", "next_due_at"]),
            # The planner's per-step INSERT ... SELECT: only the due, active enrollments of
            # one step, not every enrollment of it.
            models.Index(
                fields=["office", "next_step", "next_due_at"],
                condition=models.Q(status="active"),
                name="enrollment_due_per_step",
            ),
        ]


class Message(TenantModel):
    """The outbox: one row per (enrollment, step, channel, attempt). Every planned
    message ends sent, deferred, blocked, failed or flagged."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DEFERRED = "deferred", "Deferred"
        BLOCKED = "blocked", "Blocked"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        FLAGGED = "flagged", "Flagged for a person"

    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempt = models.PositiveIntegerField(default=1)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="messages"
    )
    debtor_id = models.BigIntegerField()
    contact_point = models.ForeignKey(
        "debtors.ContactPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=CHANNELS)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # When the dispatcher took the row to send it: a row still `sending` long after is
    # reconciled with the provider (campaigns/reconcile.py), never blindly resent.
    sending_at = models.DateTimeField(null=True, blank=True)
    # The provider's own last status applied (e.g. "undelivered") and its error code.
    provider_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    variant = models.CharField(max_length=20, blank=True)
    # Send-time choice (campaigns.sendtime), made once: the hour the row was held for,
    # if any, and why ("" = not chosen yet).
    send_time_at = models.DateTimeField(null=True, blank=True)
    # (A database default: the planner writes rows with raw SQL.)
    send_time_reason = models.CharField(max_length=200, blank=True, db_default="")
    # Letters (campaigns.letters): the letter as printed, so its print batch reproduces
    # the stored PDF word for word; its PDF on the account; the one batch it went in.
    letter_html = models.TextField(blank=True, db_default="")
    letter_pages = models.PositiveSmallIntegerField(null=True, blank=True)
    letter_document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    letter_batch = models.ForeignKey(
        "LetterBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    letter_sequence = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One outbox row per (enrollment, step, channel, attempt): a second tick, a
            # crash or two beats plan nothing twice.
            models.UniqueConstraint(
                fields=["office", "enrollment", "step", "channel", "attempt"],
                name="message_plan_key",
            ),
            # A letter sits in one batch at most (its own column) and once in it.
            models.UniqueConstraint(
                fields=["office", "letter_batch", "letter_sequence"],
                name="letter_batch_sequence",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "due_at"]),
            # The dispatcher's queue: due rows in the order it takes them, so a batch
            # reads `limit` index entries however many rows are waiting.
            models.Index(
                fields=["office", "due_at", "id"],
                condition=models.Q(status__in=["planned", "deferred"]),
                name="message_due_queue",
            ),
            models.Index(fields=["office", "provider_message_id"]),
            # Provider callbacks find a message's office by its provider id before any
            # office is known (through the escape hatch): this one starts with the id.
            models.Index(fields=["provider_message_id"], name="message_provider_id_any_office"),
            models.Index(fields=["office", "account", "created_at"]),
            # The letters waiting for a batch, and a batch's letters.
            models.Index(
                fields=["office", "letter_batch", "letter_sequence"],
                condition=models.Q(channel="letter"),
                name="message_letter_batch",
            ),
        ]


class LetterBatch(TenantModel):
    """One print run for the mailing vendor: the letters queued when it was made, as one
    PDF in sequence and a manifest CSV. Never changed once created: the vendor prints
    exactly what was handed over, and a letter is never handed over twice."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    letter_count = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    # Set in the transaction that creates the batch (the manifest names the batch id).
    pdf = models.ForeignKey(
        "recovery.Document", null=True, on_delete=models.PROTECT, related_name="+"
    )
    manifest = models.ForeignKey(
        "recovery.Document", null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A letter batch cannot be changed once created.")
        super().save(*args, **kwargs)


class DeliveryEvent(TenantModel):
    """One provider event (status callback, tracking event, inbound text) as received:
    its unique key makes a retried or duplicated webhook a no-op. Ids and codes only,
    never message text or addresses."""

    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    provider = models.CharField(max_length=20)
    # The provider's event id, or (MessageSid, status) for Twilio status callbacks.
    event_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "provider", "event_key"], name="delivery_event_once"
            )
        ]
        indexes = [models.Index(fields=["office", "message"])]


class DryRun(TenantModel):
    """A replay of a campaign over the office's recent history (campaigns.builder.dryrun):
    what it would have sent, what compliance would have blocked, what became of the
    accounts. Progress is reported through the cache while it runs; the result is kept."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dry_runs")
    days = models.PositiveIntegerField(default=30)
    outcome_days = models.PositiveIntegerField(default=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["office", "campaign", "created_at"])]


class AccountScore(TenantModel):
    """An account's collection score, 0–100 (higher: likelier to pay), and its band.

    The smallest version that lets a campaign segment by score band: nothing computes
    or imports scores yet (scoring comes with its own issue), so most accounts have
    none, and a score band condition never matches an account without one."""

    # Inclusive score ranges of each band.
    BANDS = {"A": (80, 100), "B": (60, 79), "C": (40, 59), "D": (0, 39)}

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="collection_score"
    )
    score = models.PositiveSmallIntegerField()
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "account"], name="account_score_once"),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="score_0_to_100"),
        ]

    @property
    def band(self):
        return next(b for b, (low, high) in self.BANDS.items() if low <= self.score <= high)
