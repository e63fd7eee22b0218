"""The whole demo site for the every-page browser test: the demo data set loaded through its own loader,
one account per role, and every page of the app's route table with its path filled from those records.

The pages come from the route table, not from a list: a new GET route is visited by every role as soon as
it exists, and a new path parameter without a seeded value fails the test until one is given here.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.services import IdeaDraft, IdeaService
from voice.accounts.models import TokenPurpose, User
from voice.accounts.onetime import AccountTokenService
from voice.awards.models import Edition, EditionStatus, Entry, JudgeAssignment, ResultSnapshot
from voice.catalogue.models import Agency
from voice.consultations.models import Consultation
from voice.demo.loader import load_demo, read
from voice.feedback.models import Feedback, Moderation
from voice.themes.models import Theme, ThemeRun
from voice.web.auth import is_api_path
from voice.workspace.models import Improvement

# The agency whose staff sign in: the demo's closed consultation with its report is theirs.
AGENCY = "momrah"
# GET routes that are not pages a person reads, and why. Everything else in the route table is visited.
NOT_PAGES = {
    "/static/{name:path}": "the static files themselves",
    "/health": "a probe for the orchestrator",
    "/metrics": "Prometheus text for the monitoring system",
    "/attachments/{attachment_id:int}": "serves an uploaded file (an image or a PDF), never a page",
}
NOT_PAGE_PREFIXES = ("/schema",)  # the OpenAPI document and its third-party viewers
# Pages this server cannot show to anybody, and where they are tested instead. The test fails when one of
# them becomes reachable here (then it is visited like the rest and leaves this list).
ELSEWHERE = {
    "/signin/code": "the second sign-in step: this server signs staff in with a password alone "
                    "(VOICE_REQUIRE_TWO_FACTOR=off); test_administration.py walks it on a strict server",
    "/signin/enrol": "enrolling an authenticator, the same (test_administration.py)",
    "/signin/sso": "national single sign-on needs an OpenID provider, none here (tests/test_sign_in.py)",
    "/signin/sso/callback": "the OpenID provider's return, the same (tests/test_sign_in.py)",
}
# Pages whose only face is a refusal: a live e-mail verification link signs the person in and redirects,
# so what a browser ever shows at /verify is the localized "this link is not valid" page.
REFUSALS = {"/verify": 422}


@dataclass(frozen=True)
class Account:
    role: str  # how the test names it: anonymous, citizen, staff, agency-admin, admin, judge
    email: str | None
    lands_on: str  # a page the role must reach (so a role that reaches nothing is noticed)


@dataclass
class DemoSite:
    accounts: list[Account]
    values: dict[str, str]  # path parameter -> value
    by_route: dict[str, dict[str, str]]  # route path -> parameter -> value, where one name means two records
    queries: dict[str, str]  # route path -> query string (the one-time links e-mails carry)

    def fill(self, route: str) -> str:
        """The route's path with its parameters filled; KeyError names a parameter nothing was seeded for."""
        given = {**self.values, **self.by_route.get(route, {})}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in given:
                raise KeyError(f"{route}: no seeded value for the path parameter {name!r} (add it in tests/browser/site.py)")
            return given[name]

        path = re.sub(r"\{(\w+)(?::\w+)?\}", value, route)
        return f"{path}?{self.queries[route]}" if route in self.queries else path


def page_kind(status: int, headers: dict[str, str], body: bytes, refusal: int | None = None) -> str:
    """What an answer is to the visitor: "page" (a full HTML document, or an error: 5xx, or a 4xx that is not a
    refusal), "refused" (401, 403, 404 for a record that is not theirs, or sent to sign in), "redirect", or
    "not html" (exports, JSON, htmx fragments)."""
    location = urlsplit(headers.get("location", "")).path
    if status in (401, 403, 404) or (300 <= status < 400 and location.startswith("/signin")):
        return "refused"
    if 300 <= status < 400:
        return "redirect"  # the page it leads to is in the route table and visited on its own
    if status >= 400 and status != refusal:
        return "page"
    html = headers.get("content-type", "").startswith("text/html")
    return "page" if html and body[:200].lstrip().lower().startswith(b"<!doctype html") else "not html"


def page_routes(app: Any) -> list[str]:
    """Every GET route of the app that may answer a page (API paths answer API clients, not browsers)."""
    routes = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in (getattr(handler, "http_methods", None) or ()):
                continue
            path = route.path
            if path in NOT_PAGES or is_api_path(path) or path.startswith(NOT_PAGE_PREFIXES):
                continue
            routes.add(path)
    return sorted(routes)


