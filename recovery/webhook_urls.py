"""The URLs of the short road (`recovery.wsgi.WebhookHandler`): the provider webhooks
only, at the same paths as in `recovery.urls`, so resolving one walks three patterns
instead of the whole product's. A provider is answered in plain text: the product's
error pages link to its other URLs, which are not here."""

from django.http import HttpResponseNotFound, HttpResponseServerError
from django.urls import include, path

from payments.urls import webhook_urlpatterns

urlpatterns = [*webhook_urlpatterns, path("webhooks/", include("campaigns.urls"))]


def not_found(request, exception):
    return HttpResponseNotFound(b"No webhook here.", content_type="text/plain")


def server_error(request):
    return HttpResponseServerError(b"Server error.", content_type="text/plain")


handler404 = not_found
handler500 = server_error
