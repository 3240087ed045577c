# Row-level security for every tenant-owned table of this app (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [
        EnableTenantRLS("Creditor"),
        EnableTenantRLS("Placement"),
        EnableTenantRLS("Account"),
        EnableTenantRLS("CoObligor"),
        EnableTenantRLS("Transaction"),
        EnableTenantRLS("Event"),
        EnableTenantRLS("Note"),
    ]
