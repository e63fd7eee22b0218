"""Who competes: agencies enter branches while an edition is open for entries, and ideas accepted for
evaluation are entered in e-contribution when judging opens."""

from __future__ import annotations

import re
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from ideas.models import Idea, IdeaModeration, IdeaStatus
from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.awards.attribution import refresh_attribution
from voice.awards.editions import EditionService
from voice.awards.models import BranchCode, Edition, EditionStatus, Entry
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, ValidationFailed
from voice.i18n import _

_URL = re.compile(r"^https://[^\s<>\"']{3,500}$")
# Ideas that reached evaluation (or went further) compete in e-contribution.
EVALUATED_IDEAS = (IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.SHORTLISTED, IdeaStatus.WINNER)


class EntryService(DomainService[Entry]):
    class Repo(SQLAlchemyAsyncRepository[Entry]):
        model_type = Entry

    repository_type = Repo

    async def enter(self, user: User, edition_id: int, data: dict[str, Any]) -> Entry:
        """An agency administrator enters the agency in a branch (or updates its entry while entries are open)."""
        if user.role is not Role.AGENCY_ADMIN or user.agency_id is None:
            raise Forbidden(_("Only an agency administrator can enter the award."))
        editions = EditionService(session=self.session)
        edition = await editions.edition(edition_id)
        if edition.status is not EditionStatus.OPEN_FOR_ENTRIES:
            raise Conflict(_("This edition is not open for entries."))
        code = str(data.get("branch", ""))
        if code == BranchCode.E_CONTRIBUTION:
            raise ValidationFailed(_("E-contribution is entered by individuals' ideas, not by agencies."),
                                   field="branch")
        branch = await editions.branch_by_code(edition.id, code)
        title = " ".join(str(data.get("title", "")).split())[:200]
        narrative = str(data.get("narrative", "")).strip()[:20_000]
        errors: dict[str, str] = {}
        if len(title) < 3:
            errors["title"] = _("Give the entry a title.")
        if len(narrative) < 20:
            errors["narrative"] = _("Describe the entry (at least 20 characters).")
        documents = []
        for line in str(data.get("documents", "")).splitlines():
            line = line.strip()
            if not line:
                continue
            label, _sep, url = line.rpartition(" ")
            if not _URL.match(url):
                errors["documents"] = _("Each document line is a title and an https:// link.")
                break
            documents.append({"title": label.strip()[:200] or url, "url": url})
        if len(documents) > 20:
            errors["documents"] = _("At most 20 documents.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        entry = await self.session.scalar(select(Entry).where(Entry.branch_id == branch.id,
                                                              Entry.agency_id == user.agency_id))
        if entry is None:
            entry = Entry(edition_id=edition.id, branch_id=branch.id, agency_id=user.agency_id, title=title)
            self.session.add(entry)
        entry.title, entry.narrative, entry.documents, entry.submitted_by_id = title, narrative, documents, user.id
        await self.session.flush()
        await audit(self.session, "award.entry.save", actor=user, target_type="award_entry", target_id=entry.id,
                    agency_id=user.agency_id)
        return entry

    async def agency_entries(self, agency_id: int) -> list[Entry]:
        return list((await self.session.scalars(select(Entry).where(Entry.agency_id == agency_id)
                                                .order_by(Entry.edition_id.desc(), Entry.branch_id))).all())

    async def sync_idea_entries(self, edition: Edition) -> int:
        """Enter in e-contribution every idea accepted for evaluation (or beyond) that is not entered yet."""
        if edition.results_published:
            return 0
        branch = await EditionService(session=self.session).branch_by_code(edition.id, BranchCode.E_CONTRIBUTION)
        entered = select(Entry.idea_id).where(Entry.branch_id == branch.id, Entry.idea_id.is_not(None))
        ideas = (await self.session.scalars(select(Idea).where(
            Idea.status.in_(EVALUATED_IDEAS), Idea.moderation != IdeaModeration.HIDDEN, Idea.merged_into_id.is_(None),
            Idea.id.not_in(entered)).order_by(Idea.id))).all()
        for idea in ideas:
            self.session.add(Entry(edition_id=edition.id, branch_id=branch.id, idea_id=idea.id,
                                   author_id=idea.author_id, title=idea.title[:200],
                                   narrative=idea.description_public))
        await self.session.flush()
        await refresh_attribution(self.session)
        return len(ideas)
