"""axe-core on the main pages, as a visitor and as agency staff: no serious or critical violations.

axe is injected with ``context.add_init_script`` (Chrome DevTools' "evaluate on new document"), which
the page's Content-Security-Policy does not govern; ``page.add_script_tag`` would add an inline
<script> that the CSP rightly refuses. So the pages are audited with their real CSP on — no
``bypass_csp`` — and the console watch still catches anything the CSP blocks.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from .seed import pages_to_visit
from .support import AXE, DESKTOP, PHONE, RUN_AXE, check_page, new_page, sign_in

pytestmark = pytest.mark.browser

PUBLIC = ["/", "/feedback/new", "/feedback", "/track", "/signin", "/signup", "/ideas", "/you-said-we-did"]
STAFF = ["/agency", "/agency/inbox"]


async def _audit(page, url: str, name: str, watch) -> list[str]:
    await page.goto(url)
    try:
        await check_page(page, name, watch)
    except AssertionError as exc:  # reported with the rest, so one run shows every problem
        return [str(exc)]
    found = await page.evaluate(RUN_AXE)
    return [f"{url}: [{v['impact']}] {v['id']} — {v['help']}\n      " + "\n      ".join(v["nodes"]) for v in found]


async def test_main_pages_have_no_serious_accessibility_violations(browser, live_server: str,
                                                                  db: AsyncSession) -> None:
    seeded = await pages_to_visit(db)
    problems: list[str] = []
    for label, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page, watch = await new_page(browser, **options)
        await context.add_init_script(path=str(AXE))
        try:
            for path in [*PUBLIC, seeded["track"], seeded["idea"]]:
                problems += await _audit(page, live_server + path, f"a11y-{label}{path.replace('/', '_')}", watch)
            await sign_in(page, live_server, seeded["staff"])
            for path in STAFF:
                problems += await _audit(page, live_server + path, f"a11y-{label}-staff{path.replace('/', '_')}",
                                         watch)
        finally:
            await context.close()
    assert not problems, "serious/critical axe violations:\n" + "\n".join(sorted(set(problems)))
