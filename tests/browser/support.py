"""What every browser test checks on every page, and small helpers to drive the app."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.factories import PASSWORD

from .conftest import ARTIFACTS

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "ar-SA",
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0 Mobile Safari/537.36"}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "ar-SA"}

# axe-core, injected with ``context.add_init_script(path=str(AXE))`` so the page's CSP still applies (see
# test_accessibility.py); RUN_AXE returns its serious and critical violations.
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))
  }));
}"""

_LAYOUT = """() => {
  const width = window.innerWidth;
  const offenders = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 1 && (r.right > width + 1 || r.left < -1)) {
      const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      offenders.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  return {contentType: document.contentType, dir: document.documentElement.dir, lang: document.documentElement.lang,
          scrollWidth: document.documentElement.scrollWidth, innerWidth: width, offenders: offenders.slice(0, 8)};
}"""


# Words of letters that the browser wrapped inside the word (lines of one word at two heights): a word broken
# in the middle. Addresses, codes and numbers may wrap on a phone; words may not.
BROKEN_WORDS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    // Text not drawn (a closed <details>, visually hidden labels) has no lines to break.
    if (!parent || parent.closest('script, style, textarea, [hidden], [aria-hidden=true]')) continue;
    if (!parent.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const box = parent.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    for (const m of node.textContent.matchAll(/[\\p{L}\\p{M}]{2,}/gu)) {
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (rects.length < 2) continue;
      const tops = rects.map(r => r.top);
      if (Math.max(...tops) - Math.min(...tops) > rects[0].height / 2) found.push(m[0]);
      if (found.length >= 8) return found;
    }
  }
  return found;
}"""


@dataclass
class Watch:
    """Console errors and CSP refusals seen by one browser context (a broken page script shows here)."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))


async def new_page(browser: Any, **options: Any) -> tuple[Any, Any, Watch]:
    context = await browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    watch = Watch()
    watch.attach(page)
    return context, page, watch


async def check_page(page: Any, name: str, watch: Watch | None = None, rtl: bool = True) -> None:
    """The page is right-to-left (Arabic), nothing overflows sideways, no CSP refusal; screenshot saved."""
    await page.wait_for_load_state("load")
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(shots / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"), full_page=True)
    layout = await page.evaluate(_LAYOUT)
    where = f"{name} ({page.url})"
    assert layout["contentType"] == "text/html", f"{where} is served as {layout['contentType']}, not as a page"
    if rtl:
        assert layout["dir"] == "rtl" and layout["lang"] == "ar", f"{where}: dir={layout['dir']} lang={layout['lang']}"
    assert layout["scrollWidth"] <= layout["innerWidth"], (
        f"{where} overflows horizontally: scrollWidth {layout['scrollWidth']} > {layout['innerWidth']}; "
        f"widest elements: {layout['offenders']}")
    if watch is not None:
        refused = [e for e in watch.errors if "Content Security Policy" in e or e.startswith("page error")]
        assert not refused, f"{where}: {refused}"


async def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/signin")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    async with page.expect_navigation():
        await page.click("form[action='/signin'] button[type=submit]")
    assert "/signin" not in page.url, f"sign-in failed for {email}: {page.url}"
