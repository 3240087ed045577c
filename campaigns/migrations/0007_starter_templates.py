# The starter template set for offices that existed before the template library.
# New offices get it from recovery.services.office_create (and the demo seed).
from django.db import migrations


def add_starter_templates(apps, schema_editor):
    from campaigns.library import STARTER  # the texts as they are when this runs

    office_model = apps.get_model("recovery", "Office")
    template_model = apps.get_model("campaigns", "MessageTemplate")
    connection = schema_editor.connection
    for office_id in office_model.objects.values_list("id", flat=True):
        if connection.vendor == "postgresql":
            # Row-level security: write as this office (transaction-local).
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.office_id', %s, true)", [str(office_id)])
        have = set(
            template_model.objects.filter(office_id=office_id).values_list(
                "name", "channel", "language"
            )
        )
        template_model.objects.bulk_create(
            template_model(
                office_id=office_id,
                name=name,
                channel=channel,
                language=language,
                subject=subject,
                body=body,
            )
            for name, channel, language, subject, body in STARTER
            if (name, channel, language) not in have
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.office_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0006_builder"), ("recovery", "0001_initial")]

    operations = [migrations.RunPython(add_starter_templates, migrations.RunPython.noop)]
