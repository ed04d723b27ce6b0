"""rencai settings: one file, every value read from the environment through typed helpers.

Every ``RENCAI_*`` variable is documented in the README. Bad values fail loudly at start-up
instead of being silently replaced by a default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rencai.keys import load_or_create_key

PACKAGE_DIR = Path(__file__).resolve().parent
# The project checkout (src/rencai/.. /..); var/ holds the embedded database and generated keys.
BASE_DIR = Path(os.environ.get("RENCAI_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("RENCAI_VAR_DIR", BASE_DIR / "var")).resolve()


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("RENCAI_DEBUG", False)
SECRET_KEY = env_str("RENCAI_SECRET_KEY") or load_or_create_key(VAR_DIR / "secret_key", nbytes=50)
# The key that encrypts personal data at rest and keys its lookup hashes and the audit chain.
FIELD_KEY = env_str("RENCAI_FIELD_KEY") or load_or_create_key(VAR_DIR / "field_key", nbytes=32)
ALLOWED_HOSTS = env_list("RENCAI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("RENCAI_CSRF_TRUSTED_ORIGINS", [])

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("RENCAI_DATABASE_URL", f"sqlite:///{VAR_DIR / 'rencai.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("RENCAI_DB_CONN_MAX_AGE", 60, minimum=0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if _db["NAME"] == ":memory:" else _db["CONN_MAX_AGE"]
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
        # instead of failing on a stale snapshot.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
        # across a power cut. A page cache of 16 MiB per connection (SQLite's default is 2 MiB)
        # keeps more of the index pages a search walks: at a million talents a county's broad
        # search answers 2–3 ms sooner (its page and count seek tens of thousands of entries).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-16384;"
        ),
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured("RENCAI_DATABASE_URL must be a sqlite:/// or postgres:// URL")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- applications ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "ninja",
    "rencai.core",
    "rencai.talents",
    "rencai.imports",
    "rencai.liaison",
    "rencai.dashboards",
    "rencai.cooperation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rencai.core.middleware.IdleTimeoutMiddleware",
    "rencai.core.middleware.SecurityGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rencai.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "rencai.urls"
WSGI_APPLICATION = "rencai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rencai.core.context_processors.shell",
            ],
        },
    },
]

# --- accounts and security ------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = ["rencai.core.auth.backends.RoleBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "rencai.core.auth.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_MAX_AGE_DAYS = env_int("RENCAI_PASSWORD_MAX_AGE_DAYS", 90, minimum=0)  # 0 turns expiry off
LOCKOUT_ATTEMPTS = env_int("RENCAI_LOCKOUT_ATTEMPTS", 5, minimum=1)
LOCKOUT_MINUTES = env_int("RENCAI_LOCKOUT_MINUTES", 15, minimum=1)
IDLE_TIMEOUT_MINUTES = env_int("RENCAI_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
AUDIT_RETENTION_DAYS = env_int("RENCAI_AUDIT_RETENTION_DAYS", 184, minimum=184)
API_TOKEN_DEFAULT_DAYS = env_int("RENCAI_API_TOKEN_DAYS", 90, minimum=1)

SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind HTTPS (see docs/operations.md) turn these on with RENCAI_HTTPS=true.
HTTPS = env_bool("RENCAI_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS and env_bool("RENCAI_SSL_REDIRECT", True)

# --- jobs -----------------------------------------------------------------------------------
# Empty: the database is the queue (the embedded default). redis://…: workers wait on Redis.
JOB_QUEUE_URL = env_str("RENCAI_JOB_QUEUE_URL", "")
JOB_HEARTBEAT_SECONDS = env_int("RENCAI_JOB_HEARTBEAT_SECONDS", 5, minimum=1)
# Prefix of the Redis keys, so several installations (or test runs) can share one server.
JOB_QUEUE_PREFIX = env_str("RENCAI_JOB_QUEUE_PREFIX", "rencai")

# --- cache ----------------------------------------------------------------------------------
# What counts attempts: failed sign-ins of unknown names, the public registration's rate limits.
# Empty: each serving process counts in its own memory. redis://…: every process (and host)
# shares one count, so a limit holds however many processes serve.
CACHE_URL = env_str("RENCAI_CACHE_URL", "")
if not CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": JOB_QUEUE_PREFIX}}
else:
    raise ImproperlyConfigured("RENCAI_CACHE_URL must be empty or a redis:// URL")

# --- files ----------------------------------------------------------------------------------
UPLOAD_DIR = VAR_DIR / "uploads"
EXPORT_DIR = VAR_DIR / "exports"
# Agreement documents (协议文件), served only through their agreement's page.
DOCUMENT_DIR = VAR_DIR / "documents"
DOCUMENT_MAX_MB = env_int("RENCAI_DOCUMENT_MAX_MB", 20, minimum=1)
BACKUP_DIR = Path(env_str("RENCAI_BACKUP_DIR", str(VAR_DIR / "backups")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
# Imports: the largest file (MB) and the most data rows a sheet may have; larger is refused
# with a message before anything is read into memory.
IMPORT_MAX_MB = env_int("RENCAI_IMPORT_MAX_MB", 100, minimum=1)
IMPORT_MAX_ROWS = env_int("RENCAI_IMPORT_MAX_ROWS", 1_000_000, minimum=1)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("RENCAI_STATIC_ROOT", str(VAR_DIR / "static")))
NODE_MODULES = Path(env_str("RENCAI_NODE_MODULES", str(BASE_DIR / "node_modules")))
# Front-end packages installed from the npm registry at set-up, served from our own origin.
STATICFILES_DIRS = [
    ("vendor/tabler", NODE_MODULES / "@tabler" / "core" / "dist"),
    ("vendor/tabler-icons", NODE_MODULES / "@tabler" / "icons-webfont" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("RENCAI_PLAIN_STATIC", False)
            else "rencai.core.staticfiles.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- logging: no personal data, ever (see core.logging) -------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "rencai.core.logging.RedactPersonalDataFilter"}},
    "formatters": {
        "plain": {
            "()": "rencai.core.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("RENCAI_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger would print request bodies with tracebacks; keep the status line.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

DJANGO_TABLES2_TEMPLATE = "core/table.html"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- the deployment ------------------------------------------------------------------------
# The city this installation serves (GB/T 2260 code); 运城市 by default.
CITY_CODE = env_str("RENCAI_CITY_CODE", "140800")
SITE_TITLE = env_str("RENCAI_SITE_TITLE", "人才工作平台")
# The cockpit counts from in-memory columns kept equal to the database (dashboards.replica);
# off, it runs a GROUP BY per chart instead (slower by far at scale, the same figures).
COCKPIT_COLUMNS = env_bool("RENCAI_COCKPIT_COLUMNS", True)
# The address the public reaches rencai at (https://rencai.example.gov.cn): the registration QR
# code and the personal update links sent by e-mail or SMS are built on it (docs/intake.md).
PUBLIC_URL = (env_str("RENCAI_PUBLIC_URL", "") or "").rstrip("/")
if PUBLIC_URL and not PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"RENCAI_PUBLIC_URL must start with http:// or https://, got {PUBLIC_URL!r}")

# --- self-registration and personal update links (信息采集) -----------------------------------
INTAKE_LINK_MAX_AGE_DAYS = env_int("RENCAI_INTAKE_LINK_DAYS", 30, minimum=1)
# Submissions allowed per client address, and per ID-card number, within the window.
INTAKE_LIMIT_PER_IP = env_int("RENCAI_INTAKE_LIMIT_PER_IP", 10, minimum=1)
INTAKE_LIMIT_PER_ID = env_int("RENCAI_INTAKE_LIMIT_PER_ID", 3, minimum=1)
INTAKE_LIMIT_MINUTES = env_int("RENCAI_INTAKE_LIMIT_MINUTES", 60, minimum=1)
# Whom a person asks to see, correct or delete their data (named in the notice on the form).
INTAKE_CONTACT = env_str("RENCAI_INTAKE_CONTACT", "")

# --- campaigns and greetings (推送与问候, docs/campaigns.md) ----------------------------------------
# E-mail: "file" (one file per message under var/mail, the default), "console", "smtp", or a
# backend's dotted path. SMTP reads the usual host, port, account and TLS settings.
_EMAIL_BACKENDS = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = env_str("RENCAI_EMAIL_BACKEND", "file")
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
if "." not in EMAIL_BACKEND:
    raise ImproperlyConfigured(f"RENCAI_EMAIL_BACKEND must be file, console, smtp or a dotted path, got {_email_backend!r}")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("RENCAI_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("RENCAI_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("RENCAI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("RENCAI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("RENCAI_EMAIL_TLS", False)
EMAIL_USE_SSL = env_bool("RENCAI_EMAIL_SSL", False)
EMAIL_TIMEOUT = env_int("RENCAI_EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("RENCAI_EMAIL_FROM", "rencai@localhost")
# SMS and WeChat: the sender class (liaison.senders.Sender); the default keeps messages in the outbox.
CAMPAIGN_SMS_SENDER = env_str("RENCAI_SMS_SENDER", "rencai.liaison.senders.OutboxSender")
CAMPAIGN_WECHAT_SENDER = env_str("RENCAI_WECHAT_SENDER", "rencai.liaison.senders.OutboxSender")
CAMPAIGN_SEND_PER_MINUTE = env_int("RENCAI_CAMPAIGN_PER_MINUTE", 60, minimum=1)
CAMPAIGN_MAX_ATTEMPTS = env_int("RENCAI_CAMPAIGN_MAX_ATTEMPTS", 3, minimum=1)
CAMPAIGN_RETRY_SECONDS = env_int("RENCAI_CAMPAIGN_RETRY_SECONDS", 60, minimum=1)  # doubled after each failure
# How many days ahead birthdays and festivals appear on the greetings worklist and get drafts.
GREETING_DAYS_AHEAD = env_int("RENCAI_GREETING_DAYS", 7, minimum=1)

# --- province–university cooperation (省校合作) --------------------------------------------------
# Months in one scheduling period (调度): 1 monthly, 3 quarterly; a period's report is due
# COOPERATION_REPORT_GRACE_DAYS after the period ends.
COOPERATION_REPORT_MONTHS = env_int("RENCAI_COOPERATION_REPORT_MONTHS", 1, minimum=1)
if 12 % COOPERATION_REPORT_MONTHS:
    raise ImproperlyConfigured("RENCAI_COOPERATION_REPORT_MONTHS must divide 12 (1, 2, 3, 4, 6 or 12)")
COOPERATION_REPORT_GRACE_DAYS = env_int("RENCAI_COOPERATION_REPORT_GRACE_DAYS", 5, minimum=0)
# Agreements expiring within this many days are listed as reminders (到期提醒).
AGREEMENT_EXPIRY_WARNING_DAYS = env_int("RENCAI_AGREEMENT_EXPIRY_DAYS", 60, minimum=1)
