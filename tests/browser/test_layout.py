"""Phone first, for every role, in both languages: at 360×780 and 1366×900 no page scrolls sideways, no word
is broken inside, every status badge is legible (contrast ≥ 4.5:1), the interface uses one digit set, charts
run right to left in Arabic; screenshots are saved for a person to look at."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.arabic_scan import page_problems

from .seed import pages_to_visit
from .support import check_page, new_page, sign_in

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
WIDE = {"viewport": {"width": 1366, "height": 900}}

# Words split across two lines (a range around one word with two boxes), badges whose text does not stand out.
_READING = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script,style,svg,textarea,code,[dir="ltr"],.visually-hidden,option')) continue;
    const closed = parent.closest('details:not([open])');
    if (closed && !parent.closest('summary')) continue;  // not shown until opened
    const style = getComputedStyle(parent);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const re = /[^\\s\\u200f\\u200e]{2,24}/g;
    let m;
    while ((m = re.exec(node.data))) {
      if (/[\\/@:.]/.test(m[0])) continue;  // addresses and codes may wrap
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const badges = [];
  for (const el of document.querySelectorAll('.badge')) {
    const s = getComputedStyle(el);
    let bg = rgb(s.backgroundColor);
    if (bg.length === 4 && bg[3] === 0) bg = [255, 255, 255];
    const fg = rgb(s.color);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) badges.push(`${el.className} "${el.textContent.trim()}" ${ratio.toFixed(2)}`);
  }
  const charts = [...document.querySelectorAll('svg.chart')].map(s => s.dataset.direction);
  return {broken: broken.slice(0, 10), badges, charts, wrap: getComputedStyle(document.body).overflowWrap};
}"""


async def _look(page, url: str, name: str, lang: str, watch) -> list[str]:
    await page.goto(url)
    try:
        await check_page(page, name, watch, rtl=lang == "ar")
    except AssertionError as exc:
        return [str(exc)]
    seen = await page.evaluate(_READING)
    problems = [f"{url} [{lang}]: word broken inside: {w}" for w in seen["broken"]]
    problems += [f"{url} [{lang}]: badge contrast below 4.5: {b}" for b in seen["badges"]]
    if seen["wrap"] == "anywhere":
        problems.append(f"{url}: body breaks words anywhere")
    if lang == "ar":
        problems += [f"{url}: chart not right to left" for d in seen["charts"] if d != "rtl"]
    problems += [f"{url} [{lang}]: {p}" for p in page_problems(await page.content(), lang)]
    return problems


async def test_every_page_reads_well_on_a_phone_and_a_desktop(browser, live_server: str, db: AsyncSession) -> None:
    seeded = await pages_to_visit(db)
    public = ["/", "/feedback/new", "/feedback", "/track", seeded["track"], "/ideas", seeded["idea"],
              "/you-said-we-did", "/signin", seeded["public_item"], "/consultations"]
    staff = ["/agency", "/agency/inbox", seeded["item"], "/agency/transfers", "/agency/improvements", "/agency/charts"]
    problems: list[str] = []
    for size, options in (("360", NARROW), ("1366", WIDE)):
        for lang in ("ar", "en"):
            context, page, watch = await new_page(browser, **options, locale="ar-SA" if lang == "ar" else "en-GB")
            try:
                await page.goto(f"{live_server}/?lang={lang}")
                for path in public:
                    problems += await _look(page, live_server + path, f"layout-{size}-{lang}{path.replace('/', '_')}",
                                            lang, watch)
                await sign_in(page, live_server, seeded["staff"])
                for path in staff:
                    problems += await _look(page, live_server + path,
                                            f"layout-{size}-{lang}-staff{path.replace('/', '_')}", lang, watch)
            finally:
                await context.close()
    assert not problems, "\n".join(problems)
