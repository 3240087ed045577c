from django.contrib import admin

from debtors.models import Circumstance, Consent, ContactPoint, ContactPreference, Debtor


@admin.register(Debtor)
class DebtorAdmin(admin.ModelAdmin):
    list_display = ["id", "office", "kind", "last_name", "first_name", "language"]
    list_filter = ["office", "kind"]
    search_fields = ["last_name", "business_name"]
    exclude = ["date_of_birth", "ssn_last4"]
    readonly_fields = ["dob_bidx", "ssn_last4_bidx", "last_name_bidx", "match_bidx"]


admin.site.register([ContactPoint, Consent, Circumstance, ContactPreference])
