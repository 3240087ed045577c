from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        # Connects the receiver of anymail's tracking signal.
        from campaigns import webhooks  # noqa: F401
