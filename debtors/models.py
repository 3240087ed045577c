"""Debtors and how to reach them.

Personal data lives here and only here: timeline events and ledger rows elsewhere refer
to a debtor by id. Identifiers used for matching and identity checks are encrypted and
compared through blind indexes. Consents, opt-outs, preferences and circumstances are
records with a source and effective dates, never booleans, so "what was known when" can
be replayed.
"""

from django.db import models
from django.utils import timezone

from recovery.crypto import EncryptedTextField, blind_index
from recovery.tenancy import TenantModel


class Source(models.TextChoices):
    PLACEMENT = "placement", "Creditor placement"
    DEBTOR = "debtor", "The debtor"
    AGENT = "agent", "Agent"
    SKIP_TRACE = "skip_trace", "Skip-trace"
    PORTAL = "portal", "Debtor portal"
    SMS_REPLY = "sms_reply", "SMS reply"
    EMAIL_REPLY = "email_reply", "Email reply"
    EMAIL_EVENT = "email_event", "Email event"
    LETTER = "letter", "Letter received"
    VENDOR = "vendor", "Vendor search (scrub)"
    CARRIER = "carrier", "Carrier / provider"
    COURT = "court", "Court record"
    SYSTEM = "system", "System"


class Debtor(TenantModel):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        BUSINESS = "business", "Business"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    # Encrypted at rest; never shown whole.
    date_of_birth = EncryptedTextField(blank=True, help_text="ISO date, encrypted")
    ssn_last4 = EncryptedTextField(blank=True)
    # Blind indexes: keyed hashes for matching and identity checks without decrypting.
    dob_bidx = models.CharField(max_length=40, blank=True)
    ssn_last4_bidx = models.CharField(max_length=40, blank=True)
    last_name_bidx = models.CharField(max_length=40, blank=True)
    match_bidx = models.CharField(
        max_length=40, blank=True, help_text="last name + date of birth + SSN last 4"
    )
    language = models.CharField(max_length=5, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["office", "match_bidx"]),
            models.Index(fields=["office", "last_name", "first_name"]),
            # Placement imports look for possible matches by date of birth + last name.
            models.Index(
                fields=["office", "dob_bidx", "last_name_bidx"], name="debtor_dob_last_name_bidx"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        if self.kind == self.Kind.BUSINESS:
            return self.business_name
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def refresh_blind_indexes(self):
        self.dob_bidx = blind_index(self.date_of_birth) if self.date_of_birth else ""
        self.ssn_last4_bidx = blind_index(self.ssn_last4) if self.ssn_last4 else ""
        self.last_name_bidx = blind_index(self.last_name) if self.last_name else ""
        parts = (self.last_name, self.date_of_birth, self.ssn_last4)
        self.match_bidx = blind_index(*parts) if all(parts) else ""

    def save(self, *args, **kwargs):
        self.refresh_blind_indexes()
        super().save(*args, **kwargs)


class DebtorReference(TenantModel):
    """A creditor's own identifier for a debtor (customer, member or patient number). A
    placement row carrying a known one belongs to that debtor, whatever else it says."""

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="references")
    creditor = models.ForeignKey("accounts.Creditor", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=60)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PLACEMENT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "creditor", "reference"], name="debtorreference_creditor_ref"
            )
        ]

    def __str__(self):
        return self.reference


