"""Settings for the portal, read from the environment (documented in .env.example).

With no environment at all the portal runs as the embedded demo is meant to:
``DEBUG`` must be switched on explicitly, and production refuses to start
without a secret key and allowed hosts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False, hint="Set DEBUG=true only for the local demo.")

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-local-demo-key-never-use-in-production-0123456789")
else:
    SECRET_KEY = env_str(
        "SECRET_KEY",
        hint="Production needs a long random SECRET_KEY, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'.",
    )

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [],
    hint="Comma-separated host names the portal answers to.",
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty. Set ALLOWED_HOSTS to the portal's host name(s) (see .env.example)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "guardian",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "audit",
    "domains",
    "participants",
    "cohorts",
    "analysis",
    "airlock",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "accounts.context_processors.navigation",
                "domains.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# The embedded demo uses SQLite; everything else (tests, production) PostgreSQL.
DATABASE_URL = env_str(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
    hint="For example postgres://portal@db.internal:5432/portal.",
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers
    # (web and worker) queue instead of failing; WAL lets readers continue.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# Holds values that are constant for a data release (each cohort criterion's
# own count, raw: disclosure control applies when it is shown). Per process in
# the demo; one Redis shared by the web servers in production.
CACHE_URL = env_str("CACHE_URL", "locmem://", hint="locmem:// or redis://host:6379/1")
CACHES: dict[str, dict[str, object]]
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL == "locmem://":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 10000}}
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: use locmem:// or redis://host:port/db.")

# --- Authentication --------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:sign-in"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: a new key at sign-in (Django does this), an idle timeout and an
# absolute timeout enforced by accounts.middleware.SessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failed attempts the
# account is locked for AXES_COOLOFF_TIME, whatever the address.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Lockout is per account (what the sign-in names), not per address: an
# institution's many researchers often share one address. axes.W006 warns about
# exactly this choice.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_USERNAME_CALLABLE = "accounts.views.axes_username"
AXES_VERBOSE = False

# Two-factor (django-otp TOTP)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Genomic Research Environment")
OTP_TOTP_THROTTLE_FACTOR = 1

# --- Security headers --------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False, hint="Set true only behind a proxy that sets X-Forwarded-Proto."):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Trust X-Forwarded-For for the audit log's client address only behind a known proxy.
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", False)

# --- Static files (served by whitenoise; no CDN) ------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Environment store (genomic files and job results; never served directly) --
DATA_ROOT = Path(env_str("DATA_ROOT", str(VAR_DIR / "data")))

# --- Disclosure control (applied to every count shown) ----------------------
DISCLOSURE_THRESHOLD = env_int("DISCLOSURE_THRESHOLD", 5, hint="Non-zero counts below this are shown as <N.")
DISCLOSURE_ROUNDING = env_int("DISCLOSURE_ROUNDING", 5, hint="Shown counts are rounded to a multiple of this.")
# Count queries a researcher may make in an hour (differencing attacks need many).
COHORT_COUNT_LIMIT_PER_HOUR = env_int("COHORT_COUNT_LIMIT_PER_HOUR", 600)

# --- Analysis jobs (analysis/) ----------------------------------------------------
# Jobs of one project running at once; the others wait, queued, until a slot frees.
ANALYSIS_RUNNING_JOBS_PER_PROJECT = env_int("ANALYSIS_RUNNING_JOBS_PER_PROJECT", 2)
# A running job whose worker sent no progress for this long is flagged on its
# page, and failed by the sweeper after the timeout.
ANALYSIS_HEARTBEAT_WARN_SECONDS = env_int("ANALYSIS_HEARTBEAT_WARN_SECONDS", 120)
ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS = env_int("ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS", 900)
# A queued job handed to the broker this long ago without starting is handed again.
ANALYSIS_REPUBLISH_AFTER_SECONDS = env_int("ANALYSIS_REPUBLISH_AFTER_SECONDS", 300)
ANALYSIS_SWEEP_MINUTES = env_int("ANALYSIS_SWEEP_MINUTES", 1, hint="Minutes between two runs of the job sweeper.")
# Time limits of one job task (a block of a split job is one task); the soft
# limit fails the job with a message.
ANALYSIS_SOFT_TIME_LIMIT = env_int("ANALYSIS_SOFT_TIME_LIMIT", 6 * 3600)
ANALYSIS_TIME_LIMIT = env_int("ANALYSIS_TIME_LIMIT", 6 * 3600 + 300)
if ANALYSIS_SOFT_TIME_LIMIT >= ANALYSIS_TIME_LIMIT:
    raise ImproperlyConfigured("ANALYSIS_SOFT_TIME_LIMIT must be shorter than ANALYSIS_TIME_LIMIT (see .env.example).")
# Variants per block of a block-split job (each block is one task on any worker).
ANALYSIS_BLOCK_VARIANTS = env_int("ANALYSIS_BLOCK_VARIANTS", 20_000)
ANALYSIS_LOG_LIMIT = env_int("ANALYSIS_LOG_LIMIT", 500, hint="Log lines kept per job; later lines are dropped.")
# Extra job-type modules (site-specific analyses), besides the package analysis.jobtypes.
ANALYSIS_EXTRA_JOB_TYPES = env_list("ANALYSIS_EXTRA_JOB_TYPES", [])
# The code version recorded in job provenance; empty means "the git commit".
PORTAL_CODE_VERSION = env_str("PORTAL_CODE_VERSION", "")

# --- Airlock (airlock/, disclosure/checks.py) -------------------------------------
# What may leave: file types, size and rows (OpenSAFELY's limits), residual
# degrees of freedom of model outputs (ACRO's 10), and the floor of bulk
# variant lists (Genomics England: AF >= 0.005 and AC >= 20; about 300
# selected significant variants may be listed below it, after review).
AIRLOCK_ALLOWED_FORMATS = env_list("AIRLOCK_ALLOWED_FORMATS", ["csv", "png", "svg", "pdf"])
AIRLOCK_MAX_FILE_BYTES = env_int("AIRLOCK_MAX_FILE_BYTES", 16 * 1024 * 1024)
AIRLOCK_MAX_ROWS = env_int("AIRLOCK_MAX_ROWS", 5000)
AIRLOCK_MIN_RESIDUAL_DF = env_int("AIRLOCK_MIN_RESIDUAL_DF", 10)
AIRLOCK_VARIANT_MIN_AF = float(env_str("AIRLOCK_VARIANT_MIN_AF", "0.005", hint="A number, e.g. 0.005."))
AIRLOCK_VARIANT_MIN_AC = env_int("AIRLOCK_VARIANT_MIN_AC", 20)
AIRLOCK_SELECTED_VARIANTS_MAX = env_int("AIRLOCK_SELECTED_VARIANTS_MAX", 300)
# Minutes between two sweeps releasing approved requests whose release task was lost.
AIRLOCK_SWEEP_MINUTES = env_int("AIRLOCK_SWEEP_MINUTES", 5)

# --- Celery --------------------------------------------------------------------
# Default: kombu's filesystem transport, a broker that needs no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_broker_folder = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    # Longer than the longest job, so an unacknowledged task is not redelivered
    # while its worker is still running it.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 12 * 3600),
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_broker_folder / "queue"),
            "data_folder_out": str(_broker_folder / "queue"),
            "processed_folder": str(_broker_folder / "processed"),
            # Exchange bindings (fanout, worker control): under var/, not the working directory.
            "control_folder": str(_broker_folder / "control"),
            "store_processed": False,
        }
    )
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= ANALYSIS_TIME_LIMIT:  # type: ignore[operator]
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be longer than ANALYSIS_TIME_LIMIT, or a running job would be redelivered."
    )
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # the database row, not a result backend, is the truth
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 6 * 3600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600 + 300)
# Short tasks go on the default queue; genome-wide analyses will be routed to
# "heavy" with CELERY_TASK_ROUTES (README: workers), not a task attribute.
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
# Periodic work. One scheduler runs it: `celery -A portal beat` in production,
# the demo worker's embedded one (`--beat`) in `make run`.
CELERY_BEAT_SCHEDULE = {
    "close-ended-projects": {"task": "domains.close_ended_projects", "schedule": crontab(hour=0, minute=15)},
    "verify-audit-chain": {"task": "audit.verify_chain", "schedule": crontab(hour=2, minute=30)},
    # Every few minutes: lost publishes handed on, jobs whose worker went silent failed.
    "sweep-analysis-jobs": {"task": "analysis.sweep_jobs", "schedule": crontab(minute=f"*/{ANALYSIS_SWEEP_MINUTES}")},
    "release-approved-outputs": {
        "task": "airlock.release_approved",
        "schedule": crontab(minute=f"*/{AIRLOCK_SWEEP_MINUTES}"),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail ---------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")

# --- API --------------------------------------------------------------------------
# Personal API tokens (hashed at rest, see accounts.api_auth) first, so an
# unauthenticated call is answered 401 with a WWW-Authenticate header; sessions
# reach the API only past the two-factor wall (accounts.middleware).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "accounts.api_pagination.Pages",
    "PAGE_SIZE": 100,
    # One error shape for every API error (accounts.api_errors).
    "EXCEPTION_HANDLER": "accounts.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Genomic Research Environment API",
    "DESCRIPTION": "Research domains, membership applications and projects. "
    "Authenticate with a personal API token: `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The documentation page uses the bundled Swagger UI: no CDN, and no
    # online validator badge (Swagger UI's default fetches one from outside).
    # ReDoc is not offered: its page loads web fonts from outside.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api_errors.schema_error_responses",
    ],
}

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Date inputs render and read ISO 8601 first, as browsers' date pickers need.
FORMAT_MODULE_PATH = ["portal.formats"]

# --- Guardian ---------------------------------------------------------------------------
ANONYMOUS_USER_NAME = None  # no anonymous object permissions
GUARDIAN_RAISE_403 = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {name: {"level": "WARNING"} for name in ("axes", "bio2zarr", "msprime", "numba")},
}

# The demo commands refuse to run unless DEBUG is on.
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-portal-password")
