# Row-level security for every tenant-owned table of this app (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_initial")]

    operations = [
        EnableTenantRLS("Decision"),
        EnableTenantRLS("Hold"),
        EnableTenantRLS("Dispute"),
        EnableTenantRLS("Complaint"),
        EnableTenantRLS("ComplaintAccount"),
    ]
