from django.apps import AppConfig


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Debtor portal"

    def ready(self):
        from portal import pagecache

        pagecache.connect()
