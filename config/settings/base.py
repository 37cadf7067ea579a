"""Settings shared by every environment.

Everything lives here and reads the environment through `config.env`;
dev/test/prod only change what differs. Nothing that must hold across several
app servers (sessions, throttle counters, locks) lives in process memory: the
database holds it.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    s3_storage_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The public address of the site, printed on slips and in e-mails.
SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

INSTALLED_APPS = [
    "backoffice.apps.NationalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The form renderer reads widget templates through TEMPLATES, so that
    # templates/ can override them (forms/, admin/widgets/).
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    # Bottom to top (README "The map of the code"; lint-imports checks it).
    "core",
    "audit",
    "accounts",
    "schools",
    "permissions",
    "federation",
    "provisioning",
    "notifications",
    "etjanster",
    "portal",
    "backoffice",
    "demo",
]

MIDDLEWARE = [
    # /healthz, /readyz and /metrics answer before host validation and the
    # HTTPS redirect: balancers and Prometheus reach each server by its
    # internal address over plain HTTP (core/operations.py).
    "core.middleware.OperationsEndpointsMiddleware",
    # Outermost of the rest, so it times and logs the final answer, error pages included.
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.BadInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the language comes from the
    # path only (/en/… is English, everything else Swedish), never from the
    # browser's Accept-Language, so a Swedish path always answers in Swedish.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read in the session's statement (accounts/middleware.py).
    "accounts.middleware.AuthenticationMiddleware",
    "accounts.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.RefusedMiddleware",
    "core.middleware.NoStoreMiddleware",
    "web.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.site_notices",
                "web.context_processors.login_state",
                "core.context_processors.language_links",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
else:
    # A fresh checkout runs on SQLite; CI and production use PostgreSQL.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, reading the user of each request with one plain
# statement (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]

# Argon2id at OWASP's minimum (accounts/hashers.py says why); older hashes,
# Django's Argon2 defaults and the CSV import's PBKDF2 included, are rehashed
# with it at the user's next login.
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "home"

# Sessions live in the database so that every app server sees them.
# Django's database sessions in accounts.Session, which carries the user's id:
# session and user are read with one statement (accounts/session_store.py).
SESSION_ENGINE = "accounts.session_store"
# SECURITY: idle timeout (ASVS 7.3.1): a session row expires this long after
# its last save. accounts.middleware saves it at most once a minute while the
# user is active, so a GET is not a database write (NOTES: 6–8× the cost).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = False
# SECURITY: absolute timeout (ASVS 7.3.2): a session ends this long after its
# login however busy it is (accounts.middleware).
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 10, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# No per-process cache: anything that must hold across app servers lives in the
# database. The dummy cache makes an accidental use of `cache` visibly useless.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

LANGUAGE_CODE = "sv"
# Swedish at the public-contract paths, English under /en/ (config/urls.py:
# i18n_patterns without a prefix for the default language). Source strings
# are English; both catalogues in locale/ are complete (a test checks).
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates in the same day-month-year order as the Swedish ones.
FORMAT_MODULE_PATH = ["core.formats"]
# Every form renders through templates/forms/ (labels, required marks, help
# texts and errors with the ids that aria-describedby names).
FORM_RENDERER = "core.forms.FormRenderer"
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", "") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Where material files live: "filesystem" (MEDIA_ROOT on this server's disk,
# the default, so `make run` needs nothing but Python) or "s3" (an S3 API
# object store that every app server shares; docs/operations.md, "File storage").
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "filesystem", ("filesystem", "s3"))
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = s3_storage_from_env()

# SECURITY: material files live outside the static files and are never served
# from a public URL; only the portal's gate streams them.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# No URL pattern serves this prefix; it only has to be a distinct path.
MEDIA_URL = "/_media-is-not-served/"

# nginx is in front and carries the bytes of material files once the gate
# has decided (X-Accel-Redirect to deploy/nginx/behorighet.conf's internal
# locations, core/downloads.py). Off: this worker streams them (`make run`).
NGINX_SENDS_FILES = env_bool("NGINX_SENDS_FILES", False)

# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0 means the client address is REMOTE_ADDR, which is the only safe default.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# SECURITY: the matrix card cells are kept as HMACs under this key. It is not
# SECRET_KEY (rotating that must not invalidate every card) and not in the
# database (a database dump alone must not reveal the cards).
MATRIX_CARD_KEY = env_str("MATRIX_CARD_KEY", "") or ""

# Federated login (SAML 2.0, docs/federation.md): the service provider's
# private key and certificate (PEM files; the same pair signs requests and
# metadata and decrypts assertions). Both unset: no federated login.
SAML_SP_KEY_FILE = env_str("SAML_SP_KEY_FILE", "") or ""
SAML_SP_CERT_FILE = env_str("SAML_SP_CERT_FILE", "") or ""
if bool(SAML_SP_KEY_FILE) != bool(SAML_SP_CERT_FILE):
    raise ImproperlyConfigured("Set both SAML_SP_KEY_FILE and SAML_SP_CERT_FILE, or neither.")
for _saml_file in filter(None, (SAML_SP_KEY_FILE, SAML_SP_CERT_FILE)):
    if not Path(_saml_file).is_file():
        raise ImproperlyConfigured(f"{_saml_file} (SAML_SP_KEY_FILE/SAML_SP_CERT_FILE) is no file.")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The outbox worker waits at most this long for the mail server (then retries later).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@behorighetsportalen.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@behorighetsportalen.localhost")

OTP_TOTP_ISSUER = "Behörighetsportalen"
OTP_TOTP_THROTTLE_FACTOR = 1

# django-csp 4: the admin runs clean under script-src 'self'; style-src 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# "json": one JSON object per line (for a log collector), with one line per
# request from core.middleware.RequestLogMiddleware; "text" for people.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logs.RequestIdFilter"},
        "no_paths": {"()": "core.logs.PathRedactingFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "no_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django warns of every 4xx with its path, which may hold a username;
        # the request line already counts them. Server errors still log.
        "django.request": {"level": "ERROR"},
        # The PDF renderer logs each step of every document at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # pysaml2 logs parts of each SAML answer (name IDs, attributes) at
        # INFO, and xmlschema each schema it loads: only their warnings.
        "saml2": {"level": "WARNING"},
        "xmlschema": {"level": "WARNING"},
    },
}

# Prometheus metrics at /metrics answer only to a request with
# `Authorization: Bearer <METRICS_TOKEN>` or one coming straight (not through
# the proxy) from METRICS_ALLOWED_NETWORKS. Neither set: /metrics is a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters.")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")
# Dotted path to a function returning the number of mails waiting in the
# outbox, read at each scrape (core/metrics.py); empty: no outbox gauge.
METRICS_OUTBOX_LENGTH = "core.outbox.outbox_length"
# The same for the age in seconds of the oldest mail waiting.
METRICS_OUTBOX_OLDEST_AGE = "core.outbox.outbox_oldest_age"

# Audit events older than this many years are deleted by `manage.py
# purge_audit`, the only path that may delete them (docs/privacy.md).
AUDIT_RETENTION_YEARS = env_int("AUDIT_RETENTION_YEARS", 5, minimum=1)
# Answered and closed support tickets (name, e-mail, message, address) are
# deleted this many years after their last activity by `manage.py
# purge_tickets` (docs/privacy.md); new and in-progress ones are kept.
SUPPORT_TICKET_RETENTION_YEARS = env_int("SUPPORT_TICKET_RETENTION_YEARS", 2, minimum=1)


def require(name: str, value: object) -> None:
    """Refuse to start when a setting that production needs is empty."""
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in this environment.")


# Public-contract paths (SPEC.md); the decorators send people here.
ETJANSTER_LOGIN_URL = "/e-tjanster/logga-in/"
PORTAL_LOGIN_URL = "/bedomningsportalen/logga-in/"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# SS 12000 sources (docs/provisioning.md). SECURITY: a source's token travels
# to its address, so only https, except in development and tests, whose test
# server on this machine speaks plain http.
SS12000_ALLOW_HTTP = False
