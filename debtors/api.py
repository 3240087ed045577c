"""REST API of the debtors app: read only, and only what an integration needs to tie our
debtors to its own records — names, the creditor's customer ids, the accounts. Never a
date of birth, an SSN (or its last 4), a blind index or contact details."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from accounts.models import Account
from debtors.models import Debtor, DebtorReference
from recovery.api_base import TenantAPIMixin, error_responses

READ_ERRORS = error_responses(400, 401, 404, 429)


class DebtorReferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DebtorReference
        fields = ["creditor", "reference"]
        read_only_fields = fields


class DebtorSerializer(serializers.ModelSerializer):
    references = DebtorReferenceSerializer(
        many=True, read_only=True, help_text="The creditors' own customer ids for this debtor."
    )
    accounts = serializers.SerializerMethodField(help_text="Ids of the debtor's accounts.")

    class Meta:
        model = Debtor
        fields = [
            "id",
            "kind",
            "first_name",
            "last_name",
            "business_name",
            "language",
            "created_at",
            "references",
            "accounts",
        ]
        read_only_fields = fields

    def get_accounts(self, debtor) -> list[int]:
        return [account.pk for account in debtor.accounts.all()]


class DebtorFilter(django_filters.FilterSet):
    reference = django_filters.CharFilter(
        method="filter_reference", help_text="A creditor's customer id for the debtor."
    )

    class Meta:
        model = Debtor
        fields = []

    def filter_reference(self, queryset, name, value):
        return queryset.filter(
            Exists(DebtorReference.objects.filter(debtor=OuterRef("pk"), reference=value))
        )


@extend_schema_view(
    list=extend_schema(summary="List debtors", responses={200: DebtorSerializer, **READ_ERRORS}),
    retrieve=extend_schema(summary="A debtor", responses={200: DebtorSerializer, **READ_ERRORS}),
)
class DebtorViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    model = Debtor
    serializer_class = DebtorSerializer
    filterset_class = DebtorFilter

    def office_queryset(self):
        creditor_id = self.restricted_creditor_id
        accounts = Account.objects.only("id", "debtor_id").order_by("id")
        references = DebtorReference.objects.order_by("id")
        debtors = Debtor.objects.all()
        if creditor_id is not None:
            # A creditor's key sees the debtors of its own accounts, and only its part.
            accounts = accounts.filter(creditor_id=creditor_id)
            references = references.filter(creditor_id=creditor_id)
            debtors = debtors.filter(
                Exists(Account.objects.filter(debtor=OuterRef("pk"), creditor_id=creditor_id))
            )
        return debtors.prefetch_related(
            Prefetch("accounts", queryset=accounts), Prefetch("references", queryset=references)
        )
