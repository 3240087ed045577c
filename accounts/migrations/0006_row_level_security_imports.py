# Row-level security for the placement-import tables (see recovery/rls.py).
from django.db import migrations

from recovery.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_placement_import_links")]

    operations = [
        EnableTenantRLS("ImportMapping"),
        EnableTenantRLS("PlacementImport"),
        EnableTenantRLS("PlacementMatch"),
    ]
