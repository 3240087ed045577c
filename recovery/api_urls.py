"""The REST API's routes: /api/v1/… resources, the OpenAPI schema and its docs (Swagger UI
served from our own static files by drf-spectacular-sidecar: no CDN. Redoc is left out:
its page loads web fonts from Google)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.api import AccountViewSet, CreditorViewSet, EventViewSet, PlacementViewSet
from debtors.api import DebtorViewSet
from payments.api import PaymentViewSet
from recovery import api

router = SimpleRouter()
router.register("creditors", CreditorViewSet, basename="api-creditor")
router.register("placements", PlacementViewSet, basename="api-placement")
router.register("accounts", AccountViewSet, basename="api-account")
router.register("debtors", DebtorViewSet, basename="api-debtor")
router.register("payments", PaymentViewSet, basename="api-payment")
router.register("events", EventViewSet, basename="api-event")

v1_patterns = [
    path("office/", api.OfficeView.as_view(), name="api_office"),
    # Kept where it was first published; /api/schema/ is the same document.
    path("schema/", SpectacularAPIView.as_view(), name="api_v1_schema"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]
