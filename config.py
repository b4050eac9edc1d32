"""Settings for CoopMatch, read from the environment: the only module that reads os.environ.

With nothing set, CoopMatch runs on the embedded default: a SQLite file in the instance
folder, Celery tasks in-process, rate limits in memory and mail written to files.
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and a Redis broker; `COOPMATCH_ENV=production`
makes the app refuse to start without a long SECRET_KEY, on SQLite or without Redis. With no
SECRET_KEY outside production, a random key is made on first start and kept in the instance
folder (`secret_key`, readable by its owner only): no deployment ever signs with a public key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# Only for Settings built in code (tests, benchmarks); from_env never uses it.
DEV_SECRET_KEY = "dev-only-not-secret"
ENVIRONMENTS = ("development", "production")
SECRET_KEY_FILE = "secret_key"
DEFAULT_TIMEZONE = "America/Bogota"
DEFAULT_PER_PAGE = 20
DEFAULT_MAX_PER_PAGE = 100
DEFAULT_MAX_CONTENT_LENGTH = 2 * 1024 * 1024
DEFAULT_DOCUMENT_MAX_MB = 20
DOCUMENT_DIR_NAME = "documents"
DEFAULT_USD_RATES = {"USD": 1.0, "EUR": 1.08, "COP": 0.00025}
DEFAULT_REMINDER_DAYS = (14, 3)
PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
FEED_KEY_PREFIX = "COOPMATCH_FEED_KEY_"


class ConfigError(Exception):
    """Raised when the environment describes a configuration that must not run."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _days(value: str | None) -> tuple[int, ...]:
    """Parse `14,3` into days before a deadline, largest first."""
    if value is None or not value.strip():
        return DEFAULT_REMINDER_DAYS
    try:
        days = {int(part) for part in value.split(",") if part.strip()}
    except ValueError as exc:
        raise ConfigError(f"cannot read {value!r}: expected days like 14,3") from exc
    if not days or min(days) < 0 or max(days) > 365:
        raise ConfigError(f"cannot read {value!r}: give days between 0 and 365, like 14,3")
    return tuple(sorted(days, reverse=True))


def _float_map(value: str | None) -> dict[str, float]:
    """Parse `A=1.0,B=2` into a mapping."""
    out: dict[str, float] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        key, _, number = part.partition("=")
        try:
            out[key.strip()] = float(number)
        except ValueError as exc:
            raise ConfigError(f"cannot read {part!r}: expected NAME=NUMBER") from exc
    return out


