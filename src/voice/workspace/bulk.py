"""Acting on a whole theme at once: one answer to every open item (optionally closing them), a status
move, an assignment. Each item goes through the feedback life cycle, with its transition check and
row lock, exactly as if it were handled alone."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import Conflict, ValidationFailed
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import OPEN_STATUSES, Feedback, Response
from voice.i18n import _
from voice.text import clean_body
from voice.themes.edits import ThemeService
from voice.themes.models import Theme
from voice.workspace.inbox import InboxService
from voice.workspace.models import BulkAnswer


class BulkService(DomainService[BulkAnswer]):
    class Repo(SQLAlchemyAsyncRepository[BulkAnswer]):
        model_type = BulkAnswer

    repository_type = Repo

    async def theme_targets(self, user: User, theme_id: int, only_open: bool = True) -> tuple[Theme, list[Feedback]]:
        """An active theme of the member's agency and its items (the open ones by default), by id."""
        theme = await ThemeService(session=self.session).for_agency(user, theme_id, retired=False)
        items = select(Feedback).where(Feedback.theme_id == theme.id, Feedback.agency_id == theme.agency_id)
        if only_open:
            items = items.where(Feedback.status.in_(OPEN_STATUSES))
        return theme, list((await self.session.scalars(items.order_by(Feedback.id))).all())

    async def preview(self, user: User, theme_id: int) -> dict[str, Any]:
        """What a bulk answer would reach now: the open items, how many of them already have an answer, and
        the people it would e-mail."""
        theme, items = await self.theme_targets(user, theme_id)
        people = {i.contact_email for i in items if i.contact_email}
        answered = sum(1 for i in items if i.first_response_at is not None)
        return {"theme": theme, "items": len(items), "people": len(people), "answered": answered}

    async def _already_sent(self, items: list[Feedback], text: str) -> set[int]:
        """The items that already carry this very answer (a second press of "send", a resent form)."""
        if not items:
            return set()
        rows = await self.session.scalars(select(Response.feedback_id).where(
            Response.feedback_id.in_([i.id for i in items]), Response.body == text))
        return set(rows.all())

    async def answer(self, user: User, theme_id: int, body: str, close: bool = False) -> BulkAnswer:
        """One public answer to every open item of the theme; each contact is e-mailed once per item.
        An item closed by someone else meanwhile is left out when closing; an item that already has this
        answer is left out too, so sending twice answers once (the returned count is then 0, nothing saved)."""
        theme, items = await self.theme_targets(user, theme_id)
        text = clean_body(body, field="body")
        if not items:
            raise ValidationFailed(_("This theme has no open items to answer."), field="body")
        # Idempotent: an item that already has this exact answer is not answered (nor e-mailed) again.
        sent = await self._already_sent(items, text)
        items = [i for i in items if i.id not in sent]
        if not items:
            return BulkAnswer(agency_id=theme.agency_id, theme_id=theme.id, body=text, author_id=user.id,
                              item_count=0)  # not saved: nothing was sent
        bulk = BulkAnswer(agency_id=theme.agency_id, theme_id=theme.id, body=text, author_id=user.id,
                          item_count=0)
        self.session.add(bulk)
        await self.session.flush()
        lifecycle = LifecycleService(session=self.session)
        for item in items:  # in id order, so two bulk actions lock their items in the same order
            try:
                await lifecycle.answer(user, item.id, text, public=True, close=close, bulk_answer_id=bulk.id)
            except Conflict:
                continue
            bulk.item_count += 1
        await audit(self.session, "theme.bulk_answer", actor=user, target_type="theme", target_id=theme.id,
                    agency_id=theme.agency_id, items=bulk.item_count, close=close)
        await self.session.flush()
        return bulk

    async def move(self, user: User, theme_id: int, to: str, reason: str | None = None) -> int:
        """Move every open item of the theme that may make this move; returns how many moved."""
        _theme, items = await self.theme_targets(user, theme_id)
        lifecycle = LifecycleService(session=self.session)
        moved = 0
        for item in items:
            try:
                await lifecycle.change_status(user, item.id, to, reason)
            except Conflict:  # this item may not make the move (wrong transition): skip only it
                continue
            moved += 1
        return moved

    async def assign(self, user: User, theme_id: int, assignee_id: int | None) -> int:
        _theme, items = await self.theme_targets(user, theme_id)
        inbox = InboxService(session=self.session)
        for item in items:
            await inbox.assign(user, item.id, assignee_id)
        return len(items)