class ContactPoint(TenantModel):
    """A phone number, email address or postal address of a debtor."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        ADDRESS = "address", "Postal address"

    class PhoneType(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        LANDLINE = "landline", "Landline"
        VOIP = "voip", "VoIP"
        UNKNOWN = "unknown", "Unknown"

    class Validity(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"
        BOUNCED = "bounced", "Bounced"
        RETURNED = "returned", "Returned mail"
        DISCONNECTED = "disconnected", "Disconnected"

    class EmailQualification(models.TextChoices):
        NONE = "", "Not qualified"
        USED_BY_DEBTOR = "used_by_debtor", "Used by the debtor"
        CONSENTED = "consented", "Debtor consented"
        CREDITOR_NOTICE = "creditor_notice", "Creditor notice + 35 days"

    class Relation(models.TextChoices):
        DEBTOR = "", "The debtor"
        SPOUSE = "spouse", "Spouse"
        PARENT_OF_MINOR = "parent_of_minor", "Parent (debtor is a minor)"
        GUARDIAN = "guardian", "Guardian or conservator"
        EXECUTOR = "executor", "Executor or administrator"
        ESTATE_REPRESENTATIVE = "estate_rep", "Confirmed estate representative"
        RELATIVE = "relative", "Relative"
        EMPLOYER = "employer", "Employer"
        NEIGHBOUR = "neighbour", "Neighbour"
        OTHER = "other", "Other third party"

    class TimezoneSource(models.TextChoices):
        ZIP = "zip", "ZIP code"
        AREA_CODE = "area_code", "Phone area code"
        UNKNOWN = "unknown", "Unknown"

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # E.164 phone, lower-cased email, or a one-line address.
    value = models.CharField(max_length=300)
    phone_type = models.CharField(max_length=10, choices=PhoneType.choices, blank=True)
    line1 = models.CharField(max_length=200, blank=True)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, default="US")
    is_work = models.BooleanField(default=False)
    # Whose contact point this is: the debtor's own (blank), someone treated as the
    # debtor (F-3P: spouse, parent of a minor, guardian, executor), or a third party who
    # may be asked once where the debtor is, and never told about the debt.
    relation = models.CharField(max_length=20, choices=Relation.choices, blank=True)
    is_primary = models.BooleanField(default=False)
    validity = models.CharField(
        max_length=12, choices=Validity.choices, default=Validity.UNVERIFIED
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PLACEMENT)
    # The set of IANA zones the debtor may be in via this contact point; empty with
    # source "unknown" means unknown (every US zone must then be respected).
    candidate_timezones = models.JSONField(default=list, blank=True)
    timezone_source = models.CharField(
        max_length=10, choices=TimezoneSource.choices, default=TimezoneSource.UNKNOWN
    )
    email_qualification = models.CharField(
        max_length=20, choices=EmailQualification.choices, blank=True
    )
    email_qualified_at = models.DateTimeField(null=True, blank=True)
    last_consent_at = models.DateTimeField(null=True, blank=True)
    last_reassigned_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["office", "kind", "value"]),
            models.Index(fields=["office", "debtor"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "debtor", "kind", "value"], name="contactpoint_unique_value"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value}"

    @property
    def is_third_party(self):
        """Someone other than the debtor and those the law treats as the debtor."""
        return self.relation not in TREATED_AS_DEBTOR


# Whom Regulation F treats as "the consumer" (1006.2(e), 1006.6(a)): the debt may be
# discussed with them; anyone else is a third party (F-3P).
TREATED_AS_DEBTOR = frozenset(
    {
        ContactPoint.Relation.DEBTOR,
        ContactPoint.Relation.SPOUSE,
        ContactPoint.Relation.PARENT_OF_MINOR,
        ContactPoint.Relation.GUARDIAN,
        ContactPoint.Relation.EXECUTOR,
        ContactPoint.Relation.ESTATE_REPRESENTATIVE,
    }
)


class Consent(TenantModel):
    """Consent given or withdrawn for one channel of one contact point, with provenance."""

    class Channel(models.TextChoices):
        CALL = "call", "Call"
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        # Consent under the E-SIGN Act to receive required notices (a later validation
        # notice, a dispute response) electronically at this address (F-ESIGN).
        ESIGN = "esign", "Electronic notices (E-SIGN)"

    class Kind(models.TextChoices):
        CONSENT = "consent", "Consent"
        OPT_OUT = "opt_out", "Opt-out"

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="consents")
    contact_point = models.ForeignKey(
        ContactPoint, on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    method = models.CharField(max_length=100, help_text="e.g. 'STOP reply', 'portal form'")
    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["office", "contact_point", "channel", "effective_from"])]


class Circumstance(TenantModel):
    """Something true of a debtor for a while: deceased, bankruptcy, attorney, service."""

    class Kind(models.TextChoices):
        DECEASED = "deceased", "Deceased"
        BANKRUPTCY = "bankruptcy", "Bankruptcy"
        ATTORNEY = "attorney", "Represented by attorney"
        SERVICEMEMBER = "servicemember", "Active-duty servicemember"
        IDENTITY_THEFT = "identity_theft", "Identity-theft report"
        WORK_CONTACT_FORBIDDEN = "work_forbidden", "Employer forbids contact at work"

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="circumstances")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Kind-specific facts: chapter/case/filing date; attorney contact; duty dates.
    details = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["office", "debtor", "kind"])]


class ContactPreference(TenantModel):
    """A preference the debtor expressed: channel, language, inconvenient times."""

    class Kind(models.TextChoices):
        PREFERRED_CHANNEL = "preferred_channel", "Preferred channel"
        LANGUAGE = "language", "Language"
        INCONVENIENT_TIME = "inconvenient_time", "Inconvenient time"
        NO_CONTACT_CHANNEL = "no_contact_channel", "Do not use channel"
        # "Don't call me at work": an inconvenient place (F-PREF) and, in Massachusetts,
        # a request that lapses after 10 days unless confirmed in writing (MA-WORK).
        # value: {"method": "oral" | "written", "confirms": id of the oral request}
        NO_CONTACT_AT_WORK = "no_contact_at_work", "Do not contact at work"

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="preferences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # e.g. {"channel": "sms"}, {"language": "es"}, {"days": [0-6], "from": "18:00", "to": "21:00"}
    value = models.JSONField(default=dict)
    source = models.CharField(max_length=20, choices=Source.choices)
    effective_from = models.DateTimeField(default=timezone.now)
    effective_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["office", "debtor", "kind"])]
