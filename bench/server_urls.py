"""The product's URLs plus the server benchmarks' baseline: a view that returns a fixed
string, behind the same middleware and server (bench only, see settings_server). The
webhooks benchmark POSTs the same bytes to it, the portal benchmark GETs it with the
same session cookie."""

from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from recovery.urls import urlpatterns as product_urlpatterns


# Outside ATOMIC_REQUESTS: a view that only returns a fixed string opens no database
# connection (and never reads the session, so the session middleware does not either).
@transaction.non_atomic_requests
@csrf_exempt
def ok(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/ok/", ok, name="bench_ok"), *product_urlpatterns]
