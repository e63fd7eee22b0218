"""Small server-rendered SVG charts: no JavaScript, no CDN, readable in RTL and in print."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ["#0b6e4f", "#c17c00", "#3a6ea5", "#a23b72", "#5b8c2a", "#7a5c99"]


def sparkline(values: Sequence[int | float], width: int = 120, height: int = 28, label: str = "") -> Markup:
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    return Markup(
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}"><polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" '
        f'points="{points}"/></svg>'
    )


def bars(labels: Sequence[str], values: Sequence[float], title: str, unit: str = "", width: int = 640,
         height: int = 220, max_value: float | None = None) -> Markup:
    """Vertical bars with labels under them; values printed on top. Order left→right is chronological."""
    if not values:
        return Markup("")
    top = max_value or max(values) or 1
    n = len(values)
    gap = 6
    bar_w = (width - gap * (n + 1)) / n
    chart_h = height - 40
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'direction="ltr"><title>{escape(title)}</title>']
    for i, (lab, val) in enumerate(zip(labels, values, strict=True)):
        h = (val / top) * (chart_h - 16)
        x = gap + i * (bar_w + gap)
        y = chart_h - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle">'
                     f'{escape(_fmt(val))}{escape(unit)}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{chart_h + 14}" font-size="10" text-anchor="middle">'
                     f'{escape(lab)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(series: dict[str, Sequence[int]], x_labels: Sequence[str], title: str, width: int = 640,
          height: int = 240) -> Markup:
    """Several series over the same x axis, with a legend."""
    if not series:
        return Markup("")
    top = max((max(v) for v in series.values() if v), default=1) or 1
    n = len(x_labels)
    chart_h = height - 60
    step = (width - 20) / max(n - 1, 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'direction="ltr"><title>{escape(title)}</title>']
    for idx, (name, values) in enumerate(series.items()):
        color = PALETTE[idx % len(PALETTE)]
        pts = " ".join(f"{10 + i * step:.1f},{chart_h - (v / top) * (chart_h - 10):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        ly = chart_h + 20 + (idx // 3) * 14
        lx = 10 + (idx % 3) * (width / 3)
        parts.append(f'<rect x="{lx:.0f}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14:.0f}" y="{ly + 1}" font-size="11">{escape(name[:40])}</text>')
    for i in (0, n - 1):
        if 0 <= i < n:
            parts.append(f'<text x="{10 + i * step:.1f}" y="{chart_h + 10}" font-size="10" '
                         f'text-anchor="{"start" if i == 0 else "end"}">{escape(x_labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() or value >= 10 else f"{value:.1f}"
