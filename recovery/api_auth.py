"""API-key authentication for the REST API.

The key's office is unknown until the key is found, so the lookup is one of the few
cross-office reads (`all_offices`); the office is then activated for the request.
"""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from recovery import tenancy
from recovery.models import ApiKey


class ApiKeyPrincipal:
    """Stands in for `request.user` on API calls: the key, its office and creditor."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.office_id = api_key.office_id
        self.creditor_id = api_key.creditor_id

    def __str__(self):
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme not in (self.keyword, "Api-Key") or not key.strip():
            return None
        with tenancy.all_offices("API key lookup: the key names its office"):
            api_key = (
                ApiKey.objects.select_related("office")
                .filter(key_hash=ApiKey.hash_key(key.strip()), revoked_at__isnull=True)
                .first()
            )
        if api_key is None or not api_key.office.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        tenancy.activate(api_key.office_id)
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (and the docs' "Authorize" button) describes the key."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key created by an office admin under Staff → API keys: "
                "`Authorization: Bearer rk_…` (or `Authorization: Api-Key rk_…`)."
            ),
        }
