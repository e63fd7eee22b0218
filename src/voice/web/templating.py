"""Jinja2 set-up: gettext in templates, locale-aware filters, and helpers every page uses."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from voice import i18n
from voice.labels import label
from voice.settings import Settings


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # newstyle gettext: variables are passed as keywords and escaped like any other output.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        current_lang=i18n.get_locale,
        text_direction=i18n.direction,
        other_lang=lambda: "en" if i18n.get_locale() == "ar" else "ar",
        localized=_localized,
        label=label,
    )
    env.filters.update(
        num=i18n.fmt_number,
        pct=i18n.fmt_percent,
        date=i18n.fmt_date,
    )
    env.policies["ext.i18n.trimmed"] = True


def _localized(obj: Any, field: str = "name") -> str:
    """``obj.name_ar`` or ``obj.name_en`` for the current language, falling back to Arabic."""
    lang = i18n.get_locale()
    return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_ar", "")


def template_config(settings: Settings) -> TemplateConfig:
    return TemplateConfig(
        directory=settings.templates_dir,  # absolute: the working directory does not matter
        engine=JinjaTemplateEngine,
        engine_callback=_configure,
    )
