"""Small server-rendered SVG charts: no JavaScript, no CDN, readable in RTL and in print.

Charts follow the page's language: in Arabic time runs right to left (the first bar on the right, the
value axis on the right) and every number is written in Arabic-Indic digits; in English left to right.
They scale to the width of their container (viewBox, width 100%)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from voice.i18n import direction, fmt_number, fmt_percent

PALETTE = ["#0b6e4f", "#c17c00", "#3a6ea5", "#a23b72", "#5b8c2a", "#7a5c99"]
AXIS = "#5c6670"
GRID = "#dfe3e6"


def sparkline(values: Sequence[int | float], width: int = 120, height: int = 28, label: str = "") -> Markup:
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    rtl = direction() == "rtl"
    points = " ".join(f"{(width - i * step) if rtl else i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
                      for i, v in enumerate(values))
    return Markup(
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}"><polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" '
        f'points="{points}"/></svg>'
    )


def _whole_top(highest: float) -> float:
    """The axis's top for counts: even, so that the middle tick is a whole number too."""
    top = max(2, int(-(-highest // 1)))
    return top + top % 2


def _number(unit: str) -> Callable[[float], str]:
    if unit == "%":
        return lambda v: fmt_percent(v / 100)
    return lambda v: fmt_number(v, 0 if float(v).is_integer() or v >= 10 else 1)


class _Frame:
    """The plot area and the value axis, mirrored for right-to-left pages (coordinates and text anchors are
    written left to right: the SVG is direction="ltr", and each label's own text still reads in its language)."""

    def __init__(self, width: int, height: int, top: float, fmt: Callable[[float], str], bottom: int = 40) -> None:
        self.width, self.height, self.top, self.fmt = width, height, top or 1, fmt
        self.rtl = direction() == "rtl"
        self.axis_w = 44
        self.plot_l, self.plot_r = (8, width - self.axis_w) if self.rtl else (self.axis_w, width - 8)
        self.plot_t, self.plot_b = 14, height - bottom

    def x(self, fraction: float) -> float:
        """A position along time, 0 = the first moment: the left edge in English, the right in Arabic."""
        span = self.plot_r - self.plot_l
        return self.plot_r - fraction * span if self.rtl else self.plot_l + fraction * span

    def y(self, value: float) -> float:
        return self.plot_b - (value / self.top) * (self.plot_b - self.plot_t)

    def axes(self) -> list[str]:
        out = []
        axis_x = self.plot_r if self.rtl else self.plot_l
        label_x, anchor = (axis_x + 6, "start") if self.rtl else (axis_x - 6, "end")
        for tick in (0, self.top / 2, self.top):
            y = self.y(tick)
            out.append(f'<line x1="{self.plot_l}" x2="{self.plot_r}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
            out.append(f'<text x="{label_x}" y="{y + 4:.1f}" font-size="11" text-anchor="{anchor}" '
                       f'class="tick">{escape(self.fmt(tick))}</text>')
        out.append(f'<line x1="{axis_x}" x2="{axis_x}" y1="{self.plot_t}" y2="{self.plot_b}" stroke="{AXIS}"/>')
        out.append(f'<line x1="{self.plot_l}" x2="{self.plot_r}" y1="{self.plot_b}" y2="{self.plot_b}" '
                   f'stroke="{AXIS}"/>')
        return out


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'data-direction="{direction()}" direction="ltr"><title>{escape(title)}</title>')


def bars(labels: Sequence[str | tuple[str, str]], values: Sequence[float | None], title: str, unit: str = "",
         width: int = 720, height: int = 240, max_value: float | None = None) -> Markup:
    """Vertical bars in time order (right to left in Arabic), a value axis, each value on its bar.

    A label may be two lines (month, year). A value of None is a period with nothing to measure: no bar, "—"."""
    if not values:
        return Markup("")
    fmt = _number(unit)
    top = max_value or _whole_top(max((v or 0) for v in values))
    frame = _Frame(width, height, top, fmt)
    n = len(values)
    slot = (frame.plot_r - frame.plot_l) / n
    bar_w = slot * 0.7
    parts = [_open(width, height, title), *frame.axes()]
    for i, (lab, val) in enumerate(zip(labels, values, strict=True)):
        cx = frame.x((i + 0.5) / n)
        first, second = lab if isinstance(lab, tuple) else (lab, "")
        shown = "—" if val is None else fmt(val)
        parts.append(f'<g class="bar" data-label="{escape(first)}" data-value="{escape(shown)}">')
        if val is None:
            parts.append(f'<text x="{cx:.1f}" y="{frame.plot_b - 4}" font-size="11" text-anchor="middle">—</text>')
        else:
            y = frame.y(val)
            parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                         f'height="{frame.plot_b - y:.1f}" fill="{PALETTE[0]}"/>')
            parts.append(f'<text x="{cx:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle" class="value">'
                         f'{escape(fmt(val))}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{frame.plot_b + 15}" font-size="11" text-anchor="middle">'
                     f'{escape(first)}</text>')
        if second:
            parts.append(f'<text x="{cx:.1f}" y="{frame.plot_b + 29}" font-size="10" text-anchor="middle">'
                         f'{escape(second)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(series: dict[str, Sequence[int]], x_labels: Sequence[str], title: str, width: int = 720,
          height: int = 280) -> Markup:
    """Several series over the same time axis (right to left in Arabic), a value axis and a legend."""
    if not series:
        return Markup("")
    top = _whole_top(max((max(v) for v in series.values() if v), default=0))
    n = len(x_labels)
    rows = (len(series) + 2) // 3
    frame = _Frame(width, height, top, _number(""), bottom=34 + rows * 16)
    parts = [_open(width, height, title), *frame.axes()]
    for idx, (name, values) in enumerate(series.items()):
        color = PALETTE[idx % len(PALETTE)]
        pts = " ".join(f"{frame.x(i / max(n - 1, 1)):.1f},{frame.y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        ly = frame.plot_b + 34 + (idx // 3) * 16
        col = (idx % 3) * (width / 3)
        lx = width - 10 - col if frame.rtl else 10 + col
        sx, tx, anchor = (lx - 10, lx - 14, "end") if frame.rtl else (lx, lx + 14, "start")
        parts.append(f'<rect x="{sx:.0f}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{tx:.0f}" y="{ly}" font-size="11" text-anchor="{anchor}">{escape(name[:40])}</text>')
    every = max(1, n // 6)
    for i in range(n):
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{frame.x(i / max(n - 1, 1)):.1f}" y="{frame.plot_b + 15}" font-size="10" '
                         f'text-anchor="middle">{escape(x_labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
