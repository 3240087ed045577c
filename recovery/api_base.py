"""What every REST API endpoint shares, so no endpoint can forget it: the API key and its
office (and creditor, when the key is restricted to one), the error body, cursor
pagination, rate limiting per key, and `Idempotency-Key` on POST.

The office is activated by `recovery.api_auth` inside the request's transaction
(`ATOMIC_REQUESTS`), which is also where PostgreSQL's row-level security reads it;
`TenantAPIMixin.initial` refuses to go on when that transaction is missing, so a view
can never run its queries with the first wall up and the second one down.

Objects outside the key's office or creditor are simply not in the querysets here, so
they answer 404 — never a 403 that would confirm they exist.
"""

import hashlib
import json
from datetime import UTC, timedelta

import django_filters
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, pagination, serializers, status, throttling
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from recovery.api_auth import ApiKeyAuthentication
from recovery.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255


# ---------- filters ---------------------------------------------------------------------


class _UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date and time, taken to UTC before it reaches the query: PostgreSQL
    refuses UTC offsets beyond ±15:59 that ISO 8601 (and Python) allow, and such a
    filter must be a 200 or a 400, never a server error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(
                "That date and time is out of range; give one between the years 1 and 9999.",
                code="invalid",
            ) from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField


# ---------- errors ----------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def _codes(detail):
    """The first machine code found in a DRF error detail."""
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
        return _codes(detail)
    return getattr(detail, "code", "") or "invalid"


def _plain(detail):
    """DRF's ErrorDetail tree as plain JSON: {field: [messages]} (nested for nested
    input, e.g. {"accounts": {"3": {"principal": [...]}}})."""
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            return [str(d) for d in detail]
        # A list serializer's errors: one entry per item, {} for items without any.
        return {str(i): _plain(d) for i, d in enumerate(detail) if d}
    return [str(detail)]


def error_body(*, code, message, fields=None):
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc, context):
    """Every API error as {"error": {"code", "message", "fields"}}: 400, 401, 403, 404,
    405, 409, 415, 429 alike. Service-layer ValidationErrors become 400s."""
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    # Imported here: DRF's views read the settings that name this module's classes, so
    # importing them while this module loads (a command that reaches the API code before
    # any URLconf) was a circular import.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _plain(detail) if isinstance(detail, dict) else {"non_field_errors": _plain(detail)}
        )
        non_field = fields.get(api_settings.NON_FIELD_ERRORS_KEY)
        if isinstance(non_field, list):
            message = " ".join(non_field)
        else:
            message = "The request has problems; see `fields` for each one."
        body = error_body(code=_codes(detail), message=message, fields=fields)
    else:
        message = str(detail) if not isinstance(detail, dict | list) else str(_plain(detail))
        body = error_body(code=_codes(detail) if detail else "error", message=message)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["error"]["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    return response


ERROR_SCHEMA = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="A machine-readable code."),
                "message": serializers.CharField(help_text="What is wrong, for a person."),
                "fields": serializers.DictField(
                    help_text="For 400s: the problems per input field (nested for lists).",
                ),
                "retry_after": serializers.IntegerField(
                    required=False, help_text="For 429s: seconds until the next request."
                ),
            },
        )
    },
)


def error_responses(*codes):
    descriptions = {
        400: "Bad input: every problem, per field.",
        401: "No API key, or a key that is unknown or revoked.",
        403: "The key may not do this (e.g. a creditor-restricted key creating creditors).",
        404: "No such object for this key (another office's or creditor's objects included).",
        409: "Conflict: an Idempotency-Key reused with another body, or an invalid state.",
        429: "Too many requests for this key; see Retry-After.",
    }
    return {code: OpenApiResponse(ERROR_SCHEMA, description=descriptions[code]) for code in codes}


