from django.contrib import admin

from portal.models import PortalMessage, PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    list_display = ["office", "verification", "updated_at"]


@admin.register(PortalMessage)
class PortalMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "office", "account", "direction", "created_at", "read_at"]
    list_filter = ["office", "direction"]
