from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from recovery import api

urlpatterns = [
    path("office/", api.OfficeView.as_view(), name="api_office"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
]
