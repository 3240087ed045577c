"""The product's URLs plus the webhooks benchmark's baseline: a view that only answers
200, behind the same middleware and server (bench only, see settings_webhooks)."""

from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from recovery.urls import urlpatterns as product_urlpatterns


# Outside ATOMIC_REQUESTS: a view that only returns 200 opens no database connection.
@transaction.non_atomic_requests
@csrf_exempt
def ok(request):
    return HttpResponse()


urlpatterns = [path("bench/ok/", ok, name="bench_ok"), *product_urlpatterns]
