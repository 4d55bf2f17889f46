"""One settings module; everything that differs between machines comes from the environment.

Development (the default): SQLite in var/, eager Celery, secrets generated into var/ on first run.
Production: DJANGO_ENV=production, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL required.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Exactly two environments. Anything else (a typo such as "prod", "Production", an empty value) stops the start-up
# instead of quietly meaning development, which would turn DEBUG on and generate secrets on a live server.
DJANGO_ENVS = ("development", "production")
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in DJANGO_ENVS:
    raise ImproperlyConfigured(f"DJANGO_ENV must be one of {', '.join(DJANGO_ENVS)}, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret(name: str) -> str:
    """A secret kept in var/ (never committed), created on first use. Development only."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DEBUG = False
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret("secret_key")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
    DEBUG = env.bool("DEBUG", default=True)
# Rotating SECRET_KEY: the previous value stays here until the sessions it signed have expired (README, Operations).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The footer's site identification: who runs the platform, where to write, and the ICP filing number once granted.
SITE_OWNER = env.str("SITE_OWNER", default="吉林省人力资源和社会保障厅")
SITE_CONTACT_EMAIL = env.str("SITE_CONTACT_EMAIL", default="service@skills.example.gov.cn")
SITE_ICP = env.str("SITE_ICP", default="")

# --- Real-name sign-in (OpenID Connect), README "实名登录 / Real-name sign-in" ---------------------------------
# The local provider (devidp, at /dev-idp/) stands in for a government identity provider in development, the demo
# and the tests. It signs ID tokens for whoever is in its own table of citizens, so it must never run in
# production: DJANGO_ENV=production refuses to start with it enabled, and it is neither installed nor mounted.
DEV_IDP_ENABLED = env.bool("DEV_IDP_ENABLED", default=not PRODUCTION)
if PRODUCTION and DEV_IDP_ENABLED:
    raise ImproperlyConfigured("DEV_IDP_ENABLED: the local identity provider is for development only")
DEV_IDP_ISSUER = env.str("DEV_IDP_ISSUER", default=f"{SITE_URL}/dev-idp").rstrip("/")
DEV_IDP_REDIRECT_URIS = env.list(
    "DEV_IDP_REDIRECT_URIS",
    default=[
        f"{SITE_URL}/accounts/oidc/callback/",
        f"{SITE_URL.replace('127.0.0.1', 'localhost')}/accounts/oidc/callback/",
    ],
)
# The provider the platform trusts: its issuer (discovery at {issuer}/.well-known/openid-configuration unless
# OIDC_DISCOVERY_URL says otherwise; single endpoints may be set for a provider without discovery), and the client
# the platform is registered as. Unset outside development: no real-name sign-in until an operator configures one.
OIDC_ISSUER = env.str("OIDC_ISSUER", default=DEV_IDP_ISSUER if DEV_IDP_ENABLED else "").rstrip("/")
OIDC_DISCOVERY_URL = env.str("OIDC_DISCOVERY_URL", default="")
OIDC_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default="")
OIDC_USERINFO_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default="")
OIDC_JWKS_URI = env.str("OIDC_JWKS_URI", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="" if PRODUCTION else "skillcert-platform")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
if not OIDC_CLIENT_SECRET and not PRODUCTION:
    OIDC_CLIENT_SECRET = _dev_secret("oidc_client_secret")
