"""Settings, driven by environment variables (12-factor); one module for every environment.

DATABASE_URL    PostgreSQL in production and CI; an SQLite file when unset.
SECRET_KEY      required when DEBUG is off.
DEBUG           off unless set to a true value ("1", "true", "yes"); `make run` sets it.
ALLOWED_HOSTS   comma-separated; defaults to loopback names.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, *, default: bool) -> bool:
    """Read a boolean environment variable strictly: a typo must not silently mean False."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false).")


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG", default=False)
TESTING = env_flag("TESTING", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # django-sequences before billing, so that billing's admin can unregister its counter table.
    "sequences.apps.SequencesConfig",
    # The job queue (jobs in PostgreSQL), before the apps whose tasks.py it discovers.
    "procrastinate.contrib.django",
    "core",
    "webhooks",
    "billing",
    "fleet",
    "rentals",
    "api",
    "api.idempotency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.request_log.RequestLogMiddleware",
    # Before CommonMiddleware, whose APPEND_SLASH would redirect (or, with DEBUG, fail) a POST.
    "api.middleware.ApiEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Many readers and one writer at a time; wait for the writer instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# ATOMIC_REQUESTS stays off: transactions begin in the use cases, never request-wide.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if TESTING and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # One test database per test run, so that two runs on one server never share one.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# procrastinate's schema is PostgreSQL's: on SQLite its migrations are skipped (core.outbox).
DATABASE_ROUTERS = ["core.outbox.JobsRouter"]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # The one-click links of document e-mails (django-sesame), scoped to one document.
    "sesame.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Rendered invoices and credit notes: written once, never overwritten (billing.documents).
    "documents": {
        "BACKEND": os.environ.get(
            "DOCUMENTS_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {
            "location": os.environ.get("DOCUMENTS_ROOT") or str(BASE_DIR / "var" / "documents"),
            # Read-only files: a stored document is never written again.
            "file_permissions_mode": 0o444,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: strict unless DEBUG (make run). Behind a TLS-terminating proxy in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Clients are identified by REMOTE_ADDR unless told how many proxies to trust: a
    # client-supplied X-Forwarded-For must not reset its own login throttle. Behind a load
    # balancer, 0 makes every client share the balancer's address (docs/reference/settings.md).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}

# Largest request body, in bytes: larger ones get 413 request_too_large before any parsing,
# chunked ones included (api.middleware). The API's bodies are a few hundred bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))

# Failed logins at POST /api/auth/token/ (api.login_failures); successes are never counted.
LOGIN_THROTTLE = {
    "FAILURES_PER_USERNAME": int(os.environ.get("LOGIN_FAILURES_PER_USERNAME", "10")),
    # Higher than per username: members behind one NAT or proxy share an address.
    "FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "100")),
    "WINDOW_SECONDS": int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900")),
    # manage.py purge_login_failures deletes older ones (never those still in the window).
    "KEEP_HOURS": int(os.environ.get("LOGIN_FAILURES_KEEP_HOURS", "24")),
}
for _name, _value in LOGIN_THROTTLE.items():
    if _value < 1:
        raise ImproperlyConfigured(f"LOGIN_THROTTLE[{_name!r}] must be at least 1, not {_value}.")

SPECTACULAR_SETTINGS = {
    "TITLE": "Car-sharing billing API",
    "DESCRIPTION": "Per-minute car-sharing billing: fleet, rentals, gapless invoices, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets come from the installed package, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # api.converters: an id of at most 18 digits, so that it always fits the database.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_idempotency_key",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # The edge's base serializers document themselves, not every serializer built on them.
    "GET_LIB_DOC_EXCLUDES": "api.schema.doc_excludes",
}

# Nothing that must be shared between app servers lives in the cache (the login throttle
# counts in the database), so each process keeps its own and no table is needed.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Business settings.
BILLING = {
    # Seller identity printed on every invoice (CGI annexe II art. 242 nonies A), copied onto
    # each invoice when it is issued; validated below.
    "SELLER_NAME": os.environ.get("SELLER_NAME", "Autopartage Démo SAS"),
    "SELLER_LEGAL_FORM": os.environ.get("SELLER_LEGAL_FORM", "SAS au capital de 10 000 €"),
    "SELLER_SIREN": os.environ.get("SELLER_SIREN", "123456782"),
    "SELLER_ADDRESS": os.environ.get("SELLER_ADDRESS", "1 rue de Rivoli, 75001 Paris, France"),
    "SELLER_VAT_ID": os.environ.get("SELLER_VAT_ID", "FR11123456782"),
    # Business customers pay within this many days of the issue date (Code de commerce
    # L441-10: at most 60); consumers pay by card when the invoice is issued.
    "PAYMENT_TERMS_DAYS": int(os.environ.get("PAYMENT_TERMS_DAYS", "30")),
    # Accounts a zone posts to when its chart (billing.AccountChart) does not say otherwise.
    "ACCOUNTS": {
        "RECEIVABLE": os.environ.get("ACCOUNT_RECEIVABLE", "411"),
        "CUSTOMER_PREFIX": os.environ.get("ACCOUNT_CUSTOMER_PREFIX", "411"),
        "REVENUE": os.environ.get("ACCOUNT_REVENUE", "706"),
        "VAT": os.environ.get("ACCOUNT_VAT", "44571"),
        "OUT_OF_SCOPE": os.environ.get("ACCOUNT_OUT_OF_SCOPE", "467"),
    },
    # Fiscal years run from the 1st of this month (1-12), in each zone's local calendar.
    "FISCAL_YEAR_START_MONTH": int(os.environ.get("FISCAL_YEAR_START_MONTH", "1")),
    # The currency the books are kept in: the FEC's Debit and Credit are in it.
    "ACCOUNTING_CURRENCY": os.environ.get("ACCOUNTING_CURRENCY", "EUR"),
    # Longest rental accepted, in days: beyond it the input is taken for a mistake.
    "MAX_RENTAL_DAYS": int(os.environ.get("MAX_RENTAL_DAYS", "31")),
    # How far ahead of the server's clock a phone's timestamps may be, in seconds.
    "CLOCK_SKEW_SECONDS": int(os.environ.get("CLOCK_SKEW_SECONDS", "300")),
}

if not 1 <= BILLING["FISCAL_YEAR_START_MONTH"] <= 12:
    raise ImproperlyConfigured("FISCAL_YEAR_START_MONTH must be a month number, 1 to 12.")

# The idempotency app (api.idempotency): Idempotency-Key storage and replay.
IDEMPOTENCY = {
    # How long a replay waits for the first request with the same key. Kept below
    # gunicorn's worker timeout (config/gunicorn.py), so a waiting replay answers.
    "WAIT_SECONDS": float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "20")),
    # After how long a request still IN_PROGRESS is presumed dead and its key taken over:
    # above gunicorn's worker timeout, so a slow but live first request is never run twice.
    "TAKEOVER_SECONDS": float(os.environ.get("IDEMPOTENCY_TAKEOVER_SECONDS", "120")),
    # Kept at least 24 hours whatever this says (API contract).
    "KEEP_HOURS": int(os.environ.get("IDEMPOTENCY_KEEP_HOURS", "48")),
}


def _validated_seller(billing: dict[str, object]) -> None:
    """Refuse to start with a seller identity that no invoice may carry (python-stdnum)."""
    from stdnum.eu import vat
    from stdnum.exceptions import ValidationError
    from stdnum.fr import siren

    try:
        siren.validate(str(billing["SELLER_SIREN"]))
        vat.validate(str(billing["SELLER_VAT_ID"]))
    except ValidationError as exc:
        raise ImproperlyConfigured(f"Seller identity: {exc} (SELLER_SIREN, SELLER_VAT_ID)") from exc
    vat_id = vat.compact(str(billing["SELLER_VAT_ID"]))
    if vat_id.startswith("FR") and vat_id[4:] != siren.compact(str(billing["SELLER_SIREN"])):
        raise ImproperlyConfigured("SELLER_VAT_ID is not the VAT number of SELLER_SIREN.")
    if not 0 < int(str(billing["PAYMENT_TERMS_DAYS"])) <= 60:
        raise ImproperlyConfigured("PAYMENT_TERMS_DAYS must be 1 to 60 (Code de commerce L441-10).")


_validated_seller(BILLING)

# Rendered documents and their e-mails (billing.documents).
DOCUMENTS = {
    # The public address of the API, for the links in e-mails.
    "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
    # How long the one-click link of a document e-mail opens it.
    "LINK_MAX_AGE_DAYS": int(os.environ.get("DOCUMENT_LINK_MAX_AGE_DAYS", "30")),
}
# django-sesame: links expire (and die with a password change); each is scoped to a document.
SESAME_MAX_AGE = DOCUMENTS["LINK_MAX_AGE_DAYS"] * 24 * 3600

# E-mail: the console in the demo (DEBUG), SMTP otherwise; tests use a server on loopback.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "factures@autopartage.example")

# Webhooks (the webhooks app): deliveries after commit, retried with exponential back-off.
WEBHOOKS = {
    # Attempts per delivery before it is marked FAILED (finance can send it again).
    "MAX_ATTEMPTS": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8")),
    # Attempt n waits BACKOFF_SECONDS * 2**(n-1) after the one before: 30 s, 1 min, ... 32 min.
    "BACKOFF_SECONDS": float(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "30")),
    "TIMEOUT_SECONDS": float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
    # Endpoints must be https; plain http only where this is on (never in production).
    "ALLOW_HTTP": env_flag("WEBHOOK_ALLOW_HTTP", default=DEBUG),
    # Loopback, private, link-local... addresses are refused unless this is on (tests, demo).
    "ALLOW_PRIVATE_ADDRESSES": env_flag("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False),
}

# The outbox (core.outbox): procrastinate's jobs in PostgreSQL, run by `manage.py
# procrastinate worker`. On SQLite (the demo) jobs are kept in memory and run by a worker
# thread inside each web process, after commit.
OUTBOX = {
    "IN_PROCESS_WORKER": env_flag(
        "OUTBOX_IN_PROCESS_WORKER",
        default=DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not TESTING,
    ),
    # A worker silent this long is presumed dead and its jobs run again (at least once).
    "STALLED_AFTER_SECONDS": float(os.environ.get("OUTBOX_STALLED_AFTER_SECONDS", "60")),
    # How often workers look for such jobs (cron with a sixth field, the seconds, last).
    "STALLED_CRON": os.environ.get("OUTBOX_STALLED_CRON", "* * * * * */30"),
    # Finished jobs are kept this long (the deliveries keep their own history).
    "KEEP_FINISHED_HOURS": int(os.environ.get("OUTBOX_KEEP_FINISHED_HOURS", "72")),
}
PROCRASTINATE_ON_APP_READY = "core.outbox.on_app_ready"
PROCRASTINATE_WORKER_DEFAULTS = {
    # Heartbeats well inside the stalled delay, so a live worker is never taken for dead.
    "update_heartbeat_interval": OUTBOX["STALLED_AFTER_SECONDS"] / 6,
    "stalled_worker_timeout": OUTBOX["STALLED_AFTER_SECONDS"],
    "fetch_job_polling_interval": float(os.environ.get("OUTBOX_POLL_SECONDS", "5")),
    # A SIGTERM lets the running job finish for this long, then it is retried elsewhere.
    "shutdown_graceful_timeout": 30.0,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per request comes from api.request_log; silence Django's duplicate.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # One line per rendering step and per font is noise; their warnings still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "factur-x": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        # "Deferred 1 job" for every document issued, inside the request: the job's row is
        # the record; the worker still logs each job it runs.
        "procrastinate.jobs": {"level": "WARNING"},
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
