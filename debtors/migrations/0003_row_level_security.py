# Row-level security for every tenant-owned table of this app (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("debtors", "0002_initial")]

    operations = [
        EnableTenantRLS("Debtor"),
        EnableTenantRLS("ContactPoint"),
        EnableTenantRLS("Consent"),
        EnableTenantRLS("Circumstance"),
        EnableTenantRLS("ContactPreference"),
    ]
