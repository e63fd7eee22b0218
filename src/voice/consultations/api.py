"""Consultations JSON API: agencies draft, publish, close and answer (staff Bearer token); everyone reads
published consultations and their reports; signed-in people comment per article."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from voice.catalogue.models import SLUG
from voice.consultations.access import ARTICLE_NUMBERS, MAX_ARTICLES, MAX_REASON, MAX_TITLE, phase
from voice.consultations.controllers import DEPENDENCIES
from voice.consultations.insights import stance_counts
from voice.consultations.models import Consultation, ConsultationComment, Decision, Stance
from voice.consultations.participation import MAX_COMMENT, ConsultationParticipationService
from voice.consultations.response import (
    MAX_AMENDED,
    MAX_SUMMARY,
    ArticleDecision,
    ConsultationResponseService,
    ResponseReport,
)
from voice.consultations.services import AUDIENCES, ArticleDraft, ConsultationDraft, ConsultationService, day
from voice.i18n import get_locale
from voice.ids import MAX_ID
from voice.text import MAX_BODY, MIN_BODY
from voice.web.auth import agency_member, signed_in
from voice.web.openapi import documented, one_of, refusals, whole
from voice.web.throttle import throttle

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
# The rules ``consultations.services.validate`` applies, stated on the fields it checks.
Title = Annotated[str, documented(min_length=MIN_BODY, max_length=MAX_TITLE)]
Text = Annotated[str, documented(min_length=MIN_BODY, max_length=MAX_BODY)]
Day = Annotated[str, documented(format="date")]


def _or_empty(rule: dict[str, int]) -> msgspec.Meta:
    """An optional text: left empty, or one that follows the rule."""
    return documented(any_of=[{"maxLength": 0}, rule])


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    number: Annotated[int, documented(minimum=ARTICLE_NUMBERS[0], maximum=ARTICLE_NUMBERS[-1])]
    text: Text
    title: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_TITLE})] = ""


class ConsultationIn(msgspec.Struct, forbid_unknown_fields=True):
    title_ar: Title
    summary_ar: Text
    opens_on: Day
    closes_on: Day
    articles: Annotated[list[ArticleIn], documented(min_items=1, max_items=MAX_ARTICLES)]
    title_en: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_TITLE})] | None = None
    summary_en: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_BODY})] | None = None
    # All three when left out.
    audience: Annotated[list[str], documented(min_items=1, items={"type": "string", "enum": list(AUDIENCES)})
                        ] | None = None
    # The consulting agency's slug: required with a platform administrator's token, optional (and only the
    # token's own agency) with an agency's.
    agency: Annotated[str, documented(pattern=whole(SLUG))] | None = None


Reason = Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_REASON})]


class CloseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class ExtendIn(msgspec.Struct, forbid_unknown_fields=True):
    closes_on: Day


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    article: int
    stance: Annotated[str, one_of(Stance)]
    body: Annotated[str, documented(min_length=MIN_BODY, max_length=MAX_COMMENT)]


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    number: int
    decision: Annotated[str, one_of(Decision)]
    reason: Reason | None = None
    amended_text: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_AMENDED})] | None = None
    title: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_BODY})] | None = None


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    articles: list[DecisionIn]
    summary: Annotated[str, _or_empty({"minLength": MIN_BODY, "maxLength": MAX_SUMMARY})] | None = None


class ArticleOut(msgspec.Struct):
    number: int
    title: str
    text: str
    support: int
    oppose: int
    suggest: int


class ConsultationOut(msgspec.Struct):
    id: int
    agency: str
    title: str
    summary: str
    status: str
    phase: str  # draft, upcoming, open, ended, reported
    audience: list[str]
    opens_on: str
    closes_on: str
    close_reason: str | None
    comments: int
    report_published: bool
    articles: list[ArticleOut]


class CommentOut(msgspec.Struct):
    id: int
    article: int
    stance: str | None
    body: str
    author_kind: str
    organisation: str | None


class ReportArticleOut(msgspec.Struct):
    number: int
    title: str
    draft_text: str
    decision: str | None
    reason: str | None
    amended_text: str | None
    support: int
    oppose: int
    suggest: int
    themes: list[str]


class ReportOut(msgspec.Struct):
    id: int
    title: str
    summary: str | None
    participants: int
    articles_answered: int
    draft_articles: int
    published_at: str | None
    articles: list[ReportArticleOut]


async def _out(consultations: ConsultationService, c: Consultation, with_counts: bool = True) -> ConsultationOut:
    locale = get_locale()
    counts = await stance_counts(consultations.session, c.id) if with_counts else {}
    return ConsultationOut(
        id=c.id, agency=c.agency.slug, title=c.title(locale), summary=c.summary(locale), status=c.status.value,
        phase=phase(c), audience=list(c.audience or []), opens_on=day(c.opens_on), closes_on=day(c.closes_on),
        close_reason=c.close_reason, comments=c.comments_count, report_published=c.report_published_at is not None,
        articles=[ArticleOut(number=a.number, title=a.title, text=a.body, **({"support": 0, "oppose": 0, "suggest": 0}
                                                                             | counts.get(a.id, {})))
                  for a in c.articles if not a.added_in_report])


def _report_out(report: ResponseReport) -> ReportOut:
    c = report.consultation
    return ReportOut(
        id=c.id, title=c.title(get_locale()), summary=c.report_summary, participants=report.participants,
        articles_answered=report.answered, draft_articles=report.draft_articles,
        published_at=c.report_published_at.isoformat() if c.report_published_at else None,
        articles=[ReportArticleOut(
            number=r.article.number, title=r.article.title, draft_text=r.article.body,
            decision=r.article.decision.value if r.article.decision else None, reason=r.article.reason,
            amended_text=r.article.amended_body, themes=[t.label for t, _n in r.themes], **r.counts)
            for r in report.rows])


def _comment_out(c: ConsultationComment) -> CommentOut:
    return CommentOut(id=c.id, article=c.article.number, stance=c.stance.value if c.stance else None,
                      body=c.body_public, author_kind=c.author_kind.value, organisation=c.organisation)


class AgencyConsultationApi(Controller):
    path = "/api/v1/agency/consultations"
    tags = ["consultations"]
    guards = [agency_member]
    dependencies = DEPENDENCIES

    @post("/", summary="Draft a consultation", status_code=201, middleware=[throttle("api_consultation", 30)],
          description="Dates are YYYY-MM-DD (Riyadh days, both included). Staff publish it separately. "
                      "`agency` is the slug of the agency that consults: an agency's token drafts for its own "
                      "agency (leave `agency` out, or name that agency); a platform administrator's token "
                      "belongs to no agency and must name one.",
          responses=refusals("`closes_on`: on or after `opens_on`; `articles`: each its own number, texts and "
                             "titles as below; `title_ar`, `title_en`, `summary_ar`, `summary_en`: lengths count "
                             "characters once spaces are collapsed, at least 5 besides spaces, plain text (no "
                             "markup); `agency`: required with a platform administrator's token and then an "
                             "active agency; with an agency's token, left out or that agency's own slug."))
    async def create(self, request: Request, data: ConsultationIn, consultations: ConsultationService
                     ) -> ConsultationOut:
        c = await consultations.create(request.user, ConsultationDraft(
            title_ar=data.title_ar, summary_ar=data.summary_ar, title_en=data.title_en, summary_en=data.summary_en,
            opens_on=data.opens_on, closes_on=data.closes_on, audience=data.audience, agency=data.agency,
            articles=[ArticleDraft(number=a.number, title=a.title, text=a.text) for a in data.articles]))
        return await _out(consultations, c, with_counts=False)

    @get("/", summary="The agency's consultations, drafts included")
    async def mine(self, request: Request, consultations: ConsultationService) -> list[ConsultationOut]:
        return [await _out(consultations, c, with_counts=False) for c in await consultations.for_agency(request.user)]

    @post("/{consultation_id:int}/publish", summary="Publish a draft", status_code=200)
    async def publish(self, request: Request, consultation_id: Id, consultations: ConsultationService
                      ) -> ConsultationOut:
        return await _out(consultations, await consultations.publish(request.user, consultation_id))

    @post("/{consultation_id:int}/extend", summary="Move the closing date later", status_code=200,
          responses=refusals("`closes_on`: later than the current closing day, and not in the past."))
    async def extend(self, request: Request, consultation_id: Id, data: ExtendIn,
                     consultations: ConsultationService) -> ConsultationOut:
        return await _out(consultations, await consultations.extend(request.user, consultation_id, data.closes_on))

    @post("/{consultation_id:int}/close", summary="Close (before the last day, with a reason)", status_code=200,
          responses=refusals("`reason`: needed before the last day; at least 5 characters besides spaces, plain "
                             "text."))
    async def close(self, request: Request, consultation_id: Id, consultations: ConsultationService,
                    data: CloseIn | None = None) -> ConsultationOut:
        c = await consultations.close(request.user, consultation_id, data.reason if data else None)
        return await _out(consultations, c)

    @post("/{consultation_id:int}/report", summary="Publish the response report", status_code=200,
          description="A decision per article: kept, amended (with `amended_text`), removed, or added (a new "
                      "number, with `title` and `amended_text`); a reason for all but kept. Participants are "
                      "e-mailed the first time.",
          responses=refusals("`articles`: a draft article's number (a new one, 1–9999, for added), each decided "
                             "once, at least one decision; `reason`: needed for all but kept; `amended_text`: "
                             "needed for added; texts: at least 5 characters besides spaces, plain text."))
    async def report(self, request: Request, consultation_id: Id, data: ReportIn,
                     responses: ConsultationResponseService) -> ReportOut:
        c = await responses.record(request.user, consultation_id, [ArticleDecision(
            number=d.number, decision=d.decision, reason=d.reason, amended_text=d.amended_text, title=d.title)
            for d in data.articles], summary=data.summary)
        return _report_out(await responses.build(c))


class ConsultationApi(Controller):
    path = "/api/v1/consultations"
    tags = ["consultations"]
    dependencies = DEPENDENCIES

    @get("/", summary="Published consultations, open ones first")
    async def list_public(self, consultations: ConsultationService) -> list[ConsultationOut]:
        return [await _out(consultations, c, with_counts=False) for c in await consultations.public()]

    @get("/{consultation_id:int}", summary="One consultation with its articles and stance counts")
    async def show(self, request: Request, consultation_id: Id, consultations: ConsultationService
                   ) -> ConsultationOut:
        return await _out(consultations, await consultations.visible(consultation_id, request.scope.get("user")))

    @post("/{consultation_id:int}/comments", summary="Give your view on an article", status_code=201,
          guards=[signed_in], middleware=[throttle("api_consultation_comment", 30)],
          description="`stance` is support, oppose or suggest. One view per person and article while the "
                      "consultation is open (409 for a second one); businesses and agencies speak as such.",
          responses=refusals("`article`: the number of one of the consultation's articles; `body`: at least 5 "
                             "characters besides spaces, plain text (no markup)."))
    async def comment(self, request: Request, consultation_id: Id, data: CommentIn,
                      participation: ConsultationParticipationService) -> CommentOut:
        return _comment_out(await participation.comment(consultation_id, request.user, data.article, data.stance,
                                                        data.body))

    @get("/{consultation_id:int}/report", summary="The published response report")
    async def report(self, request: Request, consultation_id: Id, responses: ConsultationResponseService
                     ) -> ReportOut:
        return _report_out(await responses.public(consultation_id, request.scope.get("user")))
