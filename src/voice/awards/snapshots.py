"""The dossier judges score is the one that stood when judging opened: an agency's evidence frozen in one row
(``DossierSnapshot``), taken for every participation entry when the edition moves to judging (or, for an
edition that was already judging, the first time a judge opens it). Records added or changed later do
not move a frozen figure; the agency's staff and administrators keep the live view.

A frozen dossier names no public record: its records are numbered inside the dossier (``R-1``, ``R-2``…),
its themes too, and it keeps the day a record arrived, never its instant. In a blind branch, a record whose
text a public page shows under the agency's name (an item on the public board, an improvement, an idea) is
listed without that text, and theme labels and improvement titles give way to neutral names, so nothing
a blind judge reads can be searched back to the agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from ideas.models import Idea
from voice.awards import evidence_consultations
from voice.awards.evidence import Dossier, EvidenceService, Record
from voice.awards.models import Branch, BranchCode, DossierSnapshot, Edition, EditionStatus, Entry
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import NotFound
from voice.feedback.models import Feedback
from voice.i18n import RIYADH, _, fmt_date, fmt_number, get_locale, use_locale
from voice.labels import label
from voice.workspace.models import Improvement

LANGS = ("ar", "en")


@dataclass
class FrozenDossier:
    dossier: Dossier
    taken_at: datetime
    snapshot: DossierSnapshot


def _day(moment: datetime) -> str:
    return moment.astimezone(RIYADH).date().isoformat()


def _frozen_record(kind: str, row: Any) -> dict[str, Any]:
    """A record as a frozen dossier keeps it: public text, the day it arrived, coded details; no id."""
    consulted = evidence_consultations.frozen(kind, row, _day)
    if consulted is not None:
        return consulted
    if kind == "feedback":
        f: Feedback = row
        hours = None if f.first_response_at is None else (f.first_response_at - f.created_at).total_seconds() / 3600
        return {"kind": kind, "day": _day(f.created_at), "text": f.body_public, "public": bool(f.is_public),
                "detail": {"channel": f.channel.value, "submitter_kind": f.submitter_kind.value,
                           "status": f.status.value, "hours": None if hours is None else round(hours, 1),
                           "within_sla": None if f.first_response_at is None else f.first_response_at <= f.due_at,
                           "satisfaction": f.satisfaction}}
    if kind == "improvement":
        i: Improvement = row
        return {"kind": kind, "day": _day(i.created_at), "text": f"{i.title} — {i.description}".strip(" —"),
                "public": True, "detail": {"kind": i.kind.value, "status": i.status.value,
                                           "delivered_on": i.delivered_on.isoformat() if i.delivered_on else None}}
    idea: Idea = row
    return {"kind": kind, "day": _day(idea.created_at), "text": f"{idea.title} — {idea.description_public}",
            "public": True, "detail": {"status": idea.status.value, "votes": idea.votes}}


def _detail_words(kind: str, detail: dict[str, Any]) -> dict[str, str]:
    """A frozen record's coded details in the reader's language."""
    if kind.startswith("consultation"):
        return evidence_consultations.detail_words(kind, detail)
    words = {k: label(v) for k, v in detail.items() if k in ("channel", "submitter_kind", "status", "kind", "stance", "decision")
             and v}
    if detail.get("hours") is not None:
        words["hours"] = _("First answer after %(h)s hours", h=fmt_number(detail["hours"], 1))
    if detail.get("within_sla") is not None:
        words["within_sla"] = _("Within the SLA") if detail["within_sla"] else _("After the SLA")
    if detail.get("satisfaction"):
        words["satisfaction"] = _("Satisfaction %(n)s of 5", n=fmt_number(detail["satisfaction"]))
    if detail.get("delivered_on"):
        words["delivered_on"] = _("Delivered on %(d)s", d=fmt_date(date.fromisoformat(detail["delivered_on"])))
    if kind == "idea" and detail.get("votes") is not None:
        words["votes"] = _("Votes: %(n)s", n=fmt_number(detail["votes"]))
    return words


class DossierSnapshotService(DomainService[DossierSnapshot]):
    class Repo(SQLAlchemyAsyncRepository[DossierSnapshot]):
        model_type = DossierSnapshot

    repository_type = Repo

    async def take_all(self, edition: Edition) -> int:
        """Freeze the dossier of every agency entered in the edition's participation branch."""
        agencies = (await self.session.scalars(select(Agency).join(Entry, Entry.agency_id == Agency.id).join(
            Branch, Branch.id == Entry.branch_id).where(
            Entry.edition_id == edition.id, Branch.code == BranchCode.E_PARTICIPATION).order_by(Agency.id))).all()
        for agency in agencies:
            await self.take(edition, agency)
        return len(agencies)

    async def take(self, edition: Edition, agency: Agency) -> DossierSnapshot:
        """The agency's frozen dossier for the edition, taken now if it was not yet (never taken twice)."""
        found = await self.session.scalar(select(DossierSnapshot).where(
            DossierSnapshot.edition_id == edition.id, DossierSnapshot.agency_id == agency.id))
        if found is not None:
            return found
        evidence = EvidenceService(session=self.session)
        dossiers: dict[str, dict[str, Any]] = {}
        for lang in LANGS:  # figure labels and explanations in both languages, counted once each
            with use_locale(lang):
                dossiers[lang] = (await evidence.dossier(edition, agency, "")).as_dict()
        base = dossiers[LANGS[0]]
        keys = [f["key"] for s in base["stages"] for f in s["figures"]]
        keys += [f["key"] for part in ("by_channel", "by_submitter_kind", "improvements_by_kind") for f in base[part]]
        theme_keys = {t["figure_key"]: f"theme_{n}" for n, t in enumerate(base["themes"], start=1)}
        numbers: dict[tuple[str, int], int] = {}
        records: list[dict[str, Any]] = []
        figure_records: dict[str, list[int]] = {}
        for key in dict.fromkeys([*keys, "adopted_ideas", *theme_keys]):
            kind, rows = await evidence.rows(edition, agency, key)
            local = []
            for row in rows:
                if (kind, row.id) not in numbers:
                    records.append({"n": len(records) + 1, **_frozen_record(kind, row)})
                    numbers[(kind, row.id)] = len(records)
                local.append(numbers[(kind, row.id)])
            figure_records[theme_keys.get(key, key)] = local
        for data in dossiers.values():  # no public id left: themes and their actions numbered locally
            data["agency_slug"], data["agency_name"] = "", ""
            for n, theme in enumerate(data["themes"], start=1):
                theme["theme_id"], theme["figure_key"] = n, f"theme_{n}"
                for action in theme["actions"]:
                    action["improvement_id"] = 0
        snapshot = DossierSnapshot(edition_id=edition.id, agency_id=agency.id, taken_at=datetime.now(UTC),
                                   dossier={"lang": dossiers, "figure_records": figure_records}, records=records)
        self.session.add(snapshot)
        await self.session.flush()
        return snapshot

    async def taken_at(self, edition: Edition, agency: Agency) -> datetime | None:
        """When the agency's dossier was frozen for the edition's judges, if it was."""
        return await self.session.scalar(select(DossierSnapshot.taken_at).where(
            DossierSnapshot.edition_id == edition.id, DossierSnapshot.agency_id == agency.id))

    async def frozen(self, edition: Edition, agency: Agency, blind: bool) -> FrozenDossier | None:
        """What a judge reads of the agency's dossier: frozen once the edition judges (None before judging,
        or for an agency with no participation entry, whose dossier nobody scores)."""
        if edition.status not in (EditionStatus.JUDGING, EditionStatus.RESULTS_PUBLISHED):
            return None
        entered = await self.session.scalar(select(Entry.id).join(Branch, Branch.id == Entry.branch_id).where(
            Entry.edition_id == edition.id, Entry.agency_id == agency.id, Branch.code == BranchCode.E_PARTICIPATION))
        if entered is None:
            return None
        snapshot = await self.take(edition, agency)
        data = snapshot.dossier["lang"].get(get_locale()) or snapshot.dossier["lang"][LANGS[0]]
        dossier = Dossier.from_dict(data)
        if blind:
            for theme in dossier.themes:
                theme.label = _("Theme %(n)s", n=fmt_number(theme.theme_id))
                for action in theme.actions:
                    action.title = ""
        return FrozenDossier(dossier, snapshot.taken_at, snapshot)

    def records(self, frozen: FrozenDossier, figure: str, blind: bool) -> list[Record]:
        """A frozen figure's records under their dossier-local references."""
        numbers = frozen.snapshot.dossier["figure_records"].get(figure)
        if numbers is None:
            raise NotFound(_("No such figure."))
        by_number = {r["n"]: r for r in frozen.snapshot.records}
        out = []
        for n in numbers:
            r = by_number[n]
            text = r["text"]
            if blind and r["public"]:
                text = _("This text is public under the agency's name, so a blind dossier does not show it.")
            out.append(Record(r["kind"], n, f"R-{n}", date.fromisoformat(r["day"]), text,
                              _detail_words(r["kind"], r["detail"])))
        return out
