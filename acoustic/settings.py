"""Settings for acoustic-leads, read from the environment (and an optional .env) through django-environ."""

import ipaddress
import re
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from corsheaders.defaults import default_headers
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Start-up problems are collected and reported as one readable line each, not as a traceback.
_config_errors: list[str] = []


def _required(name: str, cast=str, dev_default=None):
    """A variable that production must set; development (DEBUG on) falls back to dev_default."""
    if name in env.ENVIRON and env.str(name).strip():
        try:
            return cast(name)
        except Exception as error:  # noqa: BLE001 - any parse failure is a configuration error
            _config_errors.append(f"{name} is malformed: {error}")
            return None
    if DEBUG:
        return dev_default
    _config_errors.append(f"{name} is not set (required when DEBUG is off; see .env.example)")
    return None


def _dev_secret_key() -> str:
    """A random key kept under var/ so development sessions and encrypted fields survive restarts."""
    path = RUN_DIR / "dev-secret-key"
    if not path.exists():
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


# Core
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY", env.str, dev_default=_dev_secret_key() if DEBUG else None)
ALLOWED_HOSTS = _required("ALLOWED_HOSTS", env.list, dev_default=["127.0.0.1", "localhost", "testserver"])
SITE_URL = (_required("SITE_URL", env.str, dev_default="http://127.0.0.1:8000") or "").rstrip("/")
if SITE_URL and not re.match(r"^https?://[^/\s]+$", SITE_URL):
    _config_errors.append(f"SITE_URL is malformed: expected a base URL like https://acoustic.uz, got {SITE_URL!r}")
elif SITE_URL and not DEBUG and not SITE_URL.startswith("https://"):
    _config_errors.append(
        "SITE_URL is malformed: it must start with https:// when DEBUG is off (amoCRM's OAuth redirect and webhooks), "
        f"got {SITE_URL!r}"
    )

# The site's name, shown in the admin's header and page titles.
SITE_NAME = env.str("SITE_NAME", default="Acoustic.uz")

# Encryption at rest: the first key encrypts, every key decrypts (rotate: README, rotate_encryption_keys).
FERNET_KEYS = _required("FERNET_KEYS", env.list, dev_default=[SECRET_KEY])
# Production keys are real Fernet keys (django-fernet-fields would derive one from any passphrase). A bad key is named
# by its place only: the line must not print a secret.
_bad_keys = [str(n) for n, key in enumerate(FERNET_KEYS or [], 1) if not re.fullmatch(r"[A-Za-z0-9_-]{43}=", key)]
if _bad_keys and not DEBUG:
    _config_errors.append(
        f"FERNET_KEYS is malformed: {'keys' if len(_bad_keys) > 1 else 'key'} {', '.join(_bad_keys)} of "
        f"{len(FERNET_KEYS)} {'are not Fernet keys' if len(_bad_keys) > 1 else 'is not a Fernet key'} (32 url-safe "
        'base64 bytes; make one with: python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())")'
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "acoustic.axes_app.AxesConfig",  # django-axes, its admin section named in words
    "corsheaders",
    "acoustic",
    "django_ratelimit",
    "leads",
    "amocrm",
    "notifications",
]

