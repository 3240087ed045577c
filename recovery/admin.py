from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from recovery.models import (
    ApiKey,
    Document,
    InboundWebhook,
    Invitation,
    Membership,
    Office,
    ProviderCredential,
    User,
    WorkItem,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user", "creditor"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "collector_type", "country", "time_zone", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Platform", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "office", "role", "is_active"]
    list_filter = ["role", "is_active", "office"]
    raw_id_fields = ["user", "creditor"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "office", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]


admin.site.register([Invitation, WorkItem, Document])


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(admin.ModelAdmin):
    list_display = ["office", "provider", "updated_at"]
    exclude = ["secrets"]


@admin.register(InboundWebhook)
class InboundWebhookAdmin(admin.ModelAdmin):
    """The webhook inbox (`recovery.inbox`): what failed shows its error and attempts."""

    list_display = ["provider", "key", "received_at", "applied_at", "attempts", "outcome"]
    list_filter = ["provider", ("applied_at", admin.EmptyFieldListFilter)]
    search_fields = ["key"]
    readonly_fields = ["provider", "key", "payload", "received_at", "applied_at", "outcome",
                       "error"]  # fmt: skip
    actions = ["retry_now"]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        from recovery import inbox

        queryset.filter(applied_at__isnull=True).update(attempts=0, next_attempt_at=None)
        inbox.kick()