async def _one(db: AsyncSession, statement: Any) -> Any:
    found = await db.scalar(statement.limit(1))
    assert found is not None, f"the demo data has no row for {statement}"
    return found


async def demo_site(db: AsyncSession, wait_for_themes: float = 600) -> DemoSite:
    """Load the demo; returns the accounts and path values. Waits (up to ``wait_for_themes`` seconds) for
    the live server's worker to find the agency's themes, so the theme pages have one to show."""
    await load_demo(db)
    await db.commit()
    people = read("people.json")
    staff = {p["role"]: p["email"] for p in people["staff"] if p["agency"] == AGENCY}
    judge_email = people["judges"][0]["email"]
    citizen_email = next(p["email"] for p in people["citizens"] if p["kind"] == "individual")
    citizen = await _one(db, select(User).where(User.email == citizen_email))
    # A fresh idea of the citizen's, not yet reviewed: its edit page is open to its author.
    idea = await IdeaService(db).submit(IdeaDraft(
        title="مواقف مظللة أمام مراكز الخدمة", description="تظليل مواقف المراجعين أمام مراكز الخدمة في فصل الصيف"), citizen)
    # The links the invitation and password-reset e-mails carry (opening them uses nothing up).
    tokens = AccountTokenService(session=db)
    invited = await _one(db, select(User).where(User.email == staff["agency_staff"]))
    queries = {"/password/reset": f"token={await tokens.issue(citizen, TokenPurpose.PASSWORD_RESET)}",
               "/invitation": f"token={await tokens.issue(invited, TokenPurpose.INVITATION)}"}
    await db.commit()

    agency = await _one(db, select(Agency).where(Agency.slug == AGENCY))
    item = await _one(db, select(Feedback).where(Feedback.agency_id == agency.id, Feedback.publish.is_(True),
                                                 Feedback.moderation == Moderation.VISIBLE).order_by(Feedback.id))
    improvement = await _one(db, select(Improvement.id).where(Improvement.agency_id == agency.id))
    consultation = await _one(db, select(Consultation.id).where(Consultation.agency_id == agency.id))
    past = await _one(db, select(Edition).where(Edition.status == EditionStatus.RESULTS_PUBLISHED))
    current = await _one(db, select(Edition).where(Edition.status == EditionStatus.JUDGING))
    judge = await _one(db, select(User).where(User.email == judge_email))
    judged = await _one(db, select(Entry.id).join(JudgeAssignment, JudgeAssignment.branch_id == Entry.branch_id)
                        .where(Entry.edition_id == current.id, JudgeAssignment.judge_id == judge.id)
                        .order_by(Entry.id))
    result = await _one(db, select(ResultSnapshot.entry_id).where(ResultSnapshot.edition_id == past.id)
                        .order_by(ResultSnapshot.rank))
    branch = await _one(db, select(Entry.branch_id).where(Entry.edition_id == current.id,
                                                          Entry.agency_id == agency.id))
    values = {
        "feedback_id": str(item.id), "code": item.tracking_code, "improvement_id": str(improvement),
        "idea_id": str(idea.id), "consultation_id": str(consultation), "edition_id": str(current.id),
        "agency_slug": AGENCY, "slug": AGENCY, "entry_id": str(judged), "branch_id": str(branch),
        "user_id": str(citizen.id), "fmt": "csv", "what": "inbox.csv",
    }
    by_route = {
        "/awards/results/{entry_id:int}": {"entry_id": str(result)},
        "/awards/editions/{edition_id:int}/results": {"edition_id": str(past.id)},
    }
    agency_id, run = agency.id, None
    for _ in range(int(wait_for_themes * 2)):
        run = await db.scalar(select(ThemeRun).where(ThemeRun.agency_id == agency_id, ThemeRun.scope == "feedback")
                              .order_by(ThemeRun.id.desc()))
        if run is not None and run.status in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.5)
        await db.rollback()  # a new snapshot next time
    assert run is not None and run.status == "succeeded", f"the demo's theme run for {AGENCY}: {run and run.status}"
    values["run_id"] = str(run.id)
    values["theme_id"] = str(await _one(db, select(Theme.id).where(Theme.agency_id == agency_id,
                                                                   Theme.scope == "feedback")))

    return DemoSite(
        accounts=[
            Account("anonymous", None, "/"),
            Account("citizen", citizen_email, "/account/contributions"),
            Account("staff", staff["agency_staff"], "/agency/inbox"),
            Account("agency-admin", staff["agency_admin"], "/agency/profile"),
            Account("admin", people["admin"]["email"], "/admin"),
            Account("judge", judge_email, "/awards/judging"),
        ],
        values=values, by_route=by_route, queries=queries)
