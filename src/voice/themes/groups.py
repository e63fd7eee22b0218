"""Top-level themes as staff see them: stored on each refresh from the model's groups (nlp's
``ThemeModel.groups_``: at most 15, plus the "other" bucket), renamed by staff, and listed for pages.

A top-level theme's identity is its row, carried by its fine themes (whose ids are stable across refits):
a new group continues the row whose fine themes it holds most of, whatever the model keys it by (its
smallest theme's id, which moves when that theme leaves). So a staff name stays with the themes it was
given to when a refresh reshuffles a few of them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.errors import NotFound, ValidationFailed
from voice.i18n import _
from voice.themes.models import Theme, ThemeGroup

__all__ = ["GROUP_KEYWORDS", "arrange", "groups_of", "rename_group", "store_groups"]

GROUP_KEYWORDS = 6  # a top-level theme's keywords: its sub-themes' first ones, biggest sub-theme first


async def store_groups(session: AsyncSession, agency_id: int | None, scope: str, model: Any,
                       themes: dict[str, Theme]) -> None:
    """Write the model's top-level themes and point every live theme row (``themes``: by key, as the
    swap left them, still holding their previous group) at its group; groups no longer found go."""
    rows = list((await session.scalars(select(ThemeGroup).where(
        ThemeGroup.agency_id.is_not_distinct_from(agency_id), ThemeGroup.scope == scope))).all())
    sizes = {t.id: t.size for t in model.themes_}
    held: dict[int, set[str]] = defaultdict(set)  # group row id -> keys of the themes it held until now
    for key, theme in themes.items():
        if theme.group_id is not None:
            held[theme.group_id].add(key)
    # Each new group carries on the row whose themes it holds most of (weighted by the themes' new sizes),
    # the biggest overlaps first; then a row with the same key; otherwise it is a new top-level theme.
    pairs = []
    for group in model.groups_:
        children = {str(c) for c in group.children}
        for row in rows:
            shared = sum(sizes.get(int(k), 0) for k in held.get(row.id, set()) & children)
            if shared > 0:
                pairs.append((-shared, group.id, row.id))
    by_row = {row.id: row for row in rows}
    chosen: dict[int, ThemeGroup] = {}
    for _shared, group_id, row_id in sorted(pairs):
        if group_id not in chosen and by_row[row_id] not in chosen.values():
            chosen[group_id] = by_row[row_id]
    by_key = {row.key: row for row in rows}
    for group in model.groups_:
        row = by_key.get(str(group.id))
        if group.id not in chosen and row is not None and row not in chosen.values():
            chosen[group.id] = row
    for row in rows:
        if row not in chosen.values():
            await session.delete(row)
    await session.flush()
    # Keys are unique per agency and scope: rows changing keys pass through a temporary one.
    moving = [(row, str(group_id)) for group_id, row in chosen.items() if row.key != str(group_id)]
    for row, _key in moving:
        row.key = f"~{row.id}"
    if moving:
        await session.flush()
    for row, key in moving:
        row.key = key
    by_id = {t.id: t for t in model.themes_}
    for group in model.groups_:
        row = chosen.get(group.id)
        if row is None:
            row = chosen[group.id] = ThemeGroup(agency_id=agency_id, scope=scope, key=str(group.id), renamed=False)
            session.add(row)
        if not row.renamed:
            row.label = group.label[:200]
        row.other = bool(group.other)
        row.keywords = _keywords([by_id[c] for c in group.children if c in by_id])
    await session.flush()
    for group in model.groups_:
        for child in group.children:
            if (theme := themes.get(str(child))) is not None:
                theme.group_id = chosen[group.id].id
                theme.other = bool(getattr(by_id.get(child), "other", False))


def _keywords(children: list[Any]) -> list[str]:
    """Round-robin over the sub-themes' keywords (biggest sub-theme first), so each one speaks."""
    lists = [list(c.keywords) for c in sorted(children, key=lambda c: -c.size)]
    out: list[str] = []
    for rank in range(max((len(k) for k in lists), default=0)):
        for words in lists:
            if rank < len(words) and words[rank] not in out:
                out.append(words[rank])
    return out[:GROUP_KEYWORDS]


async def groups_of(session: AsyncSession, agency_id: int | None, scope: str = "feedback") -> dict[int, ThemeGroup]:
    """The agency's top-level themes in service, by id."""
    rows = await session.scalars(select(ThemeGroup).where(
        ThemeGroup.agency_id.is_not_distinct_from(agency_id), ThemeGroup.scope == scope))
    return {g.id: g for g in rows.all()}


def arrange(themes: list[Theme], groups: dict[int, ThemeGroup]) -> list[tuple[ThemeGroup | None, list[Theme]]]:
    """Themes under their top-level theme (``groups``: by id), each list in the order given, the top-level
    themes in the order of their first theme, the "other" bucket last. A theme no refresh has grouped
    yet (stored before top-level themes existed) stands alone, under None."""
    buckets: dict[tuple[str, int], tuple[ThemeGroup | None, list[Theme]]] = {}
    for theme in themes:
        group = groups.get(theme.group_id) if theme.group_id is not None else None
        key = ("group", group.id) if group is not None else ("theme", theme.id)
        buckets.setdefault(key, (group, []))[1].append(theme)
    return sorted(buckets.values(), key=lambda b: b[0] is not None and b[0].other)


async def rename_group(session: AsyncSession, user: User, group_id: int, label: str) -> ThemeGroup:
    """Staff name a top-level theme of their agency; refreshes keep the name (``renamed``)."""
    stmt = select(ThemeGroup).where(ThemeGroup.id == group_id)
    if not user.is_admin:
        stmt = stmt.where(ThemeGroup.agency_id == user.agency_id)
    group = await session.scalar(stmt)
    if group is None:
        raise NotFound(_("No such theme in your agency."))
    label = " ".join((label or "").split())
    if not 2 <= len(label) <= 200:
        raise ValidationFailed(_("A theme name has 2 to 200 characters."), field="label")
    group.label, group.renamed = label, True
    await audit(session, "theme_group.rename", actor=user, target_type="theme_group", target_id=group.id,
                agency_id=group.agency_id, label=label)
    return group
