"""An agency's themes as its staff see them: the active ones (the one query every page lists them with),
and the staff edits — rename, pin, merge, split — that are kept on the theme rows and survive re-runs
(voice.themes.services re-applies them to each new model)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, update

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import NotFound, ValidationFailed
from voice.i18n import _
from voice.themes.groups import arrange, groups_of
from voice.themes.models import Theme, ThemeGroup, ThemeModel
from voice.themes.sources import source

log = logging.getLogger(__name__)


class ThemeService(DomainService[Theme]):
    class Repo(SQLAlchemyAsyncRepository[Theme]):
        model_type = Theme

    repository_type = Repo

    async def active(self, agency_id: int | None, scope: str = "feedback", *,
                     order: Literal["size", "label"] = "size", without: int | None = None) -> list[Theme]:
        """The themes in service for an agency (None: a platform-wide scope such as ideas), biggest first
        or by name; ``without`` leaves one out (the theme a page is about)."""
        stmt = select(Theme).where(Theme.agency_id == agency_id if agency_id is not None else Theme.agency_id.is_(None),
                                   Theme.scope == scope, Theme.retired.is_(False))
        if without is not None:
            stmt = stmt.where(Theme.id != without)
        stmt = stmt.order_by(Theme.size.desc(), Theme.id) if order == "size" else stmt.order_by(Theme.label, Theme.id)
        return list((await self.session.scalars(stmt)).all())

    async def arranged(self, agency_id: int | None, scope: str = "feedback") -> list[tuple[ThemeGroup | None, list[Theme]]]:
        """The themes in service under their top-level themes (voice.themes.groups.arrange), biggest first,
        for a person choosing one among many."""
        return arrange(await self.active(agency_id, scope), await groups_of(self.session, agency_id, scope))

    async def group_of(self, theme: Theme) -> ThemeGroup | None:
        """The top-level theme holding ``theme`` (None until a refresh groups it)."""
        return await self.session.get(ThemeGroup, theme.group_id) if theme.group_id is not None else None

    async def for_agency(self, user: User, theme_id: int, scope: str = "feedback", *,
                         retired: bool = True) -> Theme:
        """A theme of the member's own agency (any, for platform admins), a retired one only if
        ``retired``; anything else is 'not found'."""
        stmt = select(Theme).where(Theme.id == theme_id, Theme.scope == scope)
        if not retired:
            stmt = stmt.where(Theme.retired.is_(False))
        if not user.is_admin:
            stmt = stmt.where(Theme.agency_id == user.agency_id)
        theme = await self.session.scalar(stmt)
        if theme is None:
            log.warning("theme %s refused to user %s", theme_id, user.id)
            raise NotFound(_("No such theme in your agency."))
        return theme

    async def rename(self, user: User, theme_id: int, label: str) -> Theme:
        theme = await self.for_agency(user, theme_id)
        label = " ".join((label or "").split())
        if not 2 <= len(label) <= 200:
            raise ValidationFailed(_("A theme name has 2 to 200 characters."), field="label")
        await self._edit_model(theme, lambda model, key: model.rename(key, label))
        theme.label, theme.renamed = label, True
        await audit(self.session, "theme.rename", actor=user, target_type="theme", target_id=theme.id,
                    agency_id=theme.agency_id, label=label)
        return theme

    async def pin(self, user: User, theme_id: int, pinned: bool) -> Theme:
        theme = await self.for_agency(user, theme_id)
        await self._edit_model(theme, lambda model, key: model.pin(key, pinned))
        theme.pinned = pinned
        await audit(self.session, "theme.pin", actor=user, target_type="theme", target_id=theme.id,
                    agency_id=theme.agency_id, pinned=pinned)
        return theme

    async def merge(self, user: User, into_id: int, other_id: int) -> Theme:
        into = await self.for_agency(user, into_id)
        other = await self.for_agency(user, other_id)
        if into.id == other.id or into.agency_id != other.agency_id:
            raise ValidationFailed(_("Choose two different themes of your agency."), field="other")
        row, model = await self._current_model(into)
        into_key, other_key = _live_key(model, into), _live_key(model, other)
        if into_key is not None and other_key is not None:
            model.merge(into_key, other_key)
            row.blob = model.to_bytes()
        other.merged_into_id, other.retired = into.id, True
        into.size += other.size
        other.size = 0
        members = source(into.scope).model
        await self.session.execute(update(members).where(members.theme_id == other.id).values(theme_id=into.id))
        await audit(self.session, "theme.merge", actor=user, target_type="theme", target_id=into.id,
                    agency_id=into.agency_id, merged=other.id)
        return into

    async def split(self, user: User, theme_id: int) -> Theme:
        """Split a theme that mixes two issues: the model makes two halves, every member is re-assigned,
        and the new half gets its own row (the staff can then rename it). Returns the new theme."""
        theme = await self.for_agency(user, theme_id)
        row, model = await self._current_model(theme)
        if _live_key(model, theme) is None:
            raise ValidationFailed(_("Refresh themes before splitting one."), field="theme")
        src = source(theme.scope)
        members = (await self.session.execute(select(src.model.id, src.text().label("text")).where(
            src.model.theme_id == theme.id, *src.rows(theme.agency_id)))).all()
        try:
            new_key = model.split(int(theme.key), [m.text for m in members])
        except ValueError:
            raise ValidationFailed(_("A theme needs at least two different items to be split."),
                                   field="theme") from None
        # The new half sits beside the old one, under the same top-level theme (as in the model).
        new_theme = Theme(agency_id=theme.agency_id, scope=theme.scope, key=str(new_key),
                          label=model.theme(new_key).label[:200] or theme.label,
                          keywords=model.theme(new_key).keywords, group_id=theme.group_id, other=theme.other)
        self.session.add(new_theme)
        await self.session.flush()
        kept = model.theme(int(theme.key))
        theme.keywords = list(kept.keywords)
        if not theme.renamed:
            theme.label = kept.label[:200]
        results = model.assign_many([m.text for m in members])
        sizes = {theme.id: 0, new_theme.id: 0}
        for member, (key, score) in zip(members, results, strict=True):
            target = new_theme.id if key == new_key else theme.id
            sizes[target] += 1
            await self.session.execute(update(src.model).where(src.model.id == member.id)
                                       .values(theme_id=target, theme_score=score))
        theme.size, new_theme.size = sizes[theme.id], sizes[new_theme.id]
        row.blob = model.to_bytes()
        await audit(self.session, "theme.split", actor=user, target_type="theme", target_id=theme.id,
                    agency_id=theme.agency_id, new=new_theme.id)
        return new_theme

    async def _edit_model(self, theme: Theme, edit: Callable[[Any, int], object]) -> None:
        """Make the same edit to the current model, when it still has the theme (re-runs start from it)."""
        row, model = await self._current_model(theme)
        if (key := _live_key(model, theme)) is not None:
            edit(model, key)
            row.blob = model.to_bytes()

    async def _current_model(self, theme: Theme) -> tuple[ThemeModel | None, Any]:
        """The theme's current fitted model, its row locked: edits and a run's swap take turns."""
        from nlp import ThemeModel as Fitter

        row = await self.session.scalar(select(ThemeModel).where(
            ThemeModel.agency_id == theme.agency_id, ThemeModel.scope == theme.scope,
            ThemeModel.is_current.is_(True)).with_for_update())
        return row, (Fitter.from_bytes(row.blob) if row else None)


def _live_key(model: Any, theme: Theme) -> int | None:
    """The theme's id inside the fitted model, when the model still has it."""
    if model is None or not theme.key.isdigit():
        return None
    key = int(theme.key)
    return key if any(t.id == key for t in model.themes_) else None
