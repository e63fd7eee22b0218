"""What a phone on mobile data sees: Largest Contentful Paint and bytes transferred per public page,
first visit and repeat visit, in headless Chromium under a phone profile.

    python bench/page_weight_bench.py [--runs 3]

A throw-away database (BENCH_DATABASE_URL's server, else the embedded one in .data/bench) gets the
demo data; a real uvicorn server serves it on loopback. Chromium (/usr/bin/chromium or VOICE_CHROMIUM)
opens each page at 390×844 with the network throttled through the DevTools protocol to the profile
Lighthouse calls "Slow 4G" (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and the CPU slowed 4×.
First visit: a new browser context (empty cache). Repeat visit: the same context, the page opened again
from a link (a navigation, not a reload, so the cache rules of the site decide what is fetched).
Bytes are the encoded bytes on the wire (Network.loadingFinished). Median of ``--runs``.
Results: bench/out/page_weight.md (and printed). The budget: LCP ≤ 2.5 s first visit, ≤ 30 KB repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import ROOT, fresh_database, machine, running_server

CHROMIUM = os.environ.get("VOICE_CHROMIUM", "/usr/bin/chromium")
PAGES = {"home": "/", "feedback form": "/feedback/new", "board": "/feedback", "ideas": "/ideas",
         "you said, we did": "/you-said-we-did", "tracking": "/track"}
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6 * 1024 * 1024 / 8,
           "uploadThroughput": 750 * 1024 / 8}
LCP_BUDGET_MS, REPEAT_BUDGET_BYTES = 2500, 30 * 1024

LCP_SCRIPT = """() => new Promise(resolve => {
  new PerformanceObserver(list => { const e = list.getEntries(); resolve(e[e.length - 1].startTime); })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(-1), 10000);
})"""


async def _visit(context, url: str, cdp_page=None):
    page = cdp_page or await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    transferred = 0

    def finished(event: dict) -> None:
        nonlocal transferred
        transferred += int(event.get("encodedDataLength", 0))

    cdp.on("Network.loadingFinished", finished)
    await page.goto(url, wait_until="load")
    lcp = await page.evaluate(LCP_SCRIPT)
    await page.wait_for_timeout(300)  # late loadingFinished events
    await cdp.detach()
    return page, lcp, transferred


async def measure(base: str, runs: int) -> dict[str, dict[str, float]]:
    from playwright.async_api import async_playwright

    results: dict[str, dict[str, list[float]]] = {name: {"lcp1": [], "kb1": [], "lcp2": [], "kb2": []}
                                                  for name in PAGES}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for _ in range(runs):
            for name, path in PAGES.items():
                context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                                    has_touch=True, device_scale_factor=2, locale="ar-SA")
                page, lcp, size = await _visit(context, base + path)
                results[name]["lcp1"].append(lcp)
                results[name]["kb1"].append(size / 1024)
                # Repeat visit: arrive again through a link on the page, as a person would.
                await page.goto("about:blank")
                _page, lcp, size = await _visit(context, base + path, page)
                results[name]["lcp2"].append(lcp)
                results[name]["kb2"].append(size / 1024)
                await context.close()
        await browser.close()
    return {name: {key: statistics.median(values) for key, values in row.items()} for name, row in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with fresh_database() as url:
        subprocess.run([sys.executable, "-m", "voice.cli", "demo", "load"], check=True, cwd=ROOT,
                       env={**os.environ, "DATABASE_URL": url, "VOICE_LOG_LEVEL": "WARNING"}, capture_output=True)
        with running_server(url, workers=1) as (base, _proc):
            table = asyncio.run(measure(base, args.runs))
    lines = [f"Machine: {machine()}; Slow 4G (150 ms, 1.6 Mbit/s), CPU 4× slower; median of {args.runs}.", "",
             "| page | LCP first visit | bytes first visit | LCP repeat | bytes repeat |",
             "|---|---:|---:|---:|---:|"]
    ok = True
    for name, row in table.items():
        ok &= row["lcp1"] <= LCP_BUDGET_MS and row["kb2"] * 1024 <= REPEAT_BUDGET_BYTES
        lines.append(f"| {name} | {row['lcp1']:.0f} ms | {row['kb1']:.1f} KB | {row['lcp2']:.0f} ms | "
                     f"{row['kb2']:.1f} KB |")
    lines += ["", f"Budget (LCP ≤ 2.5 s first visit, ≤ 30 KB repeat): {'met' if ok else 'NOT met'}."]
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "page_weight.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
