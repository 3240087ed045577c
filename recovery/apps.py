from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_roles(sender, using, **kwargs):
    from django.conf import settings
    from django.db import connections

    from recovery.rls import grant_application_roles

    grant_application_roles(
        connections[using], [settings.DATABASE_APP_ROLE, settings.DATABASE_MAINTENANCE_ROLE]
    )


class RecoveryConfig(AppConfig):
    name = "recovery"
    verbose_name = "Recovery platform"

    def ready(self):
        from recovery import lookups

        lookups.register()
        # Tables created by a migration become usable by the app roles at once.
        post_migrate.connect(_grant_roles, sender=self, dispatch_uid="recovery-grant-roles")