OIDC_TOKEN_AUTH_METHOD = env.str("OIDC_TOKEN_AUTH_METHOD", default="client_secret_basic")  # or client_secret_post
OIDC_REDIRECT_URI = env.str("OIDC_REDIRECT_URI", default="")  # default: this site's /accounts/oidc/callback/
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid profile")
OIDC_SIGNING_ALGS = env.list("OIDC_SIGNING_ALGS", default=["RS256"])  # ID token algorithms accepted, nothing else
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)  # seconds, for each call to the provider
OIDC_LEEWAY = env.int("OIDC_LEEWAY", default=60)  # seconds of clock skew allowed on exp/iat
OIDC_PROVIDER_LABEL = env.str("OIDC_PROVIDER_LABEL", default="统一身份认证")
# Which claims carry what the provider vouches for, and what its values mean.
OIDC_CLAIM_NAME = env.str("OIDC_CLAIM_NAME", default="name")
OIDC_CLAIM_ID_TYPE = env.str("OIDC_CLAIM_ID_TYPE", default="id_type")
OIDC_CLAIM_ID_NUMBER = env.str("OIDC_CLAIM_ID_NUMBER", default="id_number")
OIDC_CLAIM_ASSURANCE = env.str("OIDC_CLAIM_ASSURANCE", default="acr")
OIDC_DEFAULT_ID_TYPE = env.str("OIDC_DEFAULT_ID_TYPE", default="ric")  # when the provider sends no ID type
OIDC_ID_TYPE_MAP = env.dict("OIDC_ID_TYPE_MAP", default={})  # provider value=platform code, e.g. "01=ric,03=passport"
# Assurance levels from lowest to highest; binding needs at least OIDC_MIN_ASSURANCE. L2 (a name and an ID number
# matched against the population register) proves only what is printed on a certificate, so the default is L3
# (a live face check against the ID photo).
OIDC_ASSURANCE_LEVELS = env.list("OIDC_ASSURANCE_LEVELS", default=["L1", "L2", "L3", "L4"])
OIDC_MIN_ASSURANCE = env.str("OIDC_MIN_ASSURANCE", default="L3")
if OIDC_MIN_ASSURANCE not in OIDC_ASSURANCE_LEVELS:
    raise ImproperlyConfigured("OIDC_MIN_ASSURANCE must be one of OIDC_ASSURANCE_LEVELS")


def _origin(url: str) -> str:
    parts = url.split("/", 3)
    return "/".join(parts[:3]) if len(parts) >= 3 and parts[0] in ("http:", "https:") else ""


# The sign-in button's POST is answered with a redirect to the provider, and a Content-Security-Policy's form-action
# covers redirects: the provider's origin must be allowed (config.middleware). Add an authorization endpoint that
# discovery puts on another host with OIDC_FORM_ACTION_ORIGINS.
CSP_FORM_ACTION_SOURCES = sorted(
    {
        origin
        for origin in map(
            _origin, [OIDC_ISSUER, OIDC_AUTHORIZATION_ENDPOINT, *env.list("OIDC_FORM_ACTION_ORIGINS", default=[])]
        )
        if origin and origin != _origin(SITE_URL)
    }
)
if PRODUCTION and OIDC_ISSUER:
    if not OIDC_ISSUER.startswith("https://"):
        raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL in production")
    if not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
        raise ImproperlyConfigured("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required with OIDC_ISSUER")
# Ed25519 keys that sign certificate tokens and credentials; see certificates/signing.py.
SIGNING_KEYS_DIR = Path(env.str("SIGNING_KEYS_DIR", default=str(VAR_DIR / "keys")))
SIGNING_KEYS_GENERATE = env.bool("SIGNING_KEYS_GENERATE", default=not PRODUCTION)
# The key and certificate chain that sign certificate PDFs (certificates/docsign.py); empty: {SIGNING_KEYS_DIR}/documents.
DOCUMENT_SIGNING_DIR = env.str("DOCUMENT_SIGNING_DIR", default="")
# Credential status lists (certificates/status_index.py): the capacity in bits of each list opened from now on (lists
# already open keep theirs; at least 131,072 for herd privacy, as W3C Bitstring Status List recommends) and the share
# of it filled before the next list opens (drawing a free random position stays cheap below about half).
STATUS_LIST_CAPACITY = env.int("STATUS_LIST_CAPACITY", default=2**22)
STATUS_LIST_FILL = env.float("STATUS_LIST_FILL", default=0.5)
if not 0 < STATUS_LIST_FILL <= 0.9:
    raise ImproperlyConfigured("STATUS_LIST_FILL must be above 0 and at most 0.9")
# 证照类型代码 of each kind of certificate in e-certificate identifiers (certificates/ecert.py, GB/T 36904): the
# national catalogue of e-certificate types assigns them; the defaults only mark development identifiers as such.
ECERT_TYPE_CODES = {
    "skill_level": env.str("ECERT_TYPE_CODE_SKILL_LEVEL", default="DEVJNDJ001"),
    "qualification": env.str("ECERT_TYPE_CODE_QUALIFICATION", default="DEVZYZG001"),
}

