"""A person's contributions across the slices (feedback, ideas, comments, votes, "me too"), read
through the slices' models; their data as JSON; and erasure of the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, select, update

from ideas.models import Idea, IdeaComment, IdeaFollower, IdeaVote
from voice.accounts.models import AccountToken, RecoveryCode, Role, User
from voice.accounts.security import UNUSABLE_PASSWORD
from voice.accounts.services import TokenService, audit
from voice.attachments.models import Attachment
from voice.catalogue.models import Agency
from voice.consultations.models import Consultation, ConsultationComment
from voice.db import DomainService
from voice.errors import Forbidden, ValidationFailed
from voice.feedback.models import Feedback, Support
from voice.i18n import _


@dataclass
class Contributions:
    feedback: list[Feedback]
    ideas: list[Idea]
    comments: list[tuple[IdeaComment, Idea]]
    votes: list[Idea]
    supported: list[Feedback]
    # Stances and replies on consultations, each with its consultation.
    consultation_comments: list[tuple[ConsultationComment, Consultation]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class PersonalDataService(DomainService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def contributions(self, user: User) -> Contributions:
        s = self.session
        feedback = list((await s.scalars(select(Feedback).where(Feedback.user_id == user.id)
                                         .order_by(Feedback.created_at.desc()))).all())
        ideas = list((await s.scalars(select(Idea).where(Idea.author_id == user.id)
                                      .order_by(Idea.created_at.desc()))).all())
        comments = [(c, i) for c, i in (await s.execute(
            select(IdeaComment, Idea).join(Idea, Idea.id == IdeaComment.idea_id)
            .where(IdeaComment.author_id == user.id).order_by(IdeaComment.created_at.desc()))).all()]
        votes = list((await s.scalars(select(Idea).join(IdeaVote, IdeaVote.idea_id == Idea.id)
                                      .where(IdeaVote.user_id == user.id).order_by(Idea.created_at.desc()))).all())
        supported = list((await s.scalars(select(Feedback).join(Support, Support.feedback_id == Feedback.id)
                                          .where(Support.user_id == user.id))).all())
        consultation_comments = [(c, k) for c, k in (await s.execute(
            select(ConsultationComment, Consultation).join(Consultation, Consultation.id == ConsultationComment.consultation_id)
            .where(ConsultationComment.author_id == user.id)
            .order_by(ConsultationComment.created_at.desc(), ConsultationComment.id.desc()))).all()]
        return Contributions(feedback, ideas, comments, votes, supported, consultation_comments)

    async def export(self, user: User) -> dict[str, Any]:
        """Everything the platform holds about the person, as they gave it (originals, not redacted)."""
        mine = await self.contributions(user)
        agencies = dict((await self.session.execute(select(Agency.id, Agency.slug))).all())
        return {
            "account": {"email": user.email, "full_name": user.full_name, "display_name": user.display_name,
                        "kind": user.kind.value, "role": user.role.value, "cr_number": user.cr_number,
                        "organisation": user.organisation, "national_id": user.national_id, "locale": user.locale,
                        "created_at": _iso(user.created_at), "last_sign_in": _iso(user.last_login_at),
                        "email_verified_at": _iso(user.email_verified_at),
                        "two_factor": user.has_two_factor},
            "feedback": [{"tracking_code": f.tracking_code, "agency": agencies.get(f.agency_id), "kind": f.kind.value,
                          "status": f.status.value, "body": f.body, "contact_email": f.contact_email,
                          "created_at": _iso(f.created_at)} for f in mine.feedback],
            "ideas": [{"id": i.id, "title": i.title, "problem": i.problem, "description": i.description,
                       "status": i.status.value, "created_at": _iso(i.created_at)} for i in mine.ideas],
            "comments": [{"idea_id": i.id, "body": c.body, "created_at": _iso(c.created_at)} for c, i in mine.comments],
            "votes": [{"idea_id": i.id, "title": i.title} for i in mine.votes],
            "consultation_comments": [
                {"id": c.id, "consultation_id": k.id, "consultation": k.title_ar, "article": c.article.number,
                 "stance": c.stance.value if c.stance else None, "reply_to": c.parent_id,
                 "speaking_as": c.author_kind.value, "organisation": c.organisation, "body": c.body,
                 "created_at": _iso(c.created_at), "edited_at": _iso(c.edited_at)}
                for c, k in mine.consultation_comments],
            "me_too": [{"tracking_code": f.tracking_code} for f in mine.supported],
            # Files the person uploaded (re-encoded as stored), each readable by them at its address.
            "files": [{"id": a.id, "attached_to": a.owner_kind, "name": a.filename, "type": a.media_type,
                       "size": a.size, "address": f"/attachments/{a.id}", "created_at": _iso(a.created_at)}
                      for a in (await self.session.scalars(select(Attachment).where(
                          Attachment.uploaded_by_id == user.id).order_by(Attachment.id))).all()],
        }

    async def erase(self, user: User, confirmation: str) -> None:
        """Erase the account: it can no longer sign in, its personal data is gone, its public texts stay
        under "A participant", and the agencies keep the feedback records the law requires (unlinked from
        the person)."""
        user = await self.session.get(User, user.id) or user  # a row of this transaction
        if user.role is not Role.CITIZEN:
            raise Forbidden(_("Staff, judges and administrators close their accounts through their administrator."))
        if confirmation.strip().lower() != user.email:
            raise ValidationFailed(_("Type your e-mail address to confirm."), field="confirm")
        await TokenService(session=self.session).revoke_all(user)
        for model in (RecoveryCode, AccountToken, IdeaFollower):
            await self.session.execute(delete(model).where(model.user_id == user.id))
        await self.session.execute(update(Feedback).where(Feedback.user_id == user.id).values(user_id=None))
        # Consultation comments stay under "A participant" (as ideas and comments do), without the business
        # name they were signed with and with the text as written (which may hold personal data) replaced by
        # its redacted public text. A government employee's comments keep their agency: the agency spoke.
        await self.session.execute(update(ConsultationComment).where(
            ConsultationComment.author_id == user.id, ConsultationComment.organisation_agency_id.is_(None))
            .values(organisation=None))
        await self.session.execute(update(ConsultationComment).where(ConsultationComment.author_id == user.id)
                                   .values(body=ConsultationComment.body_public))
        # Files stay with the items agencies keep, no longer linked to the person.
        await self.session.execute(update(Attachment).where(Attachment.uploaded_by_id == user.id)
                                   .values(uploaded_by_id=None))
        user.email = f"erased-{user.id}@erased.invalid"
        user.full_name, user.display_name = "—", None
        user.cr_number = user.organisation = user.national_id = user.oidc_subject = None
        user.password_hash, user.totp_secret, user.totp_enabled_at = UNUSABLE_PASSWORD, None, None
        user.is_active, user.session_epoch = False, user.session_epoch + 1
        user.erased_at = datetime.now(UTC)
        await audit(self.session, "account.erase", actor=user, target_type="user", target_id=user.id)
