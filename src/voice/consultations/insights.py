"""What staff read from the comments: stance counts per article, themes per consultation and per article
(the platform's theme engine, one scope per consultation), representative comments, and who took part."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from voice.accounts.models import User
from voice.consultations.access import ConsultationRepository, managed_consultation
from voice.consultations.models import THEME_FAMILY, Consultation, ConsultationComment, Stance
from voice.db import DomainService
from voice.themes.models import Theme, ThemeRun
from voice.themes.services import request_refresh
from voice.themes.sources import family_scope

REPRESENTATIVE = 3  # comments shown per article and per theme


def theme_scope(consultation_id: int) -> str:
    return family_scope(THEME_FAMILY, consultation_id)


@dataclass
class ArticleInsight:
    article_id: int
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Stance})
    themes: list[tuple[Theme, int]] = field(default_factory=list)  # (theme, comments on this article)
    representative: list[ConsultationComment] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Insights:
    consultation: Consultation
    articles: dict[int, ArticleInsight]
    themes: list[Theme]
    participants: dict[str, int]  # kind → distinct people
    comments: int
    replies: int
    run: ThemeRun | None


async def stance_counts(session, consultation_id: int) -> dict[int, dict[str, int]]:
    """Visible stances per article id: {article_id: {support, oppose, suggest}}."""
    rows = (await session.execute(select(ConsultationComment.article_id, ConsultationComment.stance,
                                         func.count()).where(
        ConsultationComment.consultation_id == consultation_id, ConsultationComment.parent_id.is_(None),
        ConsultationComment.hidden.is_(False)).group_by(ConsultationComment.article_id,
                                                          ConsultationComment.stance))).all()
    counts: dict[int, dict[str, int]] = {}
    for article_id, stance, n in rows:
        counts.setdefault(article_id, {s.value: 0 for s in Stance})[stance.value] = int(n)
    return counts


async def article_themes(session, consultation: Consultation) -> tuple[list[Theme], dict[int, list[tuple[Theme, int]]]]:
    """The consultation's live themes (biggest first) and, per article id, its themes with counts."""
    themes = list((await session.scalars(select(Theme).where(
        Theme.agency_id == consultation.agency_id, Theme.scope == theme_scope(consultation.id),
        Theme.retired.is_(False)).order_by(Theme.size.desc(), Theme.id))).all())
    by_id = {t.id: t for t in themes}
    rows = (await session.execute(select(ConsultationComment.article_id, ConsultationComment.theme_id, func.count())
                                  .where(ConsultationComment.consultation_id == consultation.id,
                                         ConsultationComment.parent_id.is_(None),
                                         ConsultationComment.hidden.is_(False),
                                         ConsultationComment.theme_id.is_not(None))
                                  .group_by(ConsultationComment.article_id, ConsultationComment.theme_id))).all()
    per_article: dict[int, list[tuple[Theme, int]]] = {}
    for article_id, theme_id, n in rows:
        if theme_id in by_id:
            per_article.setdefault(article_id, []).append((by_id[theme_id], int(n)))
    for pairs in per_article.values():
        pairs.sort(key=lambda p: (-p[1], p[0].id))
    return themes, per_article


class ConsultationInsightService(DomainService[Consultation]):
    repository_type = ConsultationRepository

    async def read(self, user: User | None, consultation_id: int) -> Insights:
        consultation = await managed_consultation(self.session, consultation_id, user)
        counts = await stance_counts(self.session, consultation.id)
        themes, per_article = await article_themes(self.session, consultation)
        favourites = {i for t in themes for i in (t.representative_ids or [])}
        articles: dict[int, ArticleInsight] = {}
        for article in consultation.articles:
            insight = ArticleInsight(article_id=article.id, themes=per_article.get(article.id, []))
            insight.counts.update(counts.get(article.id, {}))
            articles[article.id] = insight
        # Representative comments: the theme engine's picks first, then the longest texts (they say most).
        comments = (await self.session.scalars(select(ConsultationComment).where(
            ConsultationComment.consultation_id == consultation.id, ConsultationComment.parent_id.is_(None),
            ConsultationComment.hidden.is_(False)).order_by(
            ConsultationComment.id.in_(favourites or {0}).desc(), func.length(ConsultationComment.body_public).desc(),
            ConsultationComment.id).limit(50 * max(1, len(articles))))).unique().all()
        for comment in comments:
            bucket = articles.get(comment.article_id)
            if bucket is not None and len(bucket.representative) < REPRESENTATIVE:
                bucket.representative.append(comment)
        participants = dict((k.value, int(n)) for k, n in (await self.session.execute(
            select(ConsultationComment.author_kind, func.count(func.distinct(ConsultationComment.author_id)))
            .where(ConsultationComment.consultation_id == consultation.id, ConsultationComment.hidden.is_(False))
            .group_by(ConsultationComment.author_kind))).all())
        replies = int(await self.session.scalar(select(func.count()).where(
            ConsultationComment.consultation_id == consultation.id, ConsultationComment.parent_id.is_not(None),
            ConsultationComment.hidden.is_(False))) or 0)
        run = await self.session.scalar(select(ThemeRun).where(
            ThemeRun.agency_id == consultation.agency_id, ThemeRun.scope == theme_scope(consultation.id))
            .order_by(ThemeRun.id.desc()).limit(1))
        return Insights(consultation=consultation, articles=articles, themes=themes, participants=participants,
                        comments=sum(a.total for a in articles.values()), replies=replies, run=run)

    async def refresh_themes(self, user: User | None, consultation_id: int) -> ThemeRun:
        """Queue a theme run over the consultation's comments (the same engine and job as feedback)."""
        consultation = await managed_consultation(self.session, consultation_id, user)
        return await request_refresh(self.session, consultation.agency_id, user, scope=theme_scope(consultation.id))

    async def theme_comments(self, user: User | None, consultation_id: int, theme_id: int,
                             limit: int = 200) -> list[ConsultationComment]:
        consultation = await managed_consultation(self.session, consultation_id, user)
        return list((await self.session.scalars(select(ConsultationComment).where(
            ConsultationComment.consultation_id == consultation.id, ConsultationComment.theme_id == theme_id,
            ConsultationComment.hidden.is_(False)).order_by(ConsultationComment.theme_score.desc().nulls_last(),
                                                             ConsultationComment.id).limit(limit))).unique().all())
