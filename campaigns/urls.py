"""Provider webhooks for messages (mounted under /webhooks/; no login, no office in the
URL: each handler verifies the provider's signature and finds the office itself)."""

from django.urls import include, path

from campaigns import webhooks

urlpatterns = [
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    # anymail's per-ESP tracking views, e.g. /webhooks/anymail/mailgun/tracking/
    path("anymail/", include("anymail.urls")),
]