MIDDLEWARE = [
    "acoustic.request_id.request_id_middleware",
    # A stored secret no key in FERNET_KEYS opens: 503 with the reason (a page in the admin), never a 500.
    "acoustic.unreadable_secrets.UnreadableSecretsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's sessions, users and messages, which the lead API goes around (acoustic/page_middleware.py).
    "acoustic.page_middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "acoustic.page_middleware.AuthenticationMiddleware",
    "acoustic.page_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "acoustic.urls"
WSGI_APPLICATION = "acoustic.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "acoustic.context_processors.site_name",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (or anything dj-database-url style) via DATABASE_URL.
try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{RUN_DIR / 'db.sqlite3'}")}
    if urlsplit(env.str("DATABASE_URL", default="sqlite:")).scheme not in environ.Env.DB_SCHEMES:
        raise ValueError(f"unknown scheme; use one of postgres://, sqlite:///, got {env.str('DATABASE_URL')!r}")
except Exception as error:  # noqa: BLE001 - django-environ raises several types for a bad URL
    _config_errors.append(f"DATABASE_URL is malformed: {error}")
    DATABASES = {}
if DATABASES.get("default", {}).get("ENGINE", "").endswith("sqlite3"):
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    # Wait for a concurrent writer (web and worker share the file) instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
if DATABASES.get("default", {}).get("ENGINE", "").endswith("postgresql"):
    # Each process keeps its connection between requests (a conn_max_age in DATABASE_URL wins): a new one costs a
    # PostgreSQL backend process and a TCP and auth handshake, more than storing a lead (bench/intake.py as deployed
    # answers about three times the leads per second). The health check replaces a connection PostgreSQL dropped
    # (a restart) before a request relies on it.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Redis: broker, cache and rate limits. Production names its server; development and tests (DEBUG on) without
# REDIS_URL get the bundled redis-server on a Unix socket.
REDIS_URL = _required("REDIS_URL", env.str, dev_default="") or ""
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    _config_errors.append(f"REDIS_URL is malformed: expected redis://host:port/db, got {REDIS_URL!r}")
if not REDIS_URL and DEBUG:
    from acoustic import embedded_redis

    REDIS_URL = f"unix://{embedded_redis.ensure_running(RUN_DIR)}"
# kombu names a Unix socket redis+socket:// (the embedded Redis, `make run` and the tests hand it on as unix://).
CELERY_BROKER_URL = re.sub(r"^unix://", "redis+socket://", REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "acoustic.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "acoustic",
        # Redis answers in a millisecond: a silent one (paused, overloaded, a half-open link) must not hold a lead
        # form for long. The first timeout trips acoustic.redis_breaker, and the request path then skips Redis.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# Celery: Redis broker, no result backend, JSON only, tasks acknowledged after they finish.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # As the cache's: a silent Redis holds a lead form up by half a second at most, and that timeout trips
    # acoustic.redis_breaker, which then skips the publish. The workers' BRPOP is not bound by it (kombu's event loop).
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
    # A publish tries the broker once: kombu would retry for about 6 s, holding up every lead form while Redis is
    # down. A task that is not queued loses nothing: a periodic sweep finds its work. (Workers reconnect by
    # their own loop, broker_connection_retry, which this does not touch.)
    "max_retries": 0,
    # Longer than the task time limit, so a slow task is not redelivered while it still runs.
    "visibility_timeout": 600,
}
CELERY_BEAT_SCHEDULE: dict = {
    # Leads: dispatches every stored lead that no publish after its intake took (each web process publishes at most
    # twice a second, leads/intake.py), or whose task was lost (broker outage, dead worker). A run not started within
    # 5 s expires, so a stopped worker does not come back to a pile of them.
    "leads-dispatch": {"task": "leads.tasks.dispatch_leads", "schedule": 1.0, "options": {"expires": 5}},
    # Leads: idempotency keys older than 7 days stop matching (leads/idempotency.py).
    "leads-forget-idempotency-keys": {"task": "leads.tasks.forget_idempotency_keys", "schedule": 24 * 60 * 60},
    # amoCRM: refresh tokens die after 3 months unused; the task refreshes a pair older than 30 days.
    "amocrm-keep-tokens-alive": {"task": "amocrm.tasks.keep_tokens_alive", "schedule": 24 * 60 * 60},
    # Two-way sync: deal stages changed in amoCRM that no webhook brought (and webhook events left unapplied).
    "amocrm-reconcile-deal-stages": {"task": "amocrm.tasks.reconcile_deal_stages", "schedule": 10 * 60},
    # Picks up every delivery whose time has come or whose worker vanished: nothing waits on a lost message.
    "amocrm-sweep-deliveries": {"task": "amocrm.tasks.sweep_deliveries", "schedule": 15.0},
}

# Lead intake
LEAD_RATE_LIMIT = env.str("LEAD_RATE_LIMIT", default="10/m")
if LEAD_RATE_LIMIT and not re.fullmatch(r"\d+/\d*[smhd]", LEAD_RATE_LIMIT):
    _config_errors.append(f"LEAD_RATE_LIMIT is malformed: expected like 10/m, got {LEAD_RATE_LIMIT!r}")
LEAD_MAX_BODY_BYTES = 16 * 1024
LEAD_PHONE_REGION = env.str("LEAD_PHONE_REGION", default="UZ")
# Addresses (or CIDR ranges) of the reverse proxies whose X-Forwarded-For we believe.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Django's own RedisCache increments atomically, which is all django-ratelimit needs.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# When the limiter cannot count (Redis trouble), let the lead through rather than refuse it.
RATELIMIT_FAIL_OPEN = True
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        _config_errors.append(f"TRUSTED_PROXIES is malformed: {_proxy!r} is not an IP address or network")

# CORS and CSRF: the public site may post leads from another origin.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# The lead API: CORS applies to it, and it goes around the pages' sessions, users and messages (page_middleware.py).
LEAD_API_URLS_REGEX = r"^/api/leads/?$"
CORS_URLS_REGEX = LEAD_API_URLS_REGEX
# The site script sends each lead with an Idempotency-Key header (leads/idempotency.py).
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# amoCRM: the local sandbox instead of the real hosts (development and tests only).
AMOCRM_SANDBOX_URL = env.str("AMOCRM_SANDBOX_URL", default="").rstrip("/")
# The CA certificate a sandbox serving HTTPS made at start-up (it prints the path): trusted for the sandbox only.
AMOCRM_SANDBOX_CA_BUNDLE = env.str("AMOCRM_SANDBOX_CA_BUNDLE", default="")
# amoCRM allows 7 requests/s, then answers 429 and blocks with 403: requests per second for all processes together,
# and the extra gap that absorbs network jitter (0.10: 1/7 s × 1.10 ≈ 157 ms between requests).
# Reference: https://www.amocrm.ru/developers/content/api/recommendations
try:
    AMOCRM_RATE_LIMIT = env.float("AMOCRM_RATE_LIMIT", default=7.0)
except ValueError:
    AMOCRM_RATE_LIMIT = float("nan")  # reported just below
if not 0 < AMOCRM_RATE_LIMIT <= 7:
    _config_errors.append(
        f"AMOCRM_RATE_LIMIT is malformed: expected requests per second above 0 and at most 7, "
        f"got {env.str('AMOCRM_RATE_LIMIT')!r}"
    )
try:
    AMOCRM_RATE_MARGIN = env.float("AMOCRM_RATE_MARGIN", default=0.10)
except ValueError:
    AMOCRM_RATE_MARGIN = float("nan")
if not 0 <= AMOCRM_RATE_MARGIN <= 1:
    _config_errors.append(
        f"AMOCRM_RATE_MARGIN is malformed: expected a fraction from 0 to 1, got {env.str('AMOCRM_RATE_MARGIN')!r}"
    )

# While amoCRM refuses new deals (402/403), one waiting lead is tried this often to see whether it takes them again.
try:
    AMOCRM_PAUSED_TRY_MINUTES = env.int("AMOCRM_PAUSED_TRY_MINUTES", default=10)
except ValueError:
    AMOCRM_PAUSED_TRY_MINUTES = 0  # reported just below
if AMOCRM_PAUSED_TRY_MINUTES < 1:
    _config_errors.append(
        f"AMOCRM_PAUSED_TRY_MINUTES is malformed: expected whole minutes, at least 1, "
        f"got {env.str('AMOCRM_PAUSED_TRY_MINUTES')!r}"
    )

# Telegram, alerts and monitoring. The bot token and chats are data (admin -> Telegram settings).
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org").rstrip("/")


def _whole_minutes(name: str, default: int) -> int:
    """A number of minutes, at least 1; anything else is reported as a configuration error."""
    try:
        minutes = env.int(name, default=default)
    except ValueError:
        minutes = 0
    if minutes < 1:
        _config_errors.append(f"{name} is malformed: expected whole minutes, at least 1, got {env.str(name)!r}")
    return minutes


# Alert when the oldest lead still on its way to amoCRM is older than this.
ALERT_UNDELIVERED_MINUTES = _whole_minutes("ALERT_UNDELIVERED_MINUTES", 10)
# Alert when a delivered lead's deal is still in its first stage after this many minutes of working hours.
UNANSWERED_ALERT_MINUTES = _whole_minutes("UNANSWERED_ALERT_MINUTES", 15)
# Bearer token for GET /metrics; unset turns /metrics off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
CELERY_BEAT_SCHEDULE.update({
    # Picks up every Telegram message whose time has come or whose worker vanished.
    "telegram-sweep-messages": {"task": "notifications.tasks.sweep_telegram_messages", "schedule": 30.0},
    "alerts-check": {"task": "notifications.tasks.check_alerts", "schedule": 60.0},
    "amocrm-prune-request-log": {"task": "amocrm.tasks.prune_request_log", "schedule": 24 * 60 * 60},
})  # fmt: skip

# Auth and sessions
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Admin login guessing: 5 failures for one username from one IP lock that pair out for an hour (429 + a page).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "axes_lockout.html"
# The same client IP as the lead rate limit: X-Forwarded-For is believed only from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "leads.client_ip.client_ip"

# HTTPS (DEBUG off): the proxy terminates TLS and says so in a header; everything else is redirected to HTTPS.
SECURE_SSL_REDIRECT = not DEBUG
# Health probes (the container's, a load balancer's) speak plain HTTP to gunicorn directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = None
_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="" if DEBUG else "X-Forwarded-Proto").strip()
if re.fullmatch(r"[A-Za-z0-9-]+", _ssl_header):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _ssl_header.upper().replace("-", "_"), "https")
elif _ssl_header:
    _config_errors.append(f"SECURE_PROXY_SSL_HEADER is malformed: expected a header name, got {_ssl_header!r}")
