"""Django settings for Minbar, derived from the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from minbar import config as minbar_config
from minbar.taskqueue import build_queue

try:
    MINBAR = minbar_config.load()
except minbar_config.ConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

TESTING = "pytest" in sys.modules or MINBAR.env == "test"
BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = MINBAR.data_dir

SECRET_KEY = MINBAR.secret_key
DEBUG = MINBAR.debug
ALLOWED_HOSTS = MINBAR.allowed_hosts
CSRF_TRUSTED_ORIGINS = MINBAR.csrf_trusted_origins
MINBAR_BASE_URL = MINBAR.base_url
MINBAR_PORT = MINBAR.port
MINBAR_ENV = MINBAR.env
MINBAR_QUEUE_URL = MINBAR.queue_url
# Publishing threads per dispatcher pass (minbar.publishing.pipeline).
MINBAR_PUBLISH_THREADS = MINBAR.publish_threads
MINBAR_DATABASE_URL = MINBAR.database_url
# MINBAR_<NETWORK>_CLIENT_ID/_CLIENT_SECRET/_API_URL (minbar.connectors.apps).
MINBAR_NETWORK_APPS = MINBAR.network_apps
MINBAR_TRUSTED_PROXIES = MINBAR.trusted_proxy_count
MINBAR_ENCRYPTION_KEYS = MINBAR.encryption_keys
# Outbound calls to loopback/private addresses (SSRF guard); tests talk to local servers.
MINBAR_ALLOW_PRIVATE_URLS = MINBAR.allow_private_urls or TESTING

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "minbar.core",
    "minbar.accounts",
    "minbar.workspaces",
    "minbar.audit",
    "minbar.notifications",
    "minbar.channels",
    "minbar.sandbox",
    "minbar.publishing",
    "minbar.media",
    "minbar.inbox",
    "minbar.webhooks",
    "minbar.links",
    "minbar.analytics",
    "minbar.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "minbar.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "minbar.urls"
WSGI_APPLICATION = "minbar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "minbar.core.context_processors.shell",
            ],
        },
    }
]

DATABASES = {"default": MINBAR.database}
_test_db_url = os.environ.get("MINBAR_TEST_DATABASE_URL", "").strip()
if TESTING and _test_db_url:
    import dj_database_url

    DATABASES = {"default": dict(dj_database_url.parse(_test_db_url))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
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
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Login throttling: failures counted over a sliding window.
MINBAR_LOGIN_WINDOW_SECONDS = 15 * 60
MINBAR_LOGIN_MAX_FAILURES_PER_USERNAME = 5
MINBAR_LOGIN_MAX_FAILURES_PER_IP = 30
MINBAR_INVITATION_DAYS = 7


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {raw!r})") from None


# Media library limits (docs/media.md); all optional.
MINBAR_MEDIA_MAX_IMAGE_BYTES = _env_int("MINBAR_MEDIA_MAX_IMAGE_BYTES", 20 * 1024 * 1024)
MINBAR_MEDIA_MAX_VIDEO_BYTES = _env_int("MINBAR_MEDIA_MAX_VIDEO_BYTES", 100 * 1024 * 1024)
MINBAR_MEDIA_MAX_IMAGE_PIXELS = _env_int("MINBAR_MEDIA_MAX_IMAGE_PIXELS", 50_000_000)
MINBAR_MEDIA_MAX_FILES_PER_UPLOAD = _env_int("MINBAR_MEDIA_MAX_FILES_PER_UPLOAD", 20)
MINBAR_MEDIA_ASPECT_FIT = os.environ.get("MINBAR_MEDIA_ASPECT_FIT", "pad")
MINBAR_FFPROBE = os.environ.get("MINBAR_FFPROBE", "")
MINBAR_FFMPEG = os.environ.get("MINBAR_FFMPEG", "")
# Dispatch: a post more than this late (after downtime) waits for a person.
MINBAR_LATE_CUTOFF_MINUTES = _env_int("MINBAR_LATE_CUTOFF_MINUTES", 30)
# Inbox (docs/inbox.md): how often each channel is read, how far back a new one goes.
MINBAR_INBOX_POLL_SECONDS = _env_int("MINBAR_INBOX_POLL_SECONDS", 60)
MINBAR_INBOX_BACKFILL_DAYS = _env_int("MINBAR_INBOX_BACKFILL_DAYS", 7)
# Analytics (docs/analytics.md): when each published post's counters are fetched.
MINBAR_ANALYTICS_SCHEDULE = os.environ.get("MINBAR_ANALYTICS_SCHEDULE", "1h,6h,24h,3d,7d,30d")

# Outgoing webhooks (docs/webhooks.md).
MINBAR_WEBHOOK_TIMEOUT = _env_int("MINBAR_WEBHOOK_TIMEOUT", 10)
MINBAR_WEBHOOK_DISABLE_AFTER_DAYS = _env_int("MINBAR_WEBHOOK_DISABLE_AFTER_DAYS", 3)
MINBAR_WEBHOOK_DISABLE_AFTER_FAILED = _env_int("MINBAR_WEBHOOK_DISABLE_AFTER_FAILED", 5)

# Short links and click recording (docs/links.md).
MINBAR_LINKS_PATH = os.environ.get("MINBAR_LINKS_PATH", "").strip().strip("/") or "l"
MINBAR_LINKS_FLUSH_SECONDS = _env_int("MINBAR_LINKS_FLUSH_MS", 1000) / 1000
MINBAR_LINKS_FLUSH_CLICKS = _env_int("MINBAR_LINKS_FLUSH_CLICKS", 500)
# Tests write buffered clicks themselves (recorder.flush) instead of a thread.
MINBAR_LINKS_BACKGROUND_FLUSH = not TESTING
# A bare redirect view at /_bench/bare-redirect for bench/links.py; never in production.
MINBAR_LINKS_BENCH_URL = os.environ.get("MINBAR_LINKS_BENCH_URL", "") == "1"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["minbar.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "minbar_language"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if TESTING or DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_NAME = "minbar_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = MINBAR.secure_cookies
CSRF_COOKIE_SECURE = MINBAR.secure_cookies
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

_mail_options: dict[str, object] = {}
if MINBAR.email.backend.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": MINBAR.email.host,
        "port": MINBAR.email.port,
        "username": MINBAR.email.user,
        "password": MINBAR.email.password,
        "use_tls": MINBAR.email.use_tls,
        "use_ssl": MINBAR.email.use_ssl,
        "timeout": 20,
    }
MAILERS = {"default": {"BACKEND": MINBAR.email.backend, "OPTIONS": _mail_options}}
if TESTING:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
DEFAULT_FROM_EMAIL = MINBAR.default_from_email
SERVER_EMAIL = MINBAR.default_from_email

HUEY = build_queue(
    "memory://" if TESTING else MINBAR.queue_url,
    immediate=TESTING,
    name=os.environ.get("MINBAR_QUEUE_NAME", "").strip() or "minbar",
)

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": MINBAR.log_level},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "huey": {"level": "WARNING" if TESTING else "INFO"},
        # httpx logs every request's full URL at INFO; OAuth token exchanges carry
        # client secrets and codes in their query strings (Meta's documented GETs).
        "httpx": {"level": "WARNING"},
    },
}
