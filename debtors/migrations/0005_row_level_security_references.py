# Row-level security for creditors' debtor references (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("debtors", "0004_placement_imports")]

    operations = [EnableTenantRLS("DebtorReference")]
