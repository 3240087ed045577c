from io import StringIO

from django.core.management import call_command


def test_every_model_change_has_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_open_tasks_made_before_the_subject_key_get_it_from_their_titles(office_a):
    from importlib import import_module

    from django.apps import apps

    from recovery import tenancy
    from recovery.models import WorkItem

    migration = import_module("recovery.migrations.0005_work_item_subject")
    with tenancy.office_context(office_a.id):
        complaint = WorkItem.objects.create(
            kind="review", title="Respond to complaint #12: CFPB portal"
        )
        plan = WorkItem.objects.create(
            kind="approval", title="A manager to review plan 40: 6 × 50.00 monthly"
        )
        other = WorkItem.objects.create(kind="callback", title="Call back about plan 40")
        done = WorkItem.objects.create(
            kind="review", title="Respond to complaint #13: CFPB", status="done"
        )
    with tenancy.all_offices("the migration reads every office's tasks"):
        migration.subjects_from_titles(apps, None)
    with tenancy.office_context(office_a.id):
        subjects = dict(WorkItem.objects.values_list("pk", "subject"))
    assert subjects == {complaint.pk: "complaint:12", plan.pk: "plan:40", other.pk: "", done.pk: ""}