# HSTS: browsers remember to use HTTPS only. Set SECURE_HSTS_SECONDS low (e.g. 300) while trying HTTPS out.
try:
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
except ValueError:
    SECURE_HSTS_SECONDS = 0
    _config_errors.append(f"SECURE_HSTS_SECONDS is malformed: expected seconds, got {env.str('SECURE_HSTS_SECONDS')!r}")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Languages: staff and visitors read Uzbek (default) or Russian; English is the source language.
LANGUAGE_CODE = "uz"
LANGUAGES = [("uz", _("Uzbek")), ("ru", _("Russian")), ("en", _("English"))]
# Ours first; then Django's and django-axes' strings that their own catalogs lack (or phrase ungrammatically).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "upstream"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tashkent")
USE_I18N = True
USE_TZ = True

# Static files, served by WhiteNoise; in production from collectstatic's compressed, content-hashed copies
# (development and tests use the plain storage, so they never need collectstatic).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Logging: one line per event on stderr, readable in development, JSON (with the request id) in production
# or with LOG_FORMAT=json. Every handler masks tokens, secrets and phone numbers (acoustic/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    _config_errors.append(f"LOG_FORMAT is malformed: expected plain or json, got {LOG_FORMAT!r}")
    LOG_FORMAT = "plain"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "acoustic.logging.RequestIdFilter"},
        "redact": {"()": "acoustic.logging.RedactFilter"},
        "every_second_task": {"()": "acoustic.logging.EverySecondTaskFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "acoustic.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give these their own handlers (unmasked, and runserver's lines carry query strings);
        # emptied here, their records reach the one masked handler on root instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # urllib3 logs full URLs at DEBUG, and a contact search carries a phone number in its query string.
        "urllib3": {"level": "INFO"},
        # django-axes announces itself at INFO in every process, management commands included; its warnings still show.
        "axes.apps": {"level": "WARNING"},
        # Beat says "Sending due task" at INFO for every run (every second); its warnings and errors still show.
        "celery.beat": {"level": "WARNING"},
        # A worker says "received" and "succeeded" at INFO for each task: not for the lead dispatch (every second).
        "celery.worker.strategy": {"filters": ["every_second_task"]},
        "celery.app.trace": {"filters": ["every_second_task"]},
    },
}
# Celery workers keep this configuration instead of installing their own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if _config_errors:
    sys.exit("Configuration error: " + "\nConfiguration error: ".join(_config_errors))
