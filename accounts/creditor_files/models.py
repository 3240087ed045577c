"""One uploaded creditor or vendor file (recall, balance update, scrub, skip-trace) and
what became of it. Imported by `accounts.models`, so a model of the accounts app. Holds
ids, counts and problems, never a debtor's personal data (that stays in the stored
file)."""

from django.db import models
from django.utils import timezone

from recovery.tenancy import TenantModel


class CreditorFile(TenantModel):
    class Kind(models.TextChoices):
        RECALL = "recall", "Recall"
        BALANCE_UPDATE = "balance_update", "Balance update (paid direct)"
        SCRUB = "scrub", "Bankruptcy, deceased and SCRA scrub"
        SKIP_TRACE = "skip_trace", "Skip-trace results"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "All or nothing"
        VALID_ONLY = "valid_only", "Valid rows only"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Applying"
        DONE = "done", "Applied"
        REJECTED = "rejected", "Nothing applied"
        FAILED = "failed", "Failed"

    creditor = models.ForeignKey(
        "accounts.Creditor", on_delete=models.PROTECT, related_name="creditor_files"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FAILED)
    document = models.ForeignKey("recovery.Document", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    # {our field key: the file's column header}, guessed from the header names.
    mapping = models.JSONField(default=dict, blank=True)
    # Counted when the file is stored (a large file is applied in the background).
    row_estimate = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    # Rows that asked for what was already true (a re-run, an account already recalled).
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    rejected_document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["office", "creditor", "created_at"])]

    @property
    def is_finished(self):
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    def __str__(self):
        return f"{self.get_kind_display()} file {self.pk} ({self.file_name})"
