"""Runtime configuration, read once from environment variables (documented in README)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# The repository root: templates/, migrations/ and .data/ live here. In a container the image copies
# them next to each other under VOICE_ROOT, so the same relative layout holds.
PROJECT_ROOT = Path(os.environ.get("VOICE_ROOT", Path(__file__).resolve().parents[2]))
PACKAGE_ROOT = Path(__file__).resolve().parent


def env_flag(name: str, default: bool) -> bool:
    """An on/off variable: 1, true, yes or on turn it on; unset or empty keeps the default. Components'
    settings sections read their flags with it too."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder.

    A fixed key in the code would let anyone forge CSRF tokens; a fresh key per start would sign
    everybody out on every restart. Production must set SECRET_KEY (shared by all web processes).
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _is_local_http(host: str, base_url: str | None) -> bool:
    if base_url:
        return base_url.startswith("http://") and ("127.0.0.1" in base_url or "localhost" in base_url)
    return host in {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Cookies get the Secure flag unless explicitly served over plain http (local development).
    secure_cookies: bool = True
    session_max_age: int = 60 * 60 * 12
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = 300
    db_pool_size: int = 10
    db_max_overflow: int = 0
    log_level: str = "INFO"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Voice <no-reply@voice.local>"
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "ar"
    # Run a job worker inside the web process (`voice serve` on the embedded database, the browser tests);
    # `voice run` turns it off and starts the worker as a child process instead.
    inprocess_worker: bool = False
    # Expose /metrics (Prometheus) to scrapers that send this Bearer token (VOICE_METRICS_TOKEN); without a
    # token /metrics answers 404 to everybody, so request counts, the pool and intake figures are never public.
    metrics: bool = True
    metrics_token: str | None = None
    templates_dir: Path = field(default=PROJECT_ROOT / "templates")
    migrations_dir: Path = field(default=PROJECT_ROOT / "migrations")
    static_dir: Path = field(default=PACKAGE_ROOT / "static")

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("VOICE_DATA_DIR", PROJECT_ROOT / ".data"))
        host = os.environ.get("HOST", "127.0.0.1")
        port = _int("PORT", 8000)
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=data_dir,
            secret_key=_secret_key(data_dir),
            host=host,
            port=port,
            # Secure cookies unless this is plain http on the loopback (local development).
            secure_cookies=env_flag("VOICE_SECURE_COOKIES", not _is_local_http(host, os.environ.get("VOICE_BASE_URL"))),
            session_max_age=_int("VOICE_SESSION_MAX_AGE", 60 * 60 * 12),
            rate_limit_enabled=os.environ.get("VOICE_RATE_LIMIT", "on").lower() != "off",
            rate_limit_per_minute=_int("VOICE_RATE_LIMIT_PER_MINUTE", 300),
            db_pool_size=_int("VOICE_DB_POOL_SIZE", 10),
            db_max_overflow=_int("VOICE_DB_MAX_OVERFLOW", 0),
            log_level=os.environ.get("VOICE_LOG_LEVEL", "INFO").upper(),
            smtp_host=os.environ.get("SMTP_HOST") or None,
            smtp_port=_int("SMTP_PORT", 25),
            smtp_username=os.environ.get("SMTP_USERNAME") or None,
            smtp_password=os.environ.get("SMTP_PASSWORD") or None,
            smtp_starttls=env_flag("SMTP_STARTTLS", False),
            mail_from=os.environ.get("MAIL_FROM", "Voice <no-reply@voice.local>"),
            base_url=os.environ.get("VOICE_BASE_URL", f"http://{host}:{port}"),
            inprocess_worker=env_flag("VOICE_INPROCESS_WORKER", not os.environ.get("DATABASE_URL")),
            metrics=env_flag("VOICE_METRICS", True),
            metrics_token=os.environ.get("VOICE_METRICS_TOKEN") or None,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
