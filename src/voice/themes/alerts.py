"""Emerging themes in the agency's workspace: which themes the rule (voice.themes.emerging) flags, staff
muting a flag, and the daily digest e-mail to the agency (through the notifications outbox).

Days are Riyadh calendar days. The dashboard judges today so far and yesterday; the digest, sent each
morning, judges yesterday, a complete day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.i18n import _, ngettext
from voice.jobs import job_session, jobs, resumable
from voice.notifications.outbox import link, notify
from voice.themes.emerging import WEEKS, Verdict, judge
from voice.themes.models import Theme
from voice.themes.sources import source

RIYADH = ZoneInfo("Asia/Riyadh")
MUTE_DAYS = 7


def riyadh_today() -> date:
    return datetime.now(RIYADH).date()


async def daily_counts(session: AsyncSession, agency_id: int | None, first: date, last: date,
                       scope: str = "feedback") -> dict[int, dict[date, int]]:
    """Texts per theme and Riyadh day, ``first`` to ``last`` inclusive."""
    src = source(scope)
    model = src.model
    start = datetime.combine(first, datetime.min.time(), RIYADH).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), RIYADH).astimezone(UTC)
    day = func.date(func.timezone("Asia/Riyadh", model.created_at))
    rows = await session.execute(select(model.theme_id, day, func.count()).where(
        *src.rows(agency_id), model.theme_id.is_not(None), model.created_at >= start, model.created_at < end)
        .group_by(model.theme_id, day))
    out: dict[int, dict[date, int]] = {}
    for theme_id, d, n in rows:
        out.setdefault(theme_id, {})[d] = n
    return out


async def emerging_themes(session: AsyncSession, agency_id: int | None, days: tuple[int, ...] = (0, 1),
                          today: date | None = None, scope: str = "feedback") -> dict[int, Verdict]:
    """Live, unmuted themes of the agency the rule flags on any of ``days`` (0 today, 1 yesterday)."""
    today = today or riyadh_today()
    first = today - timedelta(days=max(days) + 7 * WEEKS)
    counts = await daily_counts(session, agency_id, first, today, scope)
    themes = (await session.scalars(select(Theme).where(
        Theme.agency_id.is_not_distinct_from(agency_id), Theme.scope == scope, Theme.retired.is_(False),
        Theme.merged_into_id.is_(None), Theme.id.in_(list(counts))))).all()
    out: dict[int, Verdict] = {}
    for theme in themes:
        if theme.emerging_muted_until is not None and theme.emerging_muted_until >= today:
            continue
        by_day = counts[theme.id]
        for back in sorted(days):
            day = today - timedelta(days=back)
            history = [by_day.get(day - timedelta(days=n), 0) for n in range(7 * WEEKS, 0, -1)]
            verdict = judge(history, by_day.get(day, 0))
            if verdict.emerging:
                out[theme.id] = verdict
                break
    return out


async def mute(session: AsyncSession, user: User, theme_id: int, days: int = MUTE_DAYS) -> Theme:
    """Staff silence a theme's emerging flag (dashboard and digest) for ``days`` days."""
    from voice.themes.edits import ThemeService

    theme = await ThemeService(session=session).for_agency(user, theme_id)
    theme.emerging_muted_until = riyadh_today() + timedelta(days=days)
    await audit(session, "theme.mute_emerging", actor=user, target_type="theme", target_id=theme.id,
                agency_id=theme.agency_id, until=theme.emerging_muted_until.isoformat())
    return theme


async def send_digest(session: AsyncSession, agency_id: int, to: str, today: date | None = None) -> bool:
    """E-mail the agency the themes that emerged yesterday; nothing when none did, or when this day's
    digest was already sent (recorded in the audit trail in the same transaction as the e-mail)."""
    from voice.accounts.models import AuditEvent

    today = today or riyadh_today()
    key = f"{agency_id}:{today.isoformat()}"
    if await session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "themes.emerging_digest", AuditEvent.target_id == key).limit(1)):
        return False
    flagged = await emerging_themes(session, agency_id, days=(1,), today=today)
    if not flagged:
        return False
    themes = {t.id: t for t in (await session.scalars(select(Theme).where(Theme.id.in_(list(flagged))))).all()}
    ranked = sorted(flagged.items(), key=lambda kv: kv[1].p_value)

    def body() -> str:
        lines = [_("These themes received far more feedback yesterday than usual:"), ""]
        for theme_id, verdict in ranked:
            lines.append(_("- %(theme)s: %(count)s items (usually about %(expected)s)",
                           theme=themes[theme_id].label, count=verdict.count, expected=round(verdict.expected)))
        lines += ["", _("Open the themes dashboard: %(url)s", url=link("/agency/"))]
        return "\n".join(lines)

    await notify(session, to, body=body, subject=lambda: ngettext(
        "Voice: %(num)s emerging theme", "Voice: %(num)s emerging themes", len(ranked)))
    await audit(session, "themes.emerging_digest", actor=None, target_type="agency_day", target_id=key,
                agency_id=agency_id, themes=sorted(flagged))
    return True


@jobs.periodic(cron="0 5 * * *", periodic_id="emerging-digest")  # 05:00 UTC, 08:00 in Riyadh
@jobs.task(name="voice.emerging_digest", queue="mail", queueing_lock="emerging-digest", retry=resumable(3, wait=60))
async def emerging_digest(timestamp: int) -> int:
    """The daily digest to every active agency with a contact address, one transaction per agency: a
    resumed run skips the agencies already done that day."""
    from voice.catalogue.models import Agency

    async with job_session() as session:
        agencies = (await session.execute(select(Agency.id, Agency.contact_email).where(
            Agency.is_active.is_(True), Agency.contact_email.is_not(None), Agency.contact_email != ""))).all()
    sent = 0
    for agency_id, to in agencies:
        async with job_session() as session:
            sent += await send_digest(session, agency_id, to)
    return sent
