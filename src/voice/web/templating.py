"""Jinja2 set-up: gettext in templates, locale-aware filters, and helpers every page uses."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from nlp.redact import localize_placeholders
from voice import i18n
from voice.labels import label
from voice.settings import Settings
from voice.web.assets import Assets


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # newstyle gettext: variables are passed as keywords and escaped like any other output.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Jinja's newstyle ngettext would call ours with the count alone and fill %(num)s with the bare
    # number (Western digits in Arabic): ours writes it in the locale's digits, escaped like any value.
    env.globals["ngettext"] = _ngettext
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
    env.finalize = _finalize  # read when a template is compiled: set before any page is rendered


def _finalize(value: Any) -> Any:
    """Every value a template prints: public texts are stored with the platform's Arabic placeholders
    ("[هاتف]"); a page in another language shows them in its own ("[phone]")."""
    if isinstance(value, str) and "[" in value and (lang := i18n.get_locale()) != "ar":
        localized = localize_placeholders(str(value), lang)
        return Markup(localized) if isinstance(value, Markup) else localized  # noqa: S704 - was safe, stays safe
    return value


@pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = i18n.translations(i18n.get_locale()).ungettext(singular, plural, n)
    variables.setdefault("num", i18n.fmt_number(n))
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our catalog's text; the values are escaped by %
    return text % variables


def _localized(obj: Any, field: str = "name") -> str:
    """``obj.name_ar`` or ``obj.name_en`` for the current language, falling back to Arabic."""
    lang = i18n.get_locale()
    return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_ar", "")


def template_config(settings: Settings, assets: Assets) -> TemplateConfig:
    def configure(engine: JinjaTemplateEngine) -> None:
        _configure(engine)
        engine.engine.globals["static"] = assets.url  # fingerprinted URLs: cached for a year

    return TemplateConfig(
        directory=settings.templates_dir,  # absolute: the working directory does not matter
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )
