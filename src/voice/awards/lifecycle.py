"""An edition's steps, one at a time: draft → open for entries → judging → results published. Opening
judging enters the ideas accepted for evaluation and freezes the agencies' evidence dossiers; while an
edition judges, blind entries' ideas are shown without their author (``voice.awards.attribution``);
publishing freezes every branch's ranking."""

from __future__ import annotations

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.awards.attribution import refresh_attribution
from voice.awards.editions import EditionRepository, EditionService
from voice.awards.entries import EntryService
from voice.awards.models import Edition, EditionStatus
from voice.awards.results import ResultService
from voice.awards.snapshots import DossierSnapshotService
from voice.db import DomainService
from voice.errors import Conflict
from voice.i18n import _


class EditionLifecycleService(DomainService[Edition]):
    repository_type = EditionRepository

    async def advance(self, actor: User, edition_id: int, to: str) -> Edition:
        """Move an edition one step forward (``EditionStatus.next_step``)."""
        edition = await EditionService(session=self.session).edition(edition_id)
        target = edition.status.next_step
        if target is None or target.value != to:
            raise Conflict(_("An edition moves one step at a time: draft, entries, judging, results."))
        if target is EditionStatus.JUDGING:
            edition.status = target
            await EntryService(session=self.session).sync_idea_entries(edition)
            await DossierSnapshotService(session=self.session).take_all(edition)
        elif target is EditionStatus.RESULTS_PUBLISHED:
            await ResultService(session=self.session).publish(edition)
        else:
            edition.status = target
        await self.session.flush()
        await refresh_attribution(self.session)
        await audit(self.session, "award.edition.status", actor=actor, target_type="award_edition",
                    target_id=edition.id, to=target.value)
        return edition
