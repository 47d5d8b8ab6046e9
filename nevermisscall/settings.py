"""Settings, read from the environment (12-factor). See README "Configuration"."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
import environ

from nevermisscall.logs import logging_config
from nevermisscall.redis_guard import GuardedConnection

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

APP_ENV = env.str("APP_ENV", default="development")
if APP_ENV not in {"development", "testing", "production"}:
    raise environ.ImproperlyConfigured(f"APP_ENV must be development, testing or production, not {APP_ENV!r}")
IS_PRODUCTION = APP_ENV == "production"

DEBUG = env.bool("DEBUG", default=APP_ENV == "development")
if IS_PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ADMIN_API_KEY = env.str("ADMIN_API_KEY")
    INTERNAL_SERVICE_KEY = env.str("INTERNAL_SERVICE_KEY")
    if DEBUG:
        raise environ.ImproperlyConfigured("DEBUG must be off in production")
else:
    # Development and test keys are fixed so that tokens survive restarts; they are refused in production.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
    ADMIN_API_KEY = env.str("ADMIN_API_KEY", default="dev-admin-api-key")
    INTERNAL_SERVICE_KEY = env.str("INTERNAL_SERVICE_KEY", default="nmc-internal-services-auth-key-phase1")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if not IS_PRODUCTION else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
# Client addresses (nevermisscall/clientip.py): X-Forwarded-For is believed only through proxies
# we run. TRUSTED_PROXY_HOPS is how many proxies sit in front of daphne (1 behind one load
# balancer); TRUSTED_PROXIES lists their addresses or networks. Both default to trusting none.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
if TRUSTED_PROXY_HOPS < 0:
    raise environ.ImproperlyConfigured("TRUSTED_PROXY_HOPS must be 0 or more")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise environ.ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from _exc
if "USE_X_FORWARDED_FOR" in env:
    raise environ.ImproperlyConfigured(
        "USE_X_FORWARDED_FOR is gone (it trusted any client's header): set TRUSTED_PROXY_HOPS or TRUSTED_PROXIES"
    )

# --- Applications -------------------------------------------------------------------------------
# django-tenants: SHARED_APPS live in the public schema, TENANT_APPS in every business's schema.
SHARED_APPS = [
    # Django's admin templates first: django-tenants' admin overrides expect request.tenant to be
    # set on public requests, where ours is None.
    "django.contrib.admin",
    "django_tenants",
    "apps.tenants",
    "apps.accounts",
    "apps.telephony.registry",
    "apps.outbox",
    "apps.periodic",
    # Operations: health history, registry, status, logs API and stream, the operator page (no models).
    "apps.ops",
    # Also a tenant app: the public schema's copy holds the platform's system alerts.
    "apps.alerts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_celery_beat",
    "django_htmx",
    "channels",
]
TENANT_APPS = [
    "apps.tenants.config",
    "apps.telephony",
    "apps.conversations",
    "apps.dispatch",
    "apps.crm",
    "apps.analytics",
    "apps.alerts",
    "apps.campaigns",
    "apps.owner",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Business"
TENANT_DOMAIN_MODEL = "tenants.Domain"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
TENANT_LIMIT_SET_CALLS = True
# New businesses are clones of this schema, kept current by ``manage.py release`` (docs/admin.md).
TENANT_BASE_SCHEMA = env.str("TENANT_BASE_SCHEMA", default="nmc_base")
# Two-step deletion of a business (admin API): its data is exported here, then kept this many days.
BUSINESS_EXPORT_DIR = Path(env.str("BUSINESS_EXPORT_DIR", default=str(BASE_DIR / ".data" / "exports")))
BUSINESS_DELETION_GRACE_DAYS = env.int("BUSINESS_DELETION_GRACE_DAYS", default=14)
# Estimated cost in the admin usage report (USD): what the platform pays per unit.
USAGE_PRICE_SMS_SEGMENT = env.float("USAGE_PRICE_SMS_SEGMENT", default=0.0083)
USAGE_PRICE_CALL = env.float("USAGE_PRICE_CALL", default=0.0085)
USAGE_PRICE_AI_1K_TOKENS = env.float("USAGE_PRICE_AI_1K_TOKENS", default=0.0006)
# The PDF report's page streams are compressed (off only to read them back in tests).
ANALYTICS_REPORT_PDF_COMPRESS = env.bool("ANALYTICS_REPORT_PDF_COMPRESS", default=True)
# Businesses ``release`` migrates at once (processes; each holds one database connection).
RELEASE_PARALLELISM = env.int("RELEASE_PARALLELISM", default=2)
# Where the tenant of a request may come from, in order; the first credential present decides.
TENANT_RESOLVERS = [
    # Only on Twilio webhook and /internal/ paths (see the function); signature or service key guard them.
    "apps.telephony.registry.resolvers.from_twilio_webhook",
    "apps.accounts.resolvers.from_bearer_jwt",
    "apps.accounts.resolvers.from_owner_token",
    "apps.tenants.resolvers.from_api_key",
    # Only on /v1/widget/ paths: the public token a business embeds in its web page.
    "apps.tenants.resolvers.from_widget_token",
    "apps.tenants.resolvers.from_service_key",
    "apps.accounts.resolvers.from_session_user",
    # Only on /admin/ paths, for platform staff: the business they chose to administer.
    "apps.tenants.resolvers.from_staff_admin_choice",
    "apps.tenants.resolvers.from_domain",
]

# Infrastructure paths that never belong to a business skip tenant resolution entirely.
TENANT_RESOLUTION_EXEMPT_PREFIXES = (
    "/healthz",
    "/readyz",
    "/health",
    "/metrics",
    "/registry",
    "/status",
    "/ops/",
    "/static/",
)

MIDDLEWARE = [
    "nevermisscall.middleware.RequestIdMiddleware",
    "nevermisscall.refusals.MethodNotAllowedMiddleware",
    "nevermisscall.tenancy.middleware.TenantResolutionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nevermisscall.ratelimit.RateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nevermisscall.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "nevermisscall.metrics.RequestMetricsMiddleware",
]

# Twilio's webhooks (nevermisscall/webhook_handler.py) need none of the browser middleware above.
# Threads serving them (nevermisscall/webhook_handler.py); the voice assistant's turns have their own.
TWILIO_WEBHOOK_THREADS = env.int("TWILIO_WEBHOOK_THREADS", default=10)
TWILIO_VOICE_THREADS = env.int("TWILIO_VOICE_THREADS", default=20)
# At most this many of a process's webhook threads serve one business at once; its other webhooks
# wait on the event loop, up to the wait below, then answer 503 (nevermisscall/webhook_handler.py).
TWILIO_WEBHOOK_THREADS_PER_BUSINESS = env.int(
    "TWILIO_WEBHOOK_THREADS_PER_BUSINESS", default=max(1, TWILIO_WEBHOOK_THREADS // 2)
)
TWILIO_WEBHOOK_BUSINESS_WAIT_SECONDS = env.float("TWILIO_WEBHOOK_BUSINESS_WAIT_SECONDS", default=5.0)
TWILIO_WEBHOOK_MIDDLEWARE = [
    "nevermisscall.middleware.RequestIdMiddleware",
    "nevermisscall.tenancy.middleware.TenantResolutionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "nevermisscall.metrics.RequestMetricsMiddleware",
]

ROOT_URLCONF = "nevermisscall.urls"
ASGI_APPLICATION = "nevermisscall.asgi.application"
# Each app's websocket routes, like include() for HTTP (the project package imports no app).
WEBSOCKET_URLPATTERNS = ["apps.analytics.routing.websocket_urlpatterns", "apps.ops.routing.websocket_urlpatterns"]
# Every business-wide dashboard event is stored for the activity feed (nevermisscall/events.py).
EVENT_STORE = "apps.analytics.feed.feed_event_record"
# Asked first about every inbound customer text the conversation engine decides (the C / R / X
# answers to an appointment reminder, apps/campaigns/replies.py); "" for none. A dotted path so
# that conversations does not import the app above it.
SMS_REPLY_HOOK = "apps.campaigns.replies.reminder_reply"
# raw access token -> its active user, or AuthenticationFailed: how ``?token=`` signs a websocket in.
WEBSOCKET_TOKEN_USER = "apps.accounts.authentication.user_from_access_token"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Data stores --------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    from nevermisscall import embedded

    DATABASE_URL = embedded.ensure_postgres()
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, engine="django_tenants.postgresql_backend", conn_health_checks=True)
}
# Bounded database work (docs/operations.md, "Faults"): a request or task waits at most
# DATABASE_LOCK_TIMEOUT_MS for a row lock and runs a statement at most DATABASE_STATEMENT_TIMEOUT_MS,
# so one business's locked rows answer its webhooks an error well inside Twilio's 15 s instead of
# holding threads every business needs (0 turns a limit off; the release step's migrations do).
# An unreachable server is given up on after DATABASE_CONNECT_TIMEOUT seconds.
_DATABASE_LIMITS = {
    "lock_timeout": env.int("DATABASE_LOCK_TIMEOUT_MS", default=3000),
    "statement_timeout": env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=10000),
}
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=2),
        "options": " ".join(f"-c {name}={value}" for name, value in _DATABASE_LIMITS.items()),
    }
)
# Under ASGI every request runs in a new thread, so CONN_MAX_AGE cannot reuse connections; a
# psycopg pool can (ARCHITECTURE.md section 5). Each connection is checked as it leaves the pool:
# after a PostgreSQL restart the idle ones are dead, and without the check the first request on
# each failed (14 of 20 incoming calls answered 500 in the fault run). Waiting for a connection
# during an outage ends after DATABASE_POOL_TIMEOUT seconds, with an error answer, not Twilio's timeout.
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # With a pool: psycopg_pool's check on every checkout.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=2.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    from nevermisscall import embedded

    REDIS_URL = embedded.ensure_redis()

# Cache instances live per request under ASGI; the pool, and its connections, per process.
_REDIS_POOL = "nevermisscall.cache.SharedConnectionPool"
# A Redis that stops answering is found out once per process, then skipped (nevermisscall/redis_guard.py).
_REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
    "pool_class": _REDIS_POOL,
    "connection_class": GuardedConnection,
}
CACHES = {
    "default": {
        "BACKEND": "nevermisscall.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Cache keys carry the tenant schema (django-tenants #1052, #599).
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": _REDIS_CACHE_OPTIONS,
    },
    # Platform-wide entries (business by id, domain -> business) that every schema must agree on.
    "platform": {
        "BACKEND": "nevermisscall.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "platform",
        "OPTIONS": _REDIS_CACHE_OPTIONS,
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # socket_timeout None: redis-py's 5 s default kills idle websockets; the pool is sized
            # because redis-py's default of 100 made handshakes fail under 100 concurrent clients.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
        },
    }
}

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# django-celery-beat's database scheduler, sending each entry once per slot across beats (apps/periodic).
CELERY_BEAT_SCHEDULER = "apps.periodic.scheduler:OncePerSlotScheduler"
CELERY_TASK_TENANT_CACHE_SECONDS = 60
# Celery's Django fix-up closes the database connection before and after every task, and in a
# prefork worker with a connection pool the whole pool: a new PostgreSQL backend for every task
# (~16 % of a missed-call task's time, bench/README.md). Keep it for this many tasks instead;
# nevermisscall/celery.py drops a connection that broke.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    # The outbox: deliveries whose hand-off was lost, retries and holds that came due, stale claims.
    "outbox-sweep": {"task": "outbox.sweep", "schedule": env.float("DELIVERY_SWEEP_SECONDS", default=10.0)},
    # Call outcomes recorded by the status webhooks but never applied (lost hand-off to the worker).
    "call-status-sweep": {"task": "telephony.call_status_sweep", "schedule": 30.0},
    # Customers' texts never handed to the conversation engine (lost hand-off).
    "inbound-sweep": {"task": "conversations.inbound_sweep", "schedule": 30.0},
    # Conversations quiet for CONVERSATION_IDLE_HOURS get an outcome on their lead record (abandoned, price only).
    "lead-idle-sweep": {"task": "conversations.lead_idle_sweep", "schedule": 600.0},
    # Every component's health check, recorded for /health/services/{name}/history (apps/ops).
    "ops-health-check": {"task": "ops.health_check", "schedule": env.float("HEALTH_CHECK_SECONDS", default=60.0)},
    # Campaigns (apps/campaigns): one statement finds the businesses with something due, then one
    # task per business. Reminders every 5 minutes; follow-ups, retention and reviews less often.
    "campaign-reminders": {"task": "campaigns.fan_out", "schedule": 300.0, "args": ["reminder"]},
    "campaign-followups": {"task": "campaigns.fan_out", "schedule": 900.0, "args": ["followup"]},
    "campaign-reviews": {"task": "campaigns.fan_out", "schedule": 900.0, "args": ["review"]},
    "campaign-retention": {"task": "campaigns.fan_out", "schedule": 3600.0, "args": ["retention"]},
    # The recovery queue: the owner alerted once when a lead nobody answered passes the target.
    "campaign-recovery": {"task": "campaigns.fan_out", "schedule": 60.0, "args": ["recovery"]},
    # The owner's one-line text after each missed call the assistant handled (opt-in setting).
    "campaign-call-summary": {"task": "campaigns.fan_out", "schedule": 60.0, "args": ["call_summary"]},
    # The owner's daily digest (opt-in): once per local day at or after the chosen local hour.
    "campaign-digest": {"task": "campaigns.fan_out", "schedule": 300.0, "args": ["digest"]},
    # Alert rules evaluated from the metric rollups, notifications and escalations due, snoozes
    # ended, then the system alerts (apps/alerts/tasks.py).
    "alerts-evaluate": {"task": "alerts.evaluate_all", "schedule": env.float("ALERT_EVALUATE_SECONDS", default=60.0)},
    # Raw metric events and old 5-minute buckets pruned by age (apps/analytics/metrics.py).
    "metrics-prune": {"task": "analytics.metrics_prune", "schedule": 3600.0},
}
# A system alert when more tasks than this wait in the broker, or more deliveries are overdue.
ALERT_QUEUE_DEPTH_LIMIT = env.int("ALERT_QUEUE_DEPTH_LIMIT", default=500)
# System alerts are e-mailed once per raise to platform staff (is_staff, no business) and these.
OPS_ALERT_EMAILS = env.list("OPS_ALERT_EMAILS", default=[])

# --- Auth ---------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.TenantJWTAuthentication",
        "apps.accounts.authentication.OwnerTokenAuthentication",
        "apps.tenants.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.BusinessSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["nevermisscall.envelope.EnvelopeRenderer"],
    # JSON by default; views that take forms or files (uploads, Twilio webhooks) say so themselves.
    "DEFAULT_PARSER_CLASSES": ["nevermisscall.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "nevermisscall.pagination.PageLimitPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "nevermisscall.envelope.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "nevermisscall.openapi.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME_SECONDS", default=7 * 24 * 3600)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME_SECONDS", default=30 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
}

# --- Rate limits (per client IP and per tenant, counted atomically in Redis) --------------------
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMIT_PER_IP = env.str("RATE_LIMIT_PER_IP", default="600/minute")
RATE_LIMIT_PER_TENANT = env.str("RATE_LIMIT_PER_TENANT", default="3000/minute")
RATE_LIMIT_LOGIN = env.str("RATE_LIMIT_LOGIN", default="10/minute")
# Twilio webhooks are exempt: every tenant's calls arrive from Twilio's few addresses, so a per-IP
# limit would throttle the platform; they are authenticated by their signature instead.
RATE_LIMIT_EXEMPT_PREFIXES = (
    "/static/",
    "/healthz",
    "/readyz",
    "/health",
    "/metrics",
    "/webhooks/twilio/",
    "/twilio/",
    "/api/callbot/",
)

# --- OpenAPI ------------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "NeverMissCall API",
    "DESCRIPTION": "Missed calls become booked jobs. Multi-tenant API for businesses, integrators and staff.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    "ENUM_NAME_OVERRIDES": {
        "TradeEnum": "nevermisscall.choices.Trade",
        "MessageKindEnum": "apps.conversations.models.Message.Kind",
        "CredentialKindEnum": "apps.tenants.models.ApiCredential.Kind",
        "CallParticipantRoleEnum": "apps.telephony.models.CallParticipant.Role",
        "DeliveryStatusEnum": "apps.outbox.models.Delivery.Status",
        "DeliveryKindEnum": "apps.outbox.models.Delivery.Kind",
        "CampaignKindEnum": "apps.campaigns.models.Kind",
        "UnifiedAlertSeverityEnum": "apps.analytics.figures_api.SEED001_SEVERITY_CHOICES",
        "AlertSeverityEnum": "apps.alerts.models.Severity",
    },
}

# --- i18n, static, media ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# Uploaded files are private (nevermisscall/media.py): nothing serves MEDIA_ROOT or the bucket
# publicly. Locally, /media/<name> streams a file to members of the owning business only and
# /media/signed/<token> to holders of a short-lived signed link; with MEDIA_STORAGE=s3 the links
# are the object store's presigned URLs (django-storages; needs boto3: requirements-s3.txt).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/media/"
MEDIA_SIGNED_URL_MAX_AGE = env.int("MEDIA_SIGNED_URL_MAX_AGE_SECONDS", default=300)
if not 1 <= MEDIA_SIGNED_URL_MAX_AGE <= 7 * 24 * 3600:
    raise environ.ImproperlyConfigured("MEDIA_SIGNED_URL_MAX_AGE_SECONDS must be between 1 and 604800")
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
if MEDIA_STORAGE == "local":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    import importlib.util

    if importlib.util.find_spec("boto3") is None:
        raise environ.ImproperlyConfigured("MEDIA_STORAGE=s3 needs boto3: pip install -r requirements-s3.txt")
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("MEDIA_S3_BUCKET"),
            "location": env.str("MEDIA_S3_PREFIX", default=""),
            # None: boto3's own chain (AWS_* variables, instance role).
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("MEDIA_S3_REGION", default=None),
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default=None),
            "addressing_style": env.str("MEDIA_S3_ADDRESSING_STYLE", default=None),
            "signature_version": "s3v4",
            # Every URL is presigned and short-lived; the bucket itself must block public access.
            "querystring_auth": True,
            "querystring_expire": MEDIA_SIGNED_URL_MAX_AGE,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "private, max-age=300"},
        },
    }
else:
    raise environ.ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
PROFILE_PHOTO_MAX_BYTES = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ------------------------------------------------------------------------------------
# Structured JSON lines on every process, redacted, the latest kept in a capped Redis stream for
# /api/logs/latest and /api/logs/stream (nevermisscall/logs.py, docs/operations.md "Observability").
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in {"json", "plain"}:
    raise environ.ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOG_BUFFER_LINES = env.int("LOG_BUFFER_LINES", default=5000)
# --- Observability (apps/ops, nevermisscall/tracing.py, docs/operations.md "Observability") ----------
# Traces: none (made, not exported: log lines still carry trace IDs), console, or otlp (OTLP/HTTP to
# OTEL_EXPORTER_OTLP_ENDPOINT, read by the exporter).
OTEL_EXPORTER = env.str("OTEL_EXPORTER", default="none")
if OTEL_EXPORTER not in {"none", "console", "otlp"}:
    raise environ.ImproperlyConfigured(f"OTEL_EXPORTER must be none, console or otlp, not {OTEL_EXPORTER!r}")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="nevermisscall")
OTEL_EXCLUDED_URLS = env.str("OTEL_EXCLUDED_URLS", default="healthz,readyz,metrics/prometheus,static/")
# Stored results of each health check: the newest this many per component (older ones pruned).
HEALTH_HISTORY_LENGTH = env.int("HEALTH_HISTORY_LENGTH", default=500)
# A broker queue longer than this, or beat silent for longer than this, is "degraded".
HEALTH_QUEUE_DEPTH_WARNING = env.int("HEALTH_QUEUE_DEPTH_WARNING", default=500)
HEALTH_BEAT_STALE_SECONDS = env.float("HEALTH_BEAT_STALE_SECONDS", default=180.0)
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=LOG_FORMAT, buffer_lines=LOG_BUFFER_LINES)

# --- Telephony (Twilio) and SMS -------------------------------------------------------------------
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Where the twilio SDK sends its REST requests: Twilio itself, or a compatible server (staging, tests).
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
TWILIO_HTTP_TIMEOUT = env.float("TWILIO_HTTP_TIMEOUT", default=5.0)
TWILIO_VALIDATE_SIGNATURES = env.bool("TWILIO_VALIDATE_SIGNATURES", default=True)
if not TWILIO_VALIDATE_SIGNATURES and APP_ENV != "development":
    raise environ.ImproperlyConfigured("TWILIO_VALIDATE_SIGNATURES=false is only allowed with APP_ENV=development")
_TWILIO_CONFIGURED = bool(TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)
TWILIO_CONFIGURED = _TWILIO_CONFIGURED
# Sandbox numbers (+1 500 555 01xx…, Twilio's test range, never bought) let a business signed up in
# development finish onboarding and take the README's curl demo; never in production.
SANDBOX_NUMBERS = env.bool("SANDBOX_NUMBERS", default=not IS_PRODUCTION)
if SANDBOX_NUMBERS and IS_PRODUCTION:
    raise environ.ImproperlyConfigured("SANDBOX_NUMBERS is only allowed outside APP_ENV=production")
SMS_BACKEND = env.str("SMS_BACKEND", default="twilio" if _TWILIO_CONFIGURED else "console")
if SMS_BACKEND not in {"twilio", "console", "locmem"}:
    raise environ.ImproperlyConfigured(f"SMS_BACKEND must be twilio, console or locmem, not {SMS_BACKEND!r}")
if SMS_BACKEND == "twilio" and not _TWILIO_CONFIGURED:
    raise environ.ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
# A recorded call outcome (status webhook) not applied after this long is re-enqueued by the sweep.
CALL_STATUS_STALE_SECONDS = env.int("CALL_STATUS_STALE_SECONDS", default=20)
INBOUND_STALE_SECONDS = env.int("INBOUND_STALE_SECONDS", default=20)
# A worker's claim on an inbound text (the engine deciding it) older than this is taken over.
INBOUND_CLAIM_STALE_SECONDS = env.int("INBOUND_CLAIM_STALE_SECONDS", default=60)
# Circuit breaker around each provider: consecutive failures before it opens, seconds before a trial.
CIRCUIT_BREAKER_FAIL_MAX = env.int("CIRCUIT_BREAKER_FAIL_MAX", default=5)
CIRCUIT_BREAKER_RESET_SECONDS = env.int("CIRCUIT_BREAKER_RESET_SECONDS", default=30)
# A conversation counts as open (no auto-text on a new missed call) while it is active and has seen a
# message within this many hours.
CONVERSATION_IDLE_HOURS = env.int("CONVERSATION_IDLE_HOURS", default=24)

# Each business gets ``<slug>.<TENANT_BASE_DOMAIN>`` as its domain (``*.localhost`` resolves locally).
TENANT_BASE_DOMAIN = env.str("TENANT_BASE_DOMAIN", default="localhost")

# --- Email --------------------------------------------------------------------------------------
# Production needs a real backend (EMAIL_URL): the console and file backends would write every
# message, password-reset links included, to the log. EMAIL_DISABLED=true runs without mail instead
# (nevermisscall/mail.py): nothing sent, nothing printed, and /health/detailed says so.
EMAIL_URL = env.str("EMAIL_URL", default="")
EMAIL_DISABLED = env.bool("EMAIL_DISABLED", default=False)
if EMAIL_URL and EMAIL_DISABLED:
    raise environ.ImproperlyConfigured("Set EMAIL_URL or EMAIL_DISABLED=true, not both")
if EMAIL_URL:
    vars().update(environ.Env.email_url_config(EMAIL_URL))
elif EMAIL_DISABLED:
    EMAIL_BACKEND = "nevermisscall.mail.DisabledEmailBackend"
elif IS_PRODUCTION:
    raise environ.ImproperlyConfigured(
        "APP_ENV=production needs a real e-mail backend: set EMAIL_URL (e.g. smtp+tls://user:pass@host:587), "
        "or EMAIL_DISABLED=true to run without e-mail (password-reset e-mails are then not sent)"
    )
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if IS_PRODUCTION and EMAIL_BACKEND.rsplit(".", 2)[-2] in {"console", "filebased", "locmem", "dummy"}:
    raise environ.ImproperlyConfigured(
        f"APP_ENV=production refuses the {EMAIL_BACKEND} e-mail backend (it would write or drop password-reset "
        "links): use SMTP in EMAIL_URL, or EMAIL_DISABLED=true"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="NeverMissCall <no-reply@nevermisscall.test>")

# --- AI assistant and dispatch (docs/dispatch.md) -----------------------------------------------
# With no OPENAI_API_KEY the assistant runs on its rule-based engine. The timeout keeps every
# answer inside the two-second budget: a slower OpenAI answer is abandoned for the fallback.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or None
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=1.5)
OPENAI_MAX_TOKENS = env.int("OPENAI_MAX_TOKENS", default=400)
OPENAI_TEMPERATURE = env.float("OPENAI_TEMPERATURE", default=0.2)
# US dollars per million tokens (input, output), for the cost estimate stored with every call.
OPENAI_PRICES_PER_MILLION = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}
# The owner's spoken summaries (apps/owner/speech.py): OpenAI text-to-speech with a key, else espeak-ng.
OWNER_TTS_OPENAI_MODEL = env.str("OWNER_TTS_OPENAI_MODEL", default="gpt-4o-mini-tts")
OWNER_TTS_OPENAI_VOICE = env.str("OWNER_TTS_OPENAI_VOICE", default="alloy")
OWNER_TTS_TIMEOUT_SECONDS = env.float("OWNER_TTS_TIMEOUT_SECONDS", default=8.0)
if not 0.5 <= OWNER_TTS_TIMEOUT_SECONDS <= 30:
    raise environ.ImproperlyConfigured("OWNER_TTS_TIMEOUT_SECONDS must be between 0.5 and 30")
GOOGLE_MAPS_API_KEY = env.str("GOOGLE_MAPS_API_KEY", default="")
GOOGLE_MAPS_BASE_URL = env.str("GOOGLE_MAPS_BASE_URL", default="https://maps.googleapis.com")
GOOGLE_MAPS_TIMEOUT_SECONDS = env.float("GOOGLE_MAPS_TIMEOUT_SECONDS", default=0.8)

# --- Outbox: every text, e-mail and webhook (docs/outbox.md) ------------------------------------
# Attempts at the provider before a delivery is dead-lettered; owner alerts keep trying for hours
# (5 s doubling to 10 minutes between runs, with jitter).
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=12)
DELIVERY_OWNER_ALERT_MAX_ATTEMPTS = env.int("DELIVERY_OWNER_ALERT_MAX_ATTEMPTS", default=40)
DELIVERY_ATTEMPTS_PER_RUN = env.int("DELIVERY_ATTEMPTS_PER_RUN", default=3)
DELIVERY_BACKOFF_BASE_SECONDS = env.float("DELIVERY_BACKOFF_BASE_SECONDS", default=5.0)
DELIVERY_BACKOFF_MAX_SECONDS = env.float("DELIVERY_BACKOFF_MAX_SECONDS", default=600.0)
# A fresh delivery still queued after this long lost its hand-off: the sweep sends it.
DELIVERY_HANDOFF_GRACE_SECONDS = env.int("DELIVERY_HANDOFF_GRACE_SECONDS", default=20)
# A claim older than this is stale (its worker died, or the provider never answered nor called
# back): the sweep sends it again.
DELIVERY_SENDING_STALE_SECONDS = env.int("DELIVERY_SENDING_STALE_SECONDS", default=120)
DELIVERY_SWEEP_LIMIT = env.int("DELIVERY_SWEEP_LIMIT", default=2000)
DELIVERY_BACKLOG_WARNING_SECONDS = env.int("DELIVERY_BACKLOG_WARNING_SECONDS", default=300)
# The longest text accepted (Twilio's limit is 1,600 characters, about 10 segments).
SMS_MAX_SEGMENTS = env.int("SMS_MAX_SEGMENTS", default=10)
# Twilio's ValidityPeriod by purpose, else by kind: after this the carrier drops the text.
SMS_VALIDITY_SECONDS = {"transactional": 4 * 3600, "marketing": 10 * 3600, "owner_alert": 10 * 3600}
SMS_DAILY_QUOTA_DEFAULT = env.int("SMS_DAILY_QUOTA_DEFAULT", default=1000)
# Fernet keys for secrets stored encrypted (webhook signing secrets), newest first.
if IS_PRODUCTION:
    OUTBOX_ENCRYPTION_KEYS = env.list("OUTBOX_ENCRYPTION_KEYS")
else:
    OUTBOX_ENCRYPTION_KEYS = env.list("OUTBOX_ENCRYPTION_KEYS", default=[SECRET_KEY])
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
# Web Push to owners' devices (nevermisscall/webpush.py): the VAPID private key (base64url of the
# raw 32-byte P-256 key, or PEM). Unset outside production: derived from SECRET_KEY, so a
# development deployment keeps its key across restarts. Unset in production: push is off.
WEB_PUSH_VAPID_PRIVATE_KEY = env.str("WEB_PUSH_VAPID_PRIVATE_KEY", default="")
WEB_PUSH_CONTACT = env.str("WEB_PUSH_CONTACT", default="mailto:ops@nevermisscall.test")
# An alert older than this is not worth waking a phone for: the push service drops it.
WEB_PUSH_TTL_SECONDS = env.int("WEB_PUSH_TTL_SECONDS", default=3600)
WEB_PUSH_TIMEOUT = env.float("WEB_PUSH_TIMEOUT", default=10.0)