INSTALLED_APPS = [
    # Django's admin on the platform's own site: the site's login (throttled, second factor) and an audit entry
    # for every change made through it (core/admin_site.py).
    "core.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # the API docs from ninja's bundled Swagger UI files (static), not its CDN template
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "accounts",
    "occupations",
    "accreditation",
    "assessments",
    "certificates",
    "certificates.national",
    "certificates.webhooks",
    "certificates.sharing",
    "subsidies",
    "oversight",
]
if DEV_IDP_ENABLED:
    INSTALLED_APPS.append("devidp")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestIdMiddleware",
    "config.middleware.RequestLineLimitMiddleware",
    "config.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.RejectControlCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.PlatformErrorPageMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

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
                "accounts.context_processors.roles",
                "accounts.context_processors.sign_in_options",
                "config.navigation.navigation",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # The flagged-position index's INCLUDE columns (certificates.Certificate) are PostgreSQL's; SQLite (make run)
    # indexes the key columns only, which is all it needs for its size.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A primary that does not answer fails a connection in seconds, not the operating system's minutes: a worker
    # (and the balancer's health check, 2 s) is not held by it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# A streaming replica for public reads (core/db_routing.py, README "Operations"): public verification, the directory
# and the public lists read from it when it has replayed every certificate change; everything else from the primary.
# Every process of such a deployment (web nodes and workers) sets it, so that each change records its position.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"].update(
        ATOMIC_REQUESTS=False,
        CONN_MAX_AGE=DATABASES["default"].get("CONN_MAX_AGE", 0),
        CONN_HEALTH_CHECKS=True,
        TEST={"MIRROR": "default"},
    )
    # A replica that does not answer is skipped quickly (reads fall back to the primary).
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASE_ROUTERS = ["core.db_routing.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("config.middleware.RequestIdMiddleware") + 1, "core.db_routing.PublicReadsMiddleware"
    )
# Where the primary's position after the last certificate change is kept for every node (core/db_routing.py).
DATABASE_REPLICA_FENCE_REDIS_URL = env.str(
    "DATABASE_REPLICA_FENCE_REDIS_URL",
    default=env.str("VERIFICATION_LOG_REDIS_URL", default="") or env.str("CELERY_BROKER_URL", default=""),
)
if DATABASE_REPLICA_URL and not DATABASE_REPLICA_FENCE_REDIS_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URL needs Redis (DATABASE_REPLICA_FENCE_REDIS_URL) for the fence")
REPLICA_LSN_CACHE_SECONDS = env.float("REPLICA_LSN_CACHE_SECONDS", default=0.05)
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=5.0)  # after the replica failed to answer
PUBLIC_READ_PATHS = [
    r"/v/",  # a certificate's QR code
    r"/s/",  # a shared copy's QR code
    r"/verify/",
    r"/api/v1/verify/",
    r"/api/v1/shared-copies/verify/",
    r"/directory/",
    r"/api/v1/directory/",
    r"/api/v1/credentials/status/",
    r"/api/v1/oversight/public/",
]
# PgBouncer (or another pooler) in transaction mode: a server connection serves another client after every
# transaction, so no server-side cursors and no prepared statements that outlive one (README "Operations").
DATABASE_TRANSACTION_POOLING = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
if DATABASE_TRANSACTION_POOLING:
    for _db in DATABASES.values():
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
        if _db.get("OPTIONS", {}).get("prepare_threshold") is not None:
            raise ImproperlyConfigured("prepare_threshold must stay unset behind a transaction-mode pooler")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
