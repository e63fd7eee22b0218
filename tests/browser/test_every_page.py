"""Every page of every role, at 360×780 and 1366×900, in Arabic and English, on the whole demo data set:
the page answers without a 4xx or 5xx (nor do the files it loads), nothing scrolls sideways, and axe-core
finds no serious or critical violation. Screenshots go to test-artifacts/screenshots/every-*.png.

The pages are the app's GET routes (tests/browser/site.py), so a new page is covered as soon as it is
routed. A role "reaches" a page unless the app refuses it (401 or 403) or sends it to sign in; answers
that are not full HTML documents (CSV and XLSX exports, JSON, htmx fragments) are not pages and are skipped.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tests.arabic_scan import page_problems, untranslated, visible_text
from tests.conftest import empty_tables
from voice.demo.loader import DEMO_PASSWORD

from .site import ELSEWHERE, REFUSALS, DemoSite, demo_site, page_kind, page_routes
from .support import AXE, BROKEN_WORDS, RUN_AXE, check_page, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

SIZES = {
    "360": {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1},
    "1366": {"viewport": {"width": 1366, "height": 900}},
}
ROLES = ("anonymous", "citizen", "staff", "agency-admin", "admin", "judge")


@pytest.fixture(scope="module")
async def site(engine: AsyncEngine, live_server: str) -> DemoSite:
    """The demo data set, loaded once for the module (the live server's worker finds its themes)."""
    await empty_tables(engine, keep="procrastinate")
    async with async_sessionmaker(engine, expire_on_commit=False)() as db:
        return await demo_site(db)


def _failed_files(page: Any, base: str) -> list[str]:
    """The app's files (styles, scripts, fonts, images) a page asked for and did not get, as they happen."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.url} ({r.status})") if r.status >= 400 and
            r.url.startswith(base) and r.request.resource_type != "document" else None)
    return failed


async def _visit(page: Any, base: str, path: str, name: str, lang: str, watch: Any, failed: list[str],
                 refusal: int | None = None) -> tuple[str, list[str]]:
    """("page", problems), or why it is not a page for this visitor: "refused", "not html"."""
    probe = await page.context.request.get(base + path, max_redirects=0)
    kind = page_kind(probe.status, probe.headers, await probe.body(), refusal)
    if kind != "page":
        return kind, []
    failed.clear()
    answer = await page.goto(base + path)
    if answer is None or (answer.status >= 400 and answer.status != refusal):
        return "page", [f"{path}: answers {answer and answer.status}"]
    try:
        await check_page(page, name, watch, rtl=lang == "ar")
    except AssertionError as exc:
        return "page", [str(exc)]
    problems = [f"{path}: loads {f}" for f in failed]
    # The proof-reader's scan of tests/arabic_scan.py: one digit set, and number-noun agreement in Arabic.
    html = await page.content()
    problems += [f"{path}: {p}" for p in page_problems(html, lang)]
    problems += [f"{path}: untranslated: {line[:120]}" for line in untranslated(visible_text(html), lang)]
    problems += [f"{path}: word broken inside: {w}" for w in await page.evaluate(BROKEN_WORDS)]
    for v in await page.evaluate(RUN_AXE):
        problems.append(f"{path}: [{v['impact']}] {v['id']} — {v['help']}\n      " + "\n      ".join(v["nodes"]))
    return "page", problems


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("role", ROLES)
async def test_every_page_of_the_role_works_on_a_phone_and_a_desktop(browser, live_server: str, app: Any,
                                                                      site: DemoSite, role: str, lang: str) -> None:
    account = next(a for a in site.accounts if a.role == role)
    routes = page_routes(app)
    problems: list[str] = []
    reached: dict[str, set[str]] = {}
    for size, options in SIZES.items():
        context, page, watch = await new_page(browser, **options, locale="ar-SA" if lang == "ar" else "en-GB")
        await context.add_init_script(path=str(AXE))
        failed = _failed_files(page, live_server)
        try:
            await page.goto(f"{live_server}/?lang={lang}")
            if account.email:
                await sign_in(page, live_server, account.email, DEMO_PASSWORD)
            for route in routes:
                path = site.fill(route)
                name = f"every-{role}-{size}-{lang}{path.partition('?')[0].replace('/', '_')}"
                kind, found = await _visit(page, live_server, path, name, lang, watch, failed, REFUSALS.get(route))
                reached.setdefault(kind, set()).add(path)
                problems += [f"[{role} {size} {lang}] {p}" for p in found]
        finally:
            await context.close()
    assert account.lands_on in reached.get("page", set()), (
        f"{role} does not reach {account.lands_on}; reached: {sorted(reached.get('page', ()))}")
    assert not problems, f"{len(problems)} problems on {len(reached.get('page', ()))} pages:\n" + "\n".join(problems)


async def test_every_page_is_some_role_s_page(browser, live_server: str, app: Any, site: DemoSite) -> None:
    """Refusals (401, 403, 404) are how a role is kept out; but every route is a page for somebody, so a
    page broken for everyone, or a seeded value that points at nothing, does not pass as a refusal."""
    routes = page_routes(app)
    reached: dict[str, set[str]] = {route: set() for route in routes}
    errors: list[str] = []
    for account in site.accounts:
        context, page, _watch = await new_page(browser)
        try:
            if account.email:
                await sign_in(page, live_server, account.email, DEMO_PASSWORD)
            for route in routes:
                probe = await context.request.get(live_server + site.fill(route), max_redirects=0)
                if probe.status >= 500:
                    errors.append(f"{account.role}: {route} answers {probe.status}")
                if page_kind(probe.status, probe.headers, await probe.body(), REFUSALS.get(route)) != "refused":
                    reached[route].add(account.role)
        finally:
            await context.close()
    assert not errors, errors
    unreached = {r for r, roles in reached.items() if not roles}
    assert unreached == set(ELSEWHERE), (
        f"routes no role reaches: {sorted(unreached - set(ELSEWHERE))}; "
        f"reached now, to leave ELSEWHERE: {sorted(set(ELSEWHERE) - unreached)}")
