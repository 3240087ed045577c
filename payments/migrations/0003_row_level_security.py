# Row-level security for every tenant-owned table of this app (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_initial")]

    operations = [
        EnableTenantRLS("PaymentPlan"),
        EnableTenantRLS("Installment"),
        EnableTenantRLS("Payment"),
    ]
