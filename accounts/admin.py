from django.contrib import admin

from accounts.models import Account, CoObligor, Creditor, Event, Note, Placement, Transaction


@admin.register(Creditor)
class CreditorAdmin(admin.ModelAdmin):
    list_display = ["name", "reference", "office", "contingency_fee_rate", "is_active"]
    list_filter = ["office"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["office_reference", "office", "creditor", "status", "principal_balance"]
    list_filter = ["office", "status"]
    search_fields = ["office_reference", "creditor_reference"]
    raw_id_fields = ["debtor", "placement", "assigned_agent", "creditor"]
    # Balances move only through the ledger service.
    readonly_fields = [
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "total_collected",
        "total_placed",
    ]


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "principal", "interest", "fees", "posted_at"]
    raw_id_fields = ["account", "payment", "reverses"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register([Placement, CoObligor, Event, Note])
