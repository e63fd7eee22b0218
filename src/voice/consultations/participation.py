"""What people do on a published consultation while it is open: take a stance on an article with a text
(one per person and article, editable until it closes), reply, and report a comment; and what moderators
(platform administrators, as for ideas) do about reports.

Businesses speak as their business and government employees as their agency: the comment carries the
organisation, which public pages show instead of a person's name."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import audit
from voice.consultations.access import (
    ConsultationRepository,
    may_manage,
    optional_text,
    today,
    visible_consultation,
)
from voice.consultations.models import (
    Consultation,
    ConsultationArticle,
    ConsultationComment,
    ConsultationReport,
    Stance,
)
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.i18n import _, ngettext
from voice.text import clean_body, public_text

MAX_COMMENT = 3000


def speaker(user: User, consultation: Consultation) -> tuple[SubmitterKind, str | None, int | None]:
    """(kind, organisation, organisation's agency id) the user comments as; refused when they may not."""
    if user.role in (Role.ADMIN, Role.JUDGE):
        raise Forbidden(_("Administrators and judges do not take part in consultations."))
    if user.role.is_agency:
        if user.agency_id == consultation.agency_id:
            raise Forbidden(_("Your agency runs this consultation: answer through the response report."))
        kind, organisation = SubmitterKind.GOVERNMENT, user.agency.name_ar if user.agency else user.organisation
        agency_id = user.agency_id
    else:
        kind, organisation, agency_id = user.kind, None, None
        if kind in (SubmitterKind.BUSINESS, SubmitterKind.GOVERNMENT):
            organisation = user.organisation
    if kind.value not in (consultation.audience or []):
        raise Forbidden(_("This consultation does not ask for comments from your kind of account."))
    return kind, organisation, agency_id


def _text(body: str) -> str:
    text = clean_body(body, field="body")
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", MAX_COMMENT), field="body")
    return text


def _stance(value: str) -> Stance:
    try:
        return Stance(str(value or "").strip())
    except ValueError:
        raise ValidationFailed(_("Choose support, oppose or suggest a change."), field="stance") from None


class ConsultationParticipationService(DomainService[Consultation]):
    repository_type = ConsultationRepository

    async def _open(self, consultation_id: int, user: User | None) -> Consultation:
        consultation = await visible_consultation(self.session, consultation_id, user)
        if not consultation.is_open(today()):
            if consultation.is_public and today() < consultation.opens_on:
                raise Conflict(_("Comments open on %(day)s.", day=consultation.opens_on.isoformat()))
            raise Conflict(_("This consultation is closed to comments."))
        return consultation

    async def _article(self, consultation: Consultation, number: object) -> ConsultationArticle:
        try:
            wanted = int(str(number).strip())
        except ValueError:
            wanted = -1
        article = next((a for a in consultation.articles if a.number == wanted and not a.added_in_report), None)
        if article is None:
            raise ValidationFailed(_("This consultation has no article number %(n)s.", n=str(number)[:12]),
                                   field="article")
        return article

    async def comment(self, consultation_id: int, user: User | None, article: object, stance: str,
                      body: str) -> ConsultationComment:
        """Take a stance on an article; a second stance on the same article is refused (edit the first)."""
        if user is None:
            raise Forbidden(_("Please sign in to comment."))
        consultation = await self._open(consultation_id, user)
        kind, organisation, agency_id = speaker(user, consultation)
        target = await self._article(consultation, article)
        chosen, text = _stance(stance), _text(body)
        if await self.session.scalar(select(ConsultationComment.id).where(
                ConsultationComment.article_id == target.id, ConsultationComment.author_id == user.id,
                ConsultationComment.parent_id.is_(None))):
            raise Conflict(_("You already gave your view on this article: edit it instead."))
        comment = ConsultationComment(consultation_id=consultation.id, article_id=target.id, author_id=user.id,
                                      author_kind=kind, organisation=organisation,
                                      organisation_agency_id=agency_id, stance=chosen, body=text,
                                      body_public=public_text(text))
        try:
            async with self.session.begin_nested():
                self.session.add(comment)
                await self.session.flush()
        except IntegrityError:  # the same person, twice at once
            raise Conflict(_("You already gave your view on this article: edit it instead.")) from None
        await self._count(consultation.id)
        await self.session.refresh(comment)
        return comment

    async def edit(self, comment_id: int, user: User | None, stance: str | None, body: str) -> ConsultationComment:
        """Change one's own stance or text while the consultation is open."""
        comment = await self.session.scalar(select(ConsultationComment).where(
            ConsultationComment.id == comment_id).with_for_update(of=ConsultationComment))
        if comment is None or user is None or comment.author_id != user.id:
            raise NotFound(_("We could not find this comment."))
        await self._open(comment.consultation_id, user)
        text = _text(body)
        if comment.parent_id is None:
            comment.stance = _stance(stance or "")
        comment.body, comment.body_public, comment.edited_at = text, public_text(text), datetime.now(UTC)
        comment.theme_id = comment.theme_score = None  # the new text is themed again at the next refresh
        await self.session.flush()
        return comment

    async def reply(self, consultation_id: int, user: User | None, parent_id: int, body: str) -> ConsultationComment:
        """A reply to a comment; the consulting agency's staff reply as the agency."""
        if user is None:
            raise Forbidden(_("Please sign in to comment."))
        consultation = await self._open(consultation_id, user)
        if may_manage(user, consultation) and user.role.is_agency:
            kind, organisation, agency_id = SubmitterKind.GOVERNMENT, consultation.agency.name_ar, user.agency_id
        else:
            kind, organisation, agency_id = speaker(user, consultation)
        parent = await self.session.scalar(select(ConsultationComment).where(
            ConsultationComment.id == parent_id, ConsultationComment.consultation_id == consultation.id,
            ConsultationComment.hidden.is_(False)))
        if parent is None:
            raise ValidationFailed(_("The comment you reply to is no longer there."), field="parent_id")
        text = _text(body)
        comment = ConsultationComment(consultation_id=consultation.id, article_id=parent.article_id,
                                      parent_id=parent.parent_id or parent.id, author_id=user.id, author_kind=kind,
                                      organisation=organisation, organisation_agency_id=agency_id, stance=None,
                                      body=text, body_public=public_text(text))
        self.session.add(comment)
        await self.session.flush()
        await self._count(consultation.id)
        await self.session.refresh(comment)
        return comment

    async def _count(self, consultation_id: int) -> None:
        visible = select(func.count(ConsultationComment.id)).where(
            ConsultationComment.consultation_id == consultation_id, ConsultationComment.hidden.is_(False))
        await self.session.execute(update(Consultation).where(Consultation.id == consultation_id)
                                   .values(comments_count=visible.scalar_subquery()))

    async def mine(self, consultation_id: int, user: User | None) -> dict[int, ConsultationComment]:
        """The viewer's stances, by article id (for the forms that edit them)."""
        if user is None:
            return {}
        rows = (await self.session.scalars(select(ConsultationComment).where(
            ConsultationComment.consultation_id == consultation_id, ConsultationComment.author_id == user.id,
            ConsultationComment.parent_id.is_(None)))).unique().all()
        return {c.article_id: c for c in rows}

    async def thread(self, consultation_id: int, moderator: bool = False, limit: int = 2000
                     ) -> list[ConsultationComment]:
        """The comments public pages show (moderators also see hidden ones), oldest first."""
        stmt = select(ConsultationComment).where(ConsultationComment.consultation_id == consultation_id)
        if not moderator:
            stmt = stmt.where(ConsultationComment.hidden.is_(False))
        return list((await self.session.scalars(stmt.order_by(ConsultationComment.created_at, ConsultationComment.id)
                                                .limit(limit))).unique().all())

    async def report(self, comment_id: int, reason: str, user: User | None) -> ConsultationReport:
        comment = await self.session.get(ConsultationComment, comment_id)
        if comment is None or comment.hidden:
            raise NotFound(_("We could not find this comment."))
        await visible_consultation(self.session, comment.consultation_id, user)
        text = (reason or "").strip()
        if not 3 <= len(text) <= 1000:
            raise ValidationFailed(_("Tell us briefly why (3 to 1000 characters)."), field="reason")
        text = clean_body(text, field="reason") if len(text) >= 5 else text
        report = ConsultationReport(consultation_id=comment.consultation_id, comment_id=comment.id, reason=text,
                                    reporter_id=user.id if user else None)
        self.session.add(report)
        await self.session.flush()
        return report

    async def moderate(self, user: User | None, comment_id: int, hide: bool, reason: str | None = None
                       ) -> ConsultationComment:
        """Platform administrators hide a comment (with a reason) or show it again, as for ideas; the
        consulting agency does not moderate what is said about its own draft."""
        if user is None or not user.is_admin:
            raise Forbidden(_("Only platform administrators moderate comments."))
        comment = await self.session.get(ConsultationComment, comment_id)
        if comment is None:
            raise NotFound(_("We could not find this comment."))
        text = optional_text(reason, "reason", 1000)
        if hide and not text:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        comment.hidden, comment.hidden_reason = hide, text if hide else None
        await self.session.execute(update(ConsultationReport).where(ConsultationReport.comment_id == comment.id)
                                   .values(resolved=True))
        await self._count(comment.consultation_id)
        await self.session.flush()
        await audit(self.session, "consultation.comment_hide" if hide else "consultation.comment_show",
                    actor=user, target_type="consultation_comment", target_id=comment.id, reason=text)
        return comment

    async def queue(self, limit: int = 100) -> list[ConsultationReport]:
        return list((await self.session.scalars(select(ConsultationReport).where(
            ConsultationReport.resolved.is_(False)).order_by(ConsultationReport.created_at).limit(limit))).all())
