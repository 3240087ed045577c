"""REST API of the accounts app: creditors, placements, accounts (with recall) and the
timeline. Thin: parse, call a service or a scoped query, answer. Every queryset starts
from the scoped managers (the key's office) and `scoped()` (the key's creditor), so
anything else is a 404."""

from decimal import Decimal

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services
from accounts.imports.fields import FIELDS
from accounts.models import Account, AccountStatus, Creditor, Event, Placement
from accounts.placements import MAX_ACCOUNTS, PlacementRejected, placement_create
from recovery.api_base import (
    IDEMPOTENCY_PARAMETER,
    Conflict,
    IsoDateTimeFilter,
    TenantAPIMixin,
    error_responses,
)

READ_ERRORS = error_responses(400, 401, 404, 429)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 429)

# ---------- creditors -------------------------------------------------------------------


class CreditorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Creditor
        fields = [
            "id",
            "name",
            "reference",
            "contingency_fee_rate",
            "remittance_frequency",
            "remittance_email",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "is_active", "created_at"]
        extra_kwargs = {
            "contingency_fee_rate": {"min_value": Decimal("0"), "max_value": Decimal("1")}
        }

    def validate_reference(self, value):
        value = value.strip()
        if Creditor.objects.filter(reference__iexact=value).exists():
            raise serializers.ValidationError("Another creditor of this office has this reference.")
        return value


class CreditorFilter(django_filters.FilterSet):
    reference = django_filters.CharFilter(lookup_expr="iexact")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Creditor
        fields = []


@extend_schema_view(
    list=extend_schema(
        summary="List creditors", responses={200: CreditorSerializer, **READ_ERRORS}
    ),
    retrieve=extend_schema(
        summary="A creditor", responses={200: CreditorSerializer, **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Create a creditor",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: CreditorSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "A new client",
                request_only=True,
                value={
                    "name": "Lakeside Dental Group",
                    "reference": "LDG",
                    "contingency_fee_rate": "0.2500",
                    "remittance_frequency": "monthly",
                    "remittance_email": "billing@lakeside.example",
                },
            )
        ],
    ),
)
class CreditorViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    model = Creditor
    serializer_class = CreditorSerializer
    creditor_lookup = "id"
    filterset_class = CreditorFilter

    def office_queryset(self):
        return self.scoped(Creditor.objects.all())

    def perform_create(self, serializer):
        if self.restricted_creditor_id is not None:
            raise exceptions.PermissionDenied(
                "A key restricted to one creditor cannot add creditors."
            )
        serializer.instance = services.creditor_create(**serializer.validated_data)


# ---------- accounts --------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    balance = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, help_text="Principal + interest + fees"
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "office_reference",
            "creditor_reference",
            "creditor",
            "placement",
            "debtor",
            "status",
            "currency",
            "balance",
            "original_creditor",
            "debt_type",
            "origination_date",
            "charge_off_date",
            "last_payment_date",
            "placed_at",
            "status_changed_at",
            "resolved_at",
        ]
        read_only_fields = fields


class BalancesSerializer(serializers.Serializer):
    principal = serializers.DecimalField(
        max_digits=14, decimal_places=2, source="principal_balance"
    )
    interest = serializers.DecimalField(max_digits=14, decimal_places=2, source="interest_balance")
    fees = serializers.DecimalField(max_digits=14, decimal_places=2, source="fees_balance")
    total = serializers.DecimalField(max_digits=16, decimal_places=2, source="balance")
    placed = serializers.DecimalField(max_digits=14, decimal_places=2, source="total_placed")
    collected = serializers.DecimalField(max_digits=14, decimal_places=2, source="total_collected")


class AccountDetailSerializer(AccountSerializer):
    balances = BalancesSerializer(source="*", read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = [
            *AccountSerializer.Meta.fields,
            "balances",
            "itemization_date",
            "itemization_amount",
            "interest_type",
            "interest_rate",
        ]
        read_only_fields = fields


class RecallSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, help_text="Why the creditor takes the account back (on the timeline)."
    )


class AccountFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AccountStatus.choices)
    creditor = django_filters.NumberFilter(field_name="creditor_id")
    debtor = django_filters.NumberFilter(field_name="debtor_id")
    placement = django_filters.NumberFilter(field_name="placement_id")
    creditor_reference = django_filters.CharFilter()
    balance_min = django_filters.NumberFilter(field_name="balance_total", lookup_expr="gte")
    balance_max = django_filters.NumberFilter(field_name="balance_total", lookup_expr="lte")
    placed_after = django_filters.DateFilter(field_name="placed_at", lookup_expr="date__gte")
    placed_before = django_filters.DateFilter(field_name="placed_at", lookup_expr="date__lte")
    charge_off_after = django_filters.DateFilter(field_name="charge_off_date", lookup_expr="gte")
    charge_off_before = django_filters.DateFilter(field_name="charge_off_date", lookup_expr="lte")

    class Meta:
        model = Account
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List accounts", responses={200: AccountSerializer, **READ_ERRORS}),
    retrieve=extend_schema(
        summary="An account, with its balances by component",
        responses={200: AccountDetailSerializer, **READ_ERRORS},
    ),
)
class AccountViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    model = Account
    creditor_lookup = "creditor_id"
    filterset_class = AccountFilter

    def office_queryset(self):
        total = F("principal_balance") + F("interest_balance") + F("fees_balance")
        return self.scoped(Account.objects.annotate(balance_total=total))

    def get_serializer_class(self):
        if self.action == "list":
            return AccountSerializer
        if self.action == "recall":
            return RecallSerializer
        return AccountDetailSerializer

    @extend_schema(
        summary="Recall an account (the creditor takes it back)",
        request=RecallSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: AccountDetailSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Recall", request_only=True, value={"reason": "Debtor paid the creditor directly"}
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        account = self.get_object()
        serializer = RecallSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.account_recall(account=account, reason=serializer.validated_data["reason"])
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise
            raise Conflict(" ".join(exc.messages)) from exc
        return Response(AccountDetailSerializer(self.get_queryset().get(pk=account.pk)).data)


# ---------- placements ------------------------------------------------------------------


def _placement_account_fields():
    fields = {}
    for f in FIELDS:
        help_text = f.label + (f" — {f.help}" if f.help else "")
        if f.required:
            help_text += " (required)"
        fields[f.key] = serializers.CharField(
            required=False, allow_blank=True, allow_null=True, help_text=help_text
        )
    return fields


PlacementAccountSerializer = type(
    "PlacementAccountSerializer",
    (serializers.Serializer,),
    {
        **_placement_account_fields(),
        "__doc__": "One account of a placement: the fields of a placement file, one per key. "
        'Money as a decimal string ("1250.00"), dates as YYYY-MM-DD.',
    },
)


class PlacementCreateSerializer(serializers.Serializer):
    creditor = serializers.IntegerField(help_text="The creditor placing the accounts (its id).")
    reference = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="Your name for this batch."
    )
    accounts = PlacementAccountSerializer(many=True, max_length=MAX_ACCOUNTS, allow_empty=False)


class PlacementAccountRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "office_reference", "creditor_reference", "debtor"]


class PlacementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Placement
        fields = [
            "id",
            "creditor",
            "reference",
            "placed_at",
            "account_count",
            "total_placed",
            "status",
        ]
        read_only_fields = fields


class PlacementCreatedSerializer(PlacementSerializer):
    accounts = PlacementAccountRefSerializer(many=True, read_only=True)

    class Meta(PlacementSerializer.Meta):
        fields = [*PlacementSerializer.Meta.fields, "accounts"]
        read_only_fields = fields


class PlacementFilter(django_filters.FilterSet):
    creditor = django_filters.NumberFilter(field_name="creditor_id")
    status = django_filters.ChoiceFilter(choices=Placement.Status.choices)

    class Meta:
        model = Placement
        fields = []


