"""REST API of the payments app: payments, read only. Gateway secrets, checkout links
and payers' instrument details (check numbers, bank routing) are never part of it."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from payments.models import Payment
from recovery.api_base import IsoDateTimeFilter, TenantAPIMixin, error_responses

READ_ERRORS = error_responses(400, 401, 404, 429)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "account",
            "amount",
            "currency",
            "method",
            "gateway",
            "status",
            "created_at",
            "received_at",
        ]
        read_only_fields = fields


class PaymentFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    status = django_filters.MultipleChoiceFilter(choices=Payment.Status.choices)
    received_after = IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Payment
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List payments", responses={200: PaymentSerializer, **READ_ERRORS}),
    retrieve=extend_schema(summary="A payment", responses={200: PaymentSerializer, **READ_ERRORS}),
)
class PaymentViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    model = Payment
    serializer_class = PaymentSerializer
    creditor_lookup = "account__creditor_id"
    filterset_class = PaymentFilter

    def office_queryset(self):
        return self.scoped(Payment.objects.all())
