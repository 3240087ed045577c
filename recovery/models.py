"""Platform and tenancy core: users, offices, memberships, and the office-wide tables
every other app leans on (work items, documents, API keys, provider credentials).

`User`, `Office` and `Membership` are platform tables (a person logs in before any
office is known); everything else here is tenant-owned.
"""

import hashlib
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from recovery.crypto import EncryptedTextField
from recovery.tenancy import TenantModel

US_STATES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR",
]  # fmt: skip


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of staff (or a platform operator). Logs in with an email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform operator: admin site")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.full_name or self.email

    @property
    def display_name(self):
        return self.full_name or self.email.split("@")[0]


def validate_time_zone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"“{value}” is not a time zone (e.g. America/Chicago).") from exc


class Office(models.Model):
    """The tenant: one debt recovery office or agency."""

    class CollectorType(models.TextChoices):
        THIRD_PARTY = "third_party", "Third-party agency"
        FIRST_PARTY = "first_party", "First-party creditor (own debts)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, max_length=60)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    default_currency = models.CharField(
        max_length=3, default="USD", validators=[RegexValidator(r"^[A-Z]{3}$")]
    )
    country = models.CharField(max_length=2, default="US")
    licensed_states = models.JSONField(default=list, blank=True)
    collector_type = models.CharField(
        max_length=20, choices=CollectorType.choices, default=CollectorType.THIRD_PARTY
    )
    # Branding shown in the staff UI, letters and the debtor portal.
    brand_color = models.CharField(
        max_length=7, default="#2f5d62", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$")]
    )
    public_phone = models.CharField(max_length=32, blank=True)
    public_email = models.EmailField(blank=True)
    mailing_address = models.TextField(blank=True)
    business_hours = models.CharField(max_length=120, default="Mon–Fri 8am–8pm ET")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def today(self):
        """The date it is now in the office's own time zone (what its staff call today)."""
        return timezone.localdate(timezone=zoneinfo.ZoneInfo(self.time_zone))


class Role(models.TextChoices):
    AGENT = "agent", "Collection agent"
    SUPERVISOR = "supervisor", "Supervisor"
    MANAGER = "manager", "Office manager"
    COMPLIANCE = "compliance", "Compliance officer"
    ADMIN = "admin", "Office admin"
    CREDITOR = "creditor", "Creditor user"


class Membership(models.Model):
    """Which offices a user may enter, and as what. A platform table: it is read at
    login, before any office is in context."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    # A creditor user sees only that creditor's accounts.
    creditor = models.ForeignKey(
        "accounts.Creditor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "user"], name="membership_office_user"),
            models.CheckConstraint(
                condition=~models.Q(role="creditor") | models.Q(creditor__isnull=False),
                name="membership_creditor_role_needs_creditor",
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.office} ({self.get_role_display()})"

    def has_role(self, *roles):
        return self.is_active and self.role in roles


class Invitation(TenantModel):
    """An office admin's invitation to a new member of staff: a link to set a password."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    creditor = models.ForeignKey(
        "accounts.Creditor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["office", "email"])]

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_usable(self):
        return not self.accepted_at and not self.revoked_at and self.expires_at > timezone.now()


class ApiKey(TenantModel):
    """A key for the REST API. Only a hash is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    creditor = models.ForeignKey(
        "accounts.Creditor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate():
        prefix = secrets.token_hex(4)
        return prefix, f"rk_{prefix}_{secrets.token_urlsafe(32)}"

    @staticmethod
    def hash_key(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class IdempotencyRecord(TenantModel):
    """The stored answer to an API POST sent with an `Idempotency-Key` header, so a
    client's retry gets the same answer instead of doing the work twice. Keys belong to
    the API key that sent them; a record holds what the API answered, never more."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # SHA-256 of the request body (JSON canonicalised), to tell a retry from a reuse.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "api_key", "key"], name="idempotency_key_per_api_key"
            )
        ]
        indexes = [models.Index(fields=["office", "created_at"])]


class ProviderCredential(TenantModel):
    """An office's own credentials for a provider, encrypted at rest."""

    class Provider(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TWILIO = "twilio", "Twilio"
        EMAIL = "email", "Email (anymail ESP)"

    provider = models.CharField(max_length=20, choices=Provider.choices)
    # JSON text of the provider's settings (keys, tokens, account ids), encrypted.
    secrets = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "provider"], name="credential_office_provider"
            )
        ]


class WorkItem(TenantModel):
    """A queue entry for a person: call back, approve, review, answer, handle returned mail."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", "Call back"
        APPROVAL = "approval", "Approval"
        REVIEW = "review", "Review"
        INBOX = "inbox", "Inbox message"
        RETURNED_MAIL = "returned_mail", "Returned mail"
        DISPUTE = "dispute", "Dispute"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_items"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What the task is about, as a stable key ("complaint:12", "plan:40"), so the code
    # that resolves the thing closes its task without reading the title people see.
    subject = models.CharField(max_length=60, blank=True, db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["office", "status", "assignee", "due_at"]),
            models.Index(
                fields=["office", "subject"],
                name="workitem_subject",
                condition=~models.Q(subject=""),
            ),
        ]
        ordering = ["due_at", "id"]

    @property
    def is_overdue(self):
        return self.status == self.Status.OPEN and self.due_at and self.due_at < timezone.now()


def document_path(instance, filename):
    return f"office-{instance.office_id}/{timezone.now():%Y/%m}/{secrets.token_hex(8)}-{filename}"


class Document(TenantModel):
    """A letter, upload or generated PDF, kept in Django's storage."""

    class Kind(models.TextChoices):
        PLACEMENT_FILE = "placement_file", "Placement file"
        VALIDATION_NOTICE = "validation_notice", "Validation notice"
        LETTER = "letter", "Letter"
        RECEIPT = "receipt", "Receipt"
        REMITTANCE = "remittance", "Remittance statement"
        UPLOAD = "upload", "Upload"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=document_path)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    debtor_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)


class InboundWebhook(models.Model):
    """A provider's webhook, verified and stored before it is applied (a platform table:
    it arrives with no office; its handler finds the office when it applies it).

    The request only checks the signature and inserts this row, so the provider gets its
    answer at once and an outage of ours between the two never loses an event; a worker
    applies the rows in batches (`recovery.inbox`). (provider, key) is unique, so a
    re-delivery is dropped at the door."""

    provider = models.CharField(max_length=30)
    key = models.CharField(max_length=200)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "key"], name="inbound_webhook_once")
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="inbound_webhook_pending",
                condition=models.Q(applied_at__isnull=True),
            ),
            models.Index(fields=["applied_at"], name="inbound_webhook_applied"),
        ]

    def __str__(self):
        return f"{self.provider} {self.key}"
