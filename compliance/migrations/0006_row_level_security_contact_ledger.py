# Row-level security for the tables added in 0005 (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_contact_ledger_notices_policy")]

    operations = [
        EnableTenantRLS("ContactAttempt"),
        EnableTenantRLS("ValidationNotice"),
        EnableTenantRLS("OfficePolicy"),
    ]
