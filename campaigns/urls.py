"""Provider webhooks for messages (mounted under /webhooks/; no login, no office in the
URL: each handler verifies the provider's signature and finds the office itself)."""

from anymail import urls as anymail_urls
from django.db import transaction
from django.urls import include, path

from campaigns import webhooks

# anymail's views only verify and hand each event to our receiver, which stores it in
# the inbox (one INSERT): no request transaction around them (ATOMIC_REQUESTS is on).
for pattern in anymail_urls.urlpatterns:
    transaction.non_atomic_requests(pattern.callback)

urlpatterns = [
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    # anymail's per-ESP tracking views, e.g. /webhooks/anymail/mailgun/tracking/
    path("anymail/", include("anymail.urls")),
]