PLACEMENT_EXAMPLE = {
    "creditor": 1,
    "reference": "2025-06-batch-1",
    "accounts": [
        {
            "creditor_reference": "INV-10042",
            "creditor_debtor_id": "CUST-881",
            "first_name": "Dana",
            "last_name": "Whitfield",
            "date_of_birth": "1984-03-09",
            "ssn_last4": "4821",
            "address1": "12 Harbor Lane",
            "city": "Portland",
            "state": "ME",
            "zip": "04101",
            "phone": "(207) 555-0143",
            "email": "dana@example.com",
            "principal": "1180.00",
            "interest": "42.15",
            "fees": "25.00",
            "total_balance": "1247.15",
            "charge_off_date": "2024-11-30",
        }
    ],
}


@extend_schema_view(
    list=extend_schema(
        summary="List placements", responses={200: PlacementSerializer, **READ_ERRORS}
    ),
    retrieve=extend_schema(
        summary="A placement", responses={200: PlacementSerializer, **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Place accounts (all or nothing)",
        description=(
            "Creates a placement with all its accounts in one call, checked with the same "
            "rules as a placement file. When any account has a problem nothing is placed, "
            "and the 400 lists every problem as `fields.accounts.<index>.<field>`."
        ),
        request=PlacementCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: PlacementCreatedSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("One account", request_only=True, value=PLACEMENT_EXAMPLE),
            OpenApiExample(
                "Rejected: nothing placed",
                response_only=True,
                status_codes=["400"],
                value={
                    "error": {
                        "code": "invalid",
                        "message": "1 of the accounts have problems, so nothing was placed. "
                        "Fix every one listed and send the placement again.",
                        "fields": {
                            "accounts": {
                                "3": {
                                    "principal": ["The principal balance is missing."],
                                    "zip": ["The address has no ZIP code."],
                                }
                            }
                        },
                    }
                },
            ),
        ],
    ),
)
class PlacementViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    model = Placement
    creditor_lookup = "creditor_id"
    filterset_class = PlacementFilter

    def office_queryset(self):
        return self.scoped(Placement.objects.all())

    def get_serializer_class(self):
        return PlacementCreateSerializer if self.action == "create" else PlacementSerializer

    def create(self, request, *args, **kwargs):
        serializer = PlacementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        creditor = self.scoped(Creditor.objects.filter(pk=data["creditor"]), "id").first()
        if creditor is None:
            raise exceptions.ValidationError({"creditor": ["No such creditor."]})
        try:
            placement = placement_create(
                creditor=creditor,
                records=[dict(record) for record in data["accounts"]],
                reference=data.get("reference", ""),
                source_name=f"api-{self.api_key.prefix}",
            )
        except PlacementRejected as exc:
            raise exceptions.ValidationError(
                {"accounts": exc.errors, "non_field_errors": exc.messages}
            ) from exc
        placement = Placement.objects.prefetch_related("accounts").get(pk=placement.pk)
        return Response(PlacementCreatedSerializer(placement).data, status=status.HTTP_201_CREATED)


# ---------- the timeline ----------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    data = serializers.JSONField(read_only=True, help_text="Structured, PII-free facts.")

    class Meta:
        model = Event
        fields = ["id", "account", "kind", "occurred_at", "summary", "amount", "channel", "data"]
        read_only_fields = fields


class EventFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    kind = django_filters.MultipleChoiceFilter(choices=Event.Kind.choices)
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = []


@extend_schema_view(
    list=extend_schema(
        summary="The timeline: events of the key's accounts, newest first",
        responses={200: EventSerializer, **READ_ERRORS},
    ),
    retrieve=extend_schema(summary="One event", responses={200: EventSerializer, **READ_ERRORS}),
)
class EventViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    model = Event
    serializer_class = EventSerializer
    creditor_lookup = "account__creditor_id"
    filterset_class = EventFilter

    def office_queryset(self):
        return self.scoped(Event.objects.all())
