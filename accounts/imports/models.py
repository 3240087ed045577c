"""The records of placement imports: saved column mappings, one record per uploaded file,
and one record per row that was attached to a debtor who already existed (what an
unmerge needs to undo it).

Imported by `accounts.models`, so these are models of the accounts app. They hold ids,
counts and file-column names, never a debtor's personal data: that stays in the stored
file (a `recovery.Document`) and in the debtors app.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from recovery.tenancy import TenantModel


class ImportMapping(TenantModel):
    """Which column of a creditor's file holds which of our fields, saved under a name so
    the next file from that creditor is mapped in one click."""

    creditor = models.ForeignKey(
        "accounts.Creditor", on_delete=models.CASCADE, related_name="import_mappings"
    )
    name = models.CharField(max_length=80, default="Default")
    # {our field key: the file's column header}
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_used_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "creditor", "name"], name="importmapping_creditor_name"
            )
        ]

    def __str__(self):
        return self.name


class PlacementImport(TenantModel):
    """One uploaded placement file and what became of it."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "All or nothing"
        VALID_ONLY = "valid_only", "Valid rows only"

    class Status(models.TextChoices):
        # Running imports report their phase through the cache (their own transaction is
        # invisible until it commits), so the table only holds states a reader can see.
        DRAFT = "draft", "Waiting for mapping"
        QUEUED = "queued", "In progress"  # queued for a worker, or running
        DONE = "done", "Imported"
        REJECTED = "rejected", "Nothing imported"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        WEB = "web", "Browser upload"
        COMMAND = "command", "Command line"

    creditor = models.ForeignKey(
        "accounts.Creditor", on_delete=models.PROTECT, related_name="placement_imports"
    )
    document = models.ForeignKey("recovery.Document", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=list, blank=True)
    row_estimate = models.PositiveIntegerField(default=0)
    mapping = models.ForeignKey(
        ImportMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mapping_snapshot = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)

    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    debtors_created = models.PositiveIntegerField(default=0)
    debtors_matched = models.PositiveIntegerField(default=0)
    matches_to_review = models.PositiveIntegerField(default=0)
    total_placed = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    # The first problems found ({line, column, message}), capped; error_count is all.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the import stopped, for a person")
    rejected_document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placement = models.ForeignKey(
        "accounts.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["office", "creditor", "sha256"]),
            models.Index(fields=["office", "created_at"]),
        ]

    def __str__(self):
        return f"Import {self.pk} ({self.file_name})"

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.REJECTED, self.Status.FAILED)


class PlacementMatch(TenantModel):
    """A row attached to a debtor who already existed (in the office, or earlier in the
    same file), with what an unmerge must undo if the match was wrong."""

    class Method(models.TextChoices):
        CREDITOR_ID = "creditor_id", "Creditor's customer ID"
        IDENTITY = "identity", "Last name, date of birth and SSN last 4"
        UNCERTAIN = "uncertain", "Last name and date of birth only"

    placement_import = models.ForeignKey(
        PlacementImport, on_delete=models.CASCADE, related_name="matches"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField(help_text="Row number in the file (the header is 1)")
    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=Method.choices)
    reason = models.CharField(max_length=200, blank=True)
    work_item = models.ForeignKey(
        "recovery.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Contact points this row added to the matched debtor, and the creditor-id link it
    # created: an unmerge takes them away from that debtor again.
    added_contact_point_ids = models.JSONField(default=list, blank=True)
    linked_reference = models.ForeignKey(
        "debtors.DebtorReference",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    split_debtor = models.ForeignKey(
        "debtors.Debtor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    split_at = models.DateTimeField(null=True, blank=True)
    split_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["line"]
        constraints = [
            models.UniqueConstraint(fields=["office", "account"], name="placementmatch_account")
        ]
        indexes = [models.Index(fields=["office", "placement_import", "method"])]

    def __str__(self):
        return f"Line {self.line} → debtor {self.debtor_id}"
