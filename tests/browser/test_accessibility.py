"""axe-core on the main pages, as a visitor and as agency staff: no serious or critical violations.

axe is injected with ``context.add_init_script`` (Chrome DevTools' "evaluate on new document"), which
the page's Content-Security-Policy does not govern; ``page.add_script_tag`` would add an inline
<script> that the CSP rightly refuses. So the pages are audited with their real CSP on — no
``bypass_csp`` — and the console watch still catches anything the CSP blocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from .seed import pages_to_visit
from .support import DESKTOP, PHONE, check_page, new_page, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PUBLIC = ["/", "/feedback/new", "/feedback", "/track", "/signin", "/signup", "/ideas", "/you-said-we-did"]
STAFF = ["/agency", "/agency/inbox"]

_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))
  }));
}"""


async def _audit(page, url: str, name: str, watch) -> list[str]:
    await page.goto(url)
    try:
        await check_page(page, name, watch)
    except AssertionError as exc:  # reported with the rest, so one run shows every problem
        return [str(exc)]
    found = await page.evaluate(_RUN_AXE)
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