@dataclass(frozen=True)
class Settings:
    """Everything CoopMatch reads from its environment, read once."""

    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    instance_path: Path = DEFAULT_INSTANCE_PATH
    database_url: str = ""
    redis_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    per_page: int = DEFAULT_PER_PAGE
    max_per_page: int = DEFAULT_MAX_PER_PAGE
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    match_weights: dict[str, float] = field(default_factory=dict)
    match_min_score: float = 0.2
    match_top_k: int = 20
    usd_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_USD_RATES))
    rebuild_hour: int = 2
    expire_hour: int = 1
    digest_weekday: int = 1
    digest_hour: int = 7
    digest_max_items: int = 20
    digest_retry_delay: int = 60  # seconds before a failed digest is retried; doubles each time
    search_interval: int = 300  # seconds between runs of saved-search emails ("immediate")
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS  # days before a deadline, to remind
    reminder_hour: int = 7  # local hour of the daily reminder run
    retrain_weekday: int = 0  # the weekly retrain of the learned ranker: 0 = Sunday ... 6
    retrain_hour: int = 3  # its local hour (after the nightly rebuild)
    mail_server: str | None = None
    mail_port: int = 587
    mail_starttls: bool = True
    mail_username: str | None = None
    mail_password: str | None = None
    mail_sender: str = "CoopMatch <noreply@coopmatch.invalid>"
    base_url: str = "http://127.0.0.1:5000"
    rebuild_chunk: int = 200
    index_dir: Path | None = None  # fitted indexes every worker reads (default instance/index)
    refit_drift: float = 0.10  # share of items new or changed since the fit that asks a refit
    lock_ttl: int = 300
    visibility_timeout: int = 3600
    task_max_retries: int = 5
    proxy_hops: int = 0  # reverse proxies in front that set X-Forwarded-For / -Proto
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_limit_ip: str = "20 per minute;200 per day"
    login_limit_account: str = "5 per 15 minutes"  # failures per (address, account)
    login_limit_account_total: str = "100 per hour"  # failures per account from anywhere
    document_dir: Path | None = None  # call documents by content hash; None: instance/documents
    document_max_mb: int = DEFAULT_DOCUMENT_MAX_MB  # per attached document
    # The agency as IATI names it (export-iati's reporting organisation) and its country
    # (where an ally's activities are "active here").
    iati_org_id: str = "XX-COOPMATCH"
    agency_name: str = "CoopMatch cooperation agency"
    agency_country: str = "CO"
    # Feeds' API keys: every COOPMATCH_FEED_KEY_* variable; a feed names the one it uses.
    feed_keys: dict[str, str] = field(default_factory=dict, repr=False)
    feed_backoff: float = 2.0  # seconds before a feed's first retry; doubles each retry
    feed_lease_minutes: int = 60  # a run holding a feed longer than this is taken over

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def eager_tasks(self) -> bool:
        """Run Celery tasks in-process when there is no broker (the embedded default)."""
        return not self.redis_url

    @property
    def broker_url(self) -> str:
        return self.redis_url or "memory://"

    @property
    def result_backend(self) -> str | None:
        return self.redis_url

    @property
    def ratelimit_storage_uri(self) -> str:
        return self.redis_url or "memory://"

    @property
    def index_path(self) -> Path:
        """Where fitted indexes are saved, one directory per version."""
        return self.index_dir or self.instance_path / "index"

    @property
    def mail_dir(self) -> Path:
        return self.instance_path / "mail"

    @property
    def documents_path(self) -> Path:
        return self.document_dir or self.instance_path / DOCUMENT_DIR_NAME

    @property
    def document_max_bytes(self) -> int:
        return self.document_max_mb * 1024 * 1024

    def check(self) -> None:
        """Refuse a configuration that would be unsafe to run."""
        if self.document_max_mb <= 0:
            raise ConfigError("COOPMATCH_DOCUMENT_MAX_MB must be a positive number of megabytes")
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"unknown environment {self.env!r}: use development or production")
        if not self.refit_drift > 0:
            raise ConfigError("COOPMATCH_REFIT_DRIFT must be a share above 0 (0.1 is 10%)")
        if self.session_idle_minutes <= 0 or self.session_max_hours <= 0:
            raise ConfigError("session lifetimes must be positive numbers of minutes and hours")
        if not self.production:
            return
        if not self.secret_key or self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 16:
            raise ConfigError(
                "SECRET_KEY is missing or the development default: set SECRET_KEY to a long "
                "random value (at least 16 characters) to run in production"
            )
        if self.database_url.startswith("sqlite"):
            raise ConfigError("DATABASE_URL points to SQLite: production needs PostgreSQL")
        if not self.redis_url:
            raise ConfigError("REDIS_URL is missing: production needs a Redis broker")


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def instance_secret_key(instance: Path) -> str:
    """The embedded default's secret: made at random on first start, kept in the instance folder
    with owner-only permissions, and read back on later starts (web and worker share it)."""
    path = instance / SECRET_KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(handle, "w", encoding="ascii") as stream:
        stream.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (os.environ when none are given)."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("COOPMATCH_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)
    environment = env.get("COOPMATCH_ENV", "development")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"COOPMATCH_ENV={environment!r} is not known: set it to 'development' or 'production'"
        )
    secret_key = env.get("SECRET_KEY", "")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'coopmatch.sqlite3'}"
    rates = dict(DEFAULT_USD_RATES)
    rates.update(_float_map(env.get("COOPMATCH_USD_RATES")))
    try:
        settings = Settings(
            env=environment,
            secret_key=secret_key,
            instance_path=instance,
            database_url=_normalise_db_url(database_url),
            redis_url=env.get("REDIS_URL") or None,
            timezone=env.get("COOPMATCH_TIMEZONE", DEFAULT_TIMEZONE),
            per_page=int(env.get("COOPMATCH_PER_PAGE", DEFAULT_PER_PAGE)),
            max_per_page=int(env.get("COOPMATCH_MAX_PER_PAGE", DEFAULT_MAX_PER_PAGE)),
            max_content_length=int(
                env.get("COOPMATCH_MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
            ),
            match_weights=_float_map(env.get("COOPMATCH_MATCH_WEIGHTS")),
            match_min_score=float(env.get("COOPMATCH_MATCH_MIN_SCORE", 0.2)),
            match_top_k=int(env.get("COOPMATCH_MATCH_TOP_K", 20)),
            usd_rates=rates,
            rebuild_hour=int(env.get("COOPMATCH_REBUILD_HOUR", 2)),
            expire_hour=int(env.get("COOPMATCH_EXPIRE_HOUR", 1)),
            digest_weekday=int(env.get("COOPMATCH_DIGEST_WEEKDAY", 1)),
            digest_hour=int(env.get("COOPMATCH_DIGEST_HOUR", 7)),
            digest_max_items=int(env.get("COOPMATCH_DIGEST_MAX_ITEMS", 20)),
            digest_retry_delay=int(
                env.get("COOPMATCH_DIGEST_RETRY_DELAY", Settings.digest_retry_delay)
            ),
            search_interval=int(env.get("COOPMATCH_SEARCH_INTERVAL", Settings.search_interval)),
            reminder_days=_days(env.get("COOPMATCH_REMINDER_DAYS")),
            reminder_hour=int(env.get("COOPMATCH_REMINDER_HOUR", Settings.reminder_hour)),
            retrain_weekday=int(env.get("COOPMATCH_RETRAIN_WEEKDAY", Settings.retrain_weekday)),
            retrain_hour=int(env.get("COOPMATCH_RETRAIN_HOUR", Settings.retrain_hour)),
            mail_server=env.get("COOPMATCH_MAIL_SERVER") or None,
            mail_port=int(env.get("COOPMATCH_MAIL_PORT", 587)),
            mail_starttls=_bool(env.get("COOPMATCH_MAIL_STARTTLS"), True),
            mail_username=env.get("COOPMATCH_MAIL_USERNAME") or None,
            mail_password=env.get("COOPMATCH_MAIL_PASSWORD") or None,
            mail_sender=env.get("COOPMATCH_MAIL_SENDER", Settings.mail_sender),
            base_url=env.get("COOPMATCH_BASE_URL", Settings.base_url).rstrip("/"),
            rebuild_chunk=int(env.get("COOPMATCH_REBUILD_CHUNK", Settings.rebuild_chunk)),
            index_dir=Path(env["COOPMATCH_INDEX_DIR"]) if env.get("COOPMATCH_INDEX_DIR") else None,
            refit_drift=float(env.get("COOPMATCH_REFIT_DRIFT", Settings.refit_drift)),
            lock_ttl=int(env.get("COOPMATCH_LOCK_TTL", Settings.lock_ttl)),
            visibility_timeout=int(
                env.get("COOPMATCH_VISIBILITY_TIMEOUT", Settings.visibility_timeout)
            ),
            task_max_retries=int(env.get("COOPMATCH_TASK_MAX_RETRIES", Settings.task_max_retries)),
            proxy_hops=int(env.get("COOPMATCH_PROXY_HOPS", Settings.proxy_hops)),
            session_idle_minutes=int(
                env.get("COOPMATCH_SESSION_IDLE_MINUTES", Settings.session_idle_minutes)
            ),
            session_max_hours=int(
                env.get("COOPMATCH_SESSION_MAX_HOURS", Settings.session_max_hours)
            ),
            login_limit_ip=env.get("COOPMATCH_LOGIN_LIMIT_IP", Settings.login_limit_ip),
            login_limit_account=env.get(
                "COOPMATCH_LOGIN_LIMIT_ACCOUNT", Settings.login_limit_account
            ),
            login_limit_account_total=env.get(
                "COOPMATCH_LOGIN_LIMIT_ACCOUNT_TOTAL", Settings.login_limit_account_total
            ),
            document_dir=Path(env["COOPMATCH_DOCUMENT_DIR"])
            if env.get("COOPMATCH_DOCUMENT_DIR")
            else None,
            document_max_mb=int(env.get("COOPMATCH_DOCUMENT_MAX_MB", DEFAULT_DOCUMENT_MAX_MB)),
            iati_org_id=env.get("COOPMATCH_IATI_ORG_ID", Settings.iati_org_id),
            agency_name=env.get("COOPMATCH_AGENCY_NAME", Settings.agency_name),
            agency_country=env.get("COOPMATCH_AGENCY_COUNTRY", Settings.agency_country).upper(),
            feed_backoff=float(env.get("COOPMATCH_FEED_BACKOFF", Settings.feed_backoff)),
            feed_lease_minutes=int(
                env.get("COOPMATCH_FEED_LEASE_MINUTES", Settings.feed_lease_minutes)
            ),
            feed_keys={k: v for k, v in env.items() if k.startswith(FEED_KEY_PREFIX) and v},
        )
    except ValueError as exc:
        raise ConfigError(f"a numeric setting cannot be read: {exc}") from exc
    if not settings.secret_key and not settings.production:
        settings = replace(settings, secret_key=instance_secret_key(instance))
    return settings
