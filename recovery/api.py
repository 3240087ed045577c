"""API endpoints of the platform core: the office the key belongs to. The resources live
in each app's `api.py`; what they share is in `recovery.api_base`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from recovery.api_base import TenantAPIMixin
from recovery.models import Office


class OfficeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Office
        fields = ["slug", "name", "time_zone", "default_currency", "country", "collector_type"]


class OfficeView(TenantAPIMixin, APIView):
    """The office the API key belongs to."""

    @extend_schema(responses=OfficeSerializer)
    def get(self, request):
        office = Office.objects.get(pk=request.user.office_id)
        return Response(OfficeSerializer(office).data)
