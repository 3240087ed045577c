# Row-level security for every tenant-owned table of this app (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("recovery", "0001_initial")]

    operations = [
        EnableTenantRLS("Invitation"),
        EnableTenantRLS("ApiKey"),
        EnableTenantRLS("ProviderCredential"),
        EnableTenantRLS("WorkItem"),
        EnableTenantRLS("Document"),
    ]
