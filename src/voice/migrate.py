"""Alembic, configured in code with absolute paths so it works from any working directory."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from voice.settings import Settings, get_settings


def alembic_config(url: str, settings: Settings | None = None) -> Config:
    settings = settings or get_settings()
    cfg = Config()
    cfg.set_main_option("script_location", str(settings.migrations_dir))
    # env.py reads the URL from here; '%' must be escaped for configparser.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head", settings: Settings | None = None) -> None:
    command.upgrade(alembic_config(url, settings), revision)


def check(url: str, settings: Settings | None = None) -> None:
    """Raise if the models and the migrated schema differ (alembic's autogenerate diff)."""
    command.check(alembic_config(url, settings))


def revision(url: str, message: str, settings: Settings | None = None) -> None:
    command.revision(alembic_config(url, settings), message=message, autogenerate=True)
