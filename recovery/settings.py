"""Settings, all from the environment (see .env.example).

Secrets are never committed: `bin/setup` writes a local `.env` with generated keys for
the demo, and a test run generates throwaway ones. Production refuses to start without
them.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

TESTING = "pytest" in sys.modules or env.bool("RECOVERY_TESTING", default=False)
DEBUG = env.bool("DEBUG", default=False)


def _secret(name, *, generate):
    value = env.str(name, default="")
    if value:
        return value
    if TESTING:
        # A fresh database per test run, so throwaway keys lose nothing.
        return generate()
    raise environ.ImproperlyConfigured(
        f"Set {name} in the environment or in .env (run `make setup` to generate one)."
    )


SECRET_KEY = _secret("SECRET_KEY", generate=lambda: Fernet.generate_key().decode())
# Fernet keys, newest first: older ones still decrypt, so keys can be rotated.
FIELD_ENCRYPTION_KEYS = _secret(
    "FIELD_ENCRYPTION_KEYS", generate=lambda: Fernet.generate_key().decode()
).split(",")
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY", generate=lambda: Fernet.generate_key().decode())

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as static files: no CDN
    "django_filters",
    "django_htmx",
    "anymail",
    "axes",
    "recovery",
    "debtors",
    "accounts",
    "payments",
    "campaigns",
    "compliance",
    "portal",
]

MIDDLEWARE = [
    "recovery.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "recovery.urls"
WSGI_APPLICATION = "recovery.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "recovery.context_processors.office",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------
# SQLite is the embedded default for the quick-start demo only; production and the test
# suite run on PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
}
# One transaction per request: the office is set inside it (see recovery.tenancy).
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Persistent connections: a new one per request costs more than a webhook's own work.
# Safe: the office is set per transaction, never per connection.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
if not IS_POSTGRES:
    # SQLite (the demo) cannot enforce "one row per office with no creditor" unique
    # constraints (NULLS NOT DISTINCT); production runs on PostgreSQL, which does.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
# PostgreSQL roles (see recovery/rls.py and bin/setup_db_roles.py): the application role
# has no BYPASSRLS; tenancy.all_offices switches to the maintenance role for a block.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="recovery_app")
DATABASE_MAINTENANCE_ROLE = env.str(
    "DATABASE_MAINTENANCE_ROLE", default="recovery_maint" if IS_POSTGRES else ""
)
if not IS_POSTGRES:
    # The demo's web server, worker and long imports share one SQLite file: WAL lets
    # readers (progress polls) go on while an import's transaction writes. IMMEDIATE
    # transactions take the write lock when they begin, so they wait their turn (up to
    # `timeout`) instead of failing with "database is locked" when a transaction that
    # read first tries to write after another writer committed.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "recovery.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a login while its email + address pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: 5 failures for one email from one address lock that pair for 30 min.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- redis, cache, celery -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "recovery.cache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    # Sessions are read from Redis on every request and written through to the database
    # (which keeps them across a Redis restart).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # No Redis (the quick-start demo): a file-system broker that a real worker and beat
    # consume, so scheduled work really runs.
    _broker_dir = VAR_DIR / "broker"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Webhooks are applied from the inbox on their own queue, so a burst of them never waits
# behind a campaign's dispatch (workers consume both: `-Q celery,webhooks`).
CELERY_IMPORTS = ["recovery.inbox"]
CELERY_TASK_ROUTES = {"recovery.inbox.*": {"queue": "webhooks"}}
CELERY_BEAT_SCHEDULE = {
    "beat-tick": {"task": "recovery.tasks.beat_tick", "schedule": 60.0},
    # Webhooks a lost kick or a retry's backoff left in the inbox.
    "webhooks-sweep": {"task": "recovery.inbox.webhooks_sweep", "schedule": 60.0},
    # Messages left `sending` by a dead worker: looked up at the provider or flagged.
    "reconcile-tick": {"task": "campaigns.tasks.reconcile_tick", "schedule": 300.0},
    # Erasure requests (EU-GDPR) whose retention has ended: erased once a day.
    "erasures-tick": {"task": "compliance.tasks.erasures_tick", "schedule": 86400.0},
}

# --- email, sms, payments -----------------------------------------------------------
# Any anymail ESP in production (EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend and
# ANYMAIL_* credentials); the console in the demo; anymail's test backend in tests.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "anymail.backends.test.EmailBackend"
        if TESTING
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
if EMAIL_BACKEND.startswith("django.core.mail.backends.smtp"):
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Recovery <no-reply@localhost>")
ANYMAIL = env.json("ANYMAIL", default={})
# Replies to campaign email go to reply+<signed message id>@INBOUND_EMAIL_DOMAIN (routed
# by the ESP to anymail's inbound webhook); empty: no Reply-To, replies matched by sender.
INBOUND_EMAIL_DOMAIN = env.str("INBOUND_EMAIL_DOMAIN", default="")
# Sends per office and channel, shared by all workers through the cache (Redis); an
# office's provider credential JSON may set its own "rate_limit". {} = no limit.
# {"platform": {channel: rate}} caps all offices together on the platform's accounts.
RATE_LIMITS = env.json("RATE_LIMITS", default={"email": "50/s", "sms": "10/s"})

TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# A sender number, used only when no Messaging Service is set.
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# A stand-in for Twilio's API host (the dispatch benchmark's fake); unset in production.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Connect: events from offices' connected accounts come to their own endpoint secret.
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# The platform's fee on each Connect payment, in basis points of the amount (0 = none).
STRIPE_PLATFORM_FEE_BPS = env.int("STRIPE_PLATFORM_FEE_BPS", default=0)
# How long a checkout link stays payable (Stripe allows 30 minutes to 24 hours).
CHECKOUT_EXPIRY_MINUTES = env.int("CHECKOUT_EXPIRY_MINUTES", default=60)

# --- API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["recovery.api_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "recovery.api_base.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["recovery.api_base.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_RATE_LIMIT", default="1200/min")},
    "EXCEPTION_HANDLER": "recovery.api_base.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Recovery API",
    "DESCRIPTION": "Placements, accounts and payments for one debt recovery office.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "PlacementStatusEnum": "accounts.models.Placement.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
    },
}

# --- logging ------------------------------------------------------------------------
# Structured (JSON) lines carrying office and request ids. Never log a debtor's personal
# data: log ids, not names, numbers or addresses.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "recovery.logging.ContextFilter"}},
    "formatters": {"json": {"()": "recovery.logging.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint and fontTools narrate every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

INVITATION_TTL_DAYS = 7

# --- debtor portal ------------------------------------------------------------------
# A portal link in a message is refused after this many days (the debtor can still come
# in through the office's public page with their account reference).
PORTAL_LINK_MAX_AGE_DAYS = env.int("PORTAL_LINK_MAX_AGE_DAYS", default=30)
# Identity checks: this many failures lock the link/reference (and the address) for a while.
PORTAL_FAILURE_LIMIT = env.int("PORTAL_FAILURE_LIMIT", default=3)
# Failures from one client address before it is locked too (carriers share addresses).
PORTAL_IP_FAILURE_LIMIT = env.int("PORTAL_IP_FAILURE_LIMIT", default=20)
PORTAL_LOCKOUT_MINUTES = env.int("PORTAL_LOCKOUT_MINUTES", default=30)
# A verified portal session ends after this many idle minutes.
PORTAL_SESSION_MINUTES = env.int("PORTAL_SESSION_MINUTES", default=20)
# How long the debtor's overview is kept rendered (portal/pagecache.py); 0 = never.
PORTAL_PAGE_CACHE_SECONDS = env.int("PORTAL_PAGE_CACHE_SECONDS", default=30)