# ---------- throttling and pagination ---------------------------------------------------


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """Requests per API key (in the cache), at the `api_key` rate of
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

    scope = "api_key"

    def get_rate(self):
        # Read at request time, not import time, so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return None
        # The random prefix too: a recreated database reuses ids, not prefixes.
        return self.cache_format % {"scope": self.scope, "ident": f"{api_key.pk}-{api_key.prefix}"}


class ApiCursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"


# ---------- idempotency -----------------------------------------------------------------


class _Replay(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, record):
        self.record = record


def _request_hash(request):
    body = request._request.body
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        body = canonical.encode()
    except ValueError:
        pass
    return hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + body
    ).hexdigest()


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) of up to 255 characters. A retry with the same key and "
        "the same body gets the first answer again instead of doing the work twice; the "
        "same key with another body is refused with 409. Keys are kept for 24 hours, per "
        "API key. Only successful answers are stored."
    ),
)


class TenantAPIMixin:
    """Base of every office API view: API-key auth, throttling per key, cursor
    pagination, creditor scoping and idempotent POSTs.

    Subclasses name their `model`, `creditor_lookup` (the path from the model to its
    creditor id, e.g. "creditor_id", "account__creditor_id"), and `office_queryset()`,
    built on `scoped()`."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiKeyRateThrottle]
    pagination_class = ApiCursorPagination
    creditor_lookup = None

    # The model of `office_queryset()`: the schema generator asks for a queryset with no
    # office in context, and the scoped managers rightly refuse that.
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model._base_manager.none()
        return self.office_queryset()

    def office_queryset(self):
        raise NotImplementedError

    @property
    def api_key(self):
        return self.request.auth

    @property
    def restricted_creditor_id(self):
        return self.request.auth.creditor_id if self.request.auth else None

    def scoped(self, queryset, lookup=None):
        """Narrow a queryset of the current office to the key's creditor, if any
        (`lookup`: the path to the creditor id when it is not the view's model's)."""
        if self.restricted_creditor_id is None:
            return queryset
        lookup = lookup or self.creditor_lookup
        if lookup is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a creditor_lookup")
        return queryset.filter(**{lookup: self.restricted_creditor_id})

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # The office was set by the authentication inside the request's transaction; on
        # PostgreSQL that transaction carries it to row-level security. Without one the
        # setting would not stick, and every query would quietly see nothing.
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            raise ImproperlyConfigured("API views need ATOMIC_REQUESTS (see recovery.tenancy)")
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
            self._idempotency_begin(request)

    # -- idempotency

    def _idempotency_begin(self, request):
        key = request.headers[IDEMPOTENCY_HEADER].strip()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX:
            raise exceptions.ValidationError(
                {
                    IDEMPOTENCY_HEADER: [
                        f"Use a non-empty key of at most {IDEMPOTENCY_KEY_MAX} characters."
                    ]
                }
            )
        self._idempotency = (key, _request_hash(request))
        record = (
            IdempotencyRecord.objects.filter(
                api_key=request.auth, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL
            )
            .order_by("-id")
            .first()
        )
        if record is None:
            return
        if record.request_hash != self._idempotency[1]:
            raise Conflict(
                f"The {IDEMPOTENCY_HEADER} {key!r} was already used for a different request "
                f"({record.method} {record.path} with another body). Use a new key for a new "
                "request; reuse a key only to retry exactly the same request."
            )
        raise _Replay(record)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.record.response, status=exc.record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        pending = getattr(self, "_idempotency", None)
        if pending and 200 <= response.status_code < 300 and "Idempotent-Replayed" not in response:
            response = self._idempotency_store(request, response, *pending)
        return response

    def _idempotency_store(self, request, response, key, request_hash):
        IdempotencyRecord.objects.filter(
            api_key=request.auth, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
        ).delete()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    api_key=request.auth,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_hash=request_hash,
                    status_code=response.status_code,
                    response=response.data,
                )
        except IntegrityError:
            # A concurrent request with the same key finished first: undo this one's work.
            transaction.set_rollback(True)
            conflict = Response(
                error_body(
                    code="conflict",
                    message=f"Another request with {IDEMPOTENCY_HEADER} {key!r} was processed "
                    "at the same time; retry to get its answer.",
                ),
                status=status.HTTP_409_CONFLICT,
            )
            return super().finalize_response(request, conflict)
        return response