FORMAT_MODULE_PATH = ["config.formats"]  # one date format: Y-m-d, Y-m-d H:i (core/templatetags/ui.py)
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The longest path + query string the platform reads (config.middleware.RequestLineLimitMiddleware); gunicorn's own
# limit (gunicorn.conf.py) is larger, so a client gets the platform's 414, not the server's page.
MAX_REQUEST_TARGET_BYTES = 4096
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@skillcert.local")

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
# Where tasks go when nothing routes them: two deployments sharing one broker keep apart by naming their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ACKS_LATE = True
# An unacknowledged task (its worker was killed) comes back after this long; Redis's default is an hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "audit-verify-nightly": {"task": "core.audit_verify", "schedule": crontab(hour=2, minute=30)},
    "filings-expire-and-remind": {"task": "accreditation.expire_and_remind", "schedule": crontab(hour=0, minute=20)},
    "verification-log-flush": {"task": "certificates.flush_verification_log", "schedule": 10.0},
    "subsidies-remind-overdue": {"task": "subsidies.remind_overdue", "schedule": crontab(hour=8, minute=30)},
    "subsidies-warn-policy-lapse": {"task": "subsidies.warn_policy_lapse", "schedule": crontab(hour=8, minute=35)},
    "oversight-overdue-notify": {"task": "oversight.overdue_notify", "schedule": crontab(hour=7, minute=30)},
    "certificates-issue-graduates": {
        "task": "certificates.issue_graduates_due",
        "schedule": crontab(hour=6, minute=10),
    },
    "oversight-comeback-scan": {"task": "oversight.comeback_scan", "schedule": crontab(hour=3, minute=10)},
    "national-send-due": {"task": "national.send_due", "schedule": 60.0},
    "national-release-held": {"task": "national.release_held", "schedule": crontab(hour=5, minute=40)},
    "webhooks-deliver-due": {"task": "webhooks.deliver_due", "schedule": 60.0},
    # Exam evidence past its region's retention period (assessments/evidence): files destroyed, tombstones kept.
    "assessments-evidence-purge": {
        "task": "assessments.evidence_purge_expired",
        "schedule": crontab(hour=3, minute=40),
    },
    # Result and employment reviews waiting for a bureau (assessments/review/waiting.py): one digest per bureau a day.
    "assessments-bureau-waiting": {
        "task": "assessments.bureau_waiting_notify",
        "schedule": crontab(hour=8, minute=40),
    },
    "exports-purge": {"task": "core.exports_purge", "schedule": crontab(minute=15)},
    "dashboard-daily-counts": {"task": "oversight.daily_counts_refresh", "schedule": 300.0},
    # Status lists' counts made good if a process died between an issuance's commit and its count.
    "certificates-status-lists-recount": {"task": "certificates.status_lists_recount", "schedule": crontab(minute=50)},
    "verification-log-partitions": {
        "task": "certificates.verification_log_partitions",
        "schedule": crontab(hour=1, minute=10),
    },
}
# Webhooks to organisations' systems (certificates/webhooks/): SSRF rules in certificates/webhooks/net.py.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])  # exempt from the private-address check
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)  # then the delivery is given up (it can be replayed)
WEBHOOK_RETRY_BASE = env.int("WEBHOOK_RETRY_BASE", default=30)  # seconds; doubles per failed attempt
WEBHOOK_RETRY_MAX = env.int("WEBHOOK_RETRY_MAX", default=6 * 3600)
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=20)  # consecutive failed attempts
SHARED_COPY_MAX_DAYS = env.int("SHARED_COPY_MAX_DAYS", default=180)  # the longest a 加注件 may be valid
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)  # old secret still signs
# 数据上报 (certificates/national/): the national/provincial database's endpoint (README "National reporting").
# Unset: records wait in the outbox and the reporting pages say the endpoint is not configured.
NATIONAL_REPORT_URL = env.str("NATIONAL_REPORT_URL", default="")
NATIONAL_REPORT_TOKEN = env.str("NATIONAL_REPORT_TOKEN", default="")
NATIONAL_REPORT_ADAPTER = env.str("NATIONAL_REPORT_ADAPTER", default="")  # a dotted path, for another wire format
NATIONAL_REPORT_TIMEOUT = env.float("NATIONAL_REPORT_TIMEOUT", default=10.0)
NATIONAL_REPORT_RETRY_BASE = env.int("NATIONAL_REPORT_RETRY_BASE", default=60)  # seconds; doubles per failure
NATIONAL_REPORT_RETRY_MAX = env.int("NATIONAL_REPORT_RETRY_MAX", default=6 * 3600)
# Level digits the national number rule defines; records of other levels (学徒工 6, 特级技师 7, 首席技师 8 here) are
# held with a visible reason until the ministry or the province says how they are reported.
NATIONAL_REPORT_LEVEL_DIGITS = env.list("NATIONAL_REPORT_LEVEL_DIGITS", default=["1", "2", "3", "4", "5"])
# Exports (core/exports.py): a report of more rows than this is built by a worker into a file (202 + its URL);
# smaller ones are still answered in the request, as before.
EXPORT_SYNC_MAX_ROWS = env.int("EXPORT_SYNC_MAX_ROWS", default=10_000)
# Dashboards read complete days from pre-aggregated daily counts (oversight/aggregates.py), refreshed by beat; on in a
# deployment with a worker and beat (deploy/), off by default so that `make run` counts live as before.
DASHBOARD_PREAGGREGATED = env.bool("DASHBOARD_PREAGGREGATED", default=False)
# Months of the verification log past their retention (core RetentionPeriod) are archived here as gzip CSV files
# before they leave the database (certificates/log_partitions.py): persistent storage, backed up with the database.
VERIFICATION_LOG_ARCHIVE_DIR = Path(
    env.str("VERIFICATION_LOG_ARCHIVE_DIR", default=str(VAR_DIR / "archive" / "verification-log"))
)
# Verifications are logged through a Redis list when this is set (see certificates/verification_log.py).
VERIFICATION_LOG_REDIS_URL = env.str("VERIFICATION_LOG_REDIS_URL", default="")
# With that Redis: repeat scans answered from memory, kept fresh by a change feed (certificates/verification_cache.py).
VERIFICATION_CACHE_SIZE = env.int("VERIFICATION_CACHE_SIZE", default=10_000)  # per web process (~5 KB each); 0: off
VERIFICATION_CACHE_TTL = env.float("VERIFICATION_CACHE_TTL", default=60.0)  # seconds, for changes the feed missed
VERIFICATION_FEED_POLL_SECONDS = env.float("VERIFICATION_FEED_POLL_SECONDS", default=0.5)
VERIFICATION_LOG_BUFFERED = env.bool("VERIFICATION_LOG_BUFFERED", default=True)
# The scan query as a PostgreSQL prepared statement; turn off behind a connection pooler in transaction mode.
VERIFICATION_PREPARED_STATEMENTS = env.bool(
    "VERIFICATION_PREPARED_STATEMENTS", default=not DATABASE_TRANSACTION_POOLING
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"}},
    "filters": {"request_id": {"()": "config.middleware.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint.progress": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# Security headers everywhere; HTTPS-only settings in production (they pass `check --deploy`).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# Second factor (accounts/second_factor.py). django-otp's own per-device back-off is off: the account-wide limit
# above (RATE_LIMITS["second_factor"]) covers the authenticator and the recovery codes under one allowance and
# tells the user how long to wait, where django-otp's would refuse even the right code silently.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="职业技能等级认定平台")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
PASSWORD_RESET_TIMEOUT = 3600  # an e-mailed reset link works for one hour

NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 200
NINJA_PAGINATION_CLASS = "core.pagination.BoundedLimitOffsetPagination"

# Rate limits: (how many, per how many seconds), sliding windows in the cache (core/ratelimit.py).
RATE_LIMITS = {
    # Failed sign-ins only (successes never count): per account, and per client address generously enough that
    # an office behind one address is not locked out by a few mistyped passwords.
    "login_account": (5, 900),
    "login_address": (50, 900),
    # Wrong second-factor codes, per account.
    "second_factor": (5, 300),
    "password_reset": (5, 3600),
    # Public lookups that reveal personal data, per client address.
    "verify_lookup": (10, 60),
    # Anonymous reports per client address: accepted reports, and separately wrong answers to the arithmetic
    # question (failures); a form sent back because a field is missing counts against neither.
    "public_report": (5, 3600),
    "public_report_failures": (10, 3600),
    # Worker sign-up: an exam site's Wi-Fi is one address for a room of candidates, so not too few.
    "signup": (20, 3600),
    # Starting a sign-in through the identity provider (each start is a call to the provider).
    "oidc": (60, 300),
    # Wrong binding codes (failures only), per account and per person named: a code has 2**59 values, so a few
    # tries an hour leave guessing hopeless while a person who mistypes can still finish the same day.
    "binding_code_account": (5, 3600),
    "binding_code_person": (10, 3600),
    # ... and per client address, so one machine cannot spread its guesses over many fresh accounts. An exam site's
    # or a bureau hall's Wi-Fi is one address for many people, so more than one person's allowance.
    "binding_code_address": (20, 3600),
}

# Binding codes (accounts/binding_codes.py): how long a code lives, and how many wrong tries retire it.
BINDING_CODE_DAYS = env.int("BINDING_CODE_DAYS", default=30)
BINDING_CODE_MAX_FAILURES = 5
# Invitations to staff roles (accounts/invitations.py): how long a link stays open.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=14)
