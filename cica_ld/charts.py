"""SVG charts drawn at publish time: memberships over time and a timeline of terms of office.

Pure functions from plain data to an ``<svg>`` string (no JavaScript, no fonts or files to
fetch), each with a ``<title>`` and a ``<desc>`` that say what it shows (``role="img"``,
``aria-labelledby``), so screen readers read a summary and every bar has its own title.

Dates are fractional years; a date known only to a year, a month or a window spans a range
(:class:`cica_ld.dates.DateView` ``start``/``end``). A count over time therefore has two lines:
the memberships certainly held at a moment (begun by the latest date their beginning may be,
not yet ended by the earliest date their end may be) drawn solid, and those possibly held
drawn as a lighter band above it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

_COLOURS = ("#0b5cad", "#b35900", "#2e7d32", "#8e24aa", "#c62828", "#00838f")


@dataclass(frozen=True)
class Period:
    """One membership or term: when it began and ended, as ranges of fractional years."""

    label: str  # who (the holder or member)
    text: str  # when, in words ("June 2010 to May 2014")
    begin: tuple[float, float]  # earliest and latest moment it may have begun
    end: tuple[float, float] | None  # earliest and latest moment it may have ended; None: open
    href: str | None = None


def _nice_step(span: float, target: int) -> int:
    raw = max(span / max(target, 1), 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return int(m * mag)
    return int(10 * mag)


def _years(lo: float, hi: float) -> tuple[int, int]:
    first = math.floor(lo)
    last = max(math.ceil(hi), first + 1)
    return first, last


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg_open(ident: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" id={quoteattr(ident)} viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _steps(periods: Sequence[Period], certain: bool) -> list[tuple[float, int]]:
    """(moment, count from that moment on), by a sweep over the beginnings and ends."""
    events: list[tuple[float, int]] = []
    for p in periods:
        events.append((p.begin[1] if certain else p.begin[0], 1))
        if p.end is not None:
            events.append((p.end[0] if certain else p.end[1], -1))
    events.sort(key=lambda e: (e[0], e[1]))
    out: list[tuple[float, int]] = []
    n = 0
    for t, d in events:
        n += d
        if out and out[-1][0] == t:
            out[-1] = (t, n)
        else:
            out.append((t, n))
    return out


def _count_at(steps: list[tuple[float, int]], t: float) -> int:
    n = 0
    for x, c in steps:
        if x > t:
            break
        n = c
    return n


def membership_chart(
    series: dict[str, Sequence[Period]], *, title: str, ident: str, undated: int = 0
) -> str:
    """A step chart of how many memberships of each role (``series``: role -> periods) were
    held over time; ``undated``: memberships left out for want of a beginning date."""
    periods = [p for ps in series.values() for p in ps]
    bounds = [x for p in periods for x in (*p.begin, *(p.end or ()))]
    first, last = _years(min(bounds), max(bounds))
    last += 1  # room after the latest date known
    steps = {role: (_steps(ps, True), _steps(ps, False)) for role, ps in series.items()}
    top = max((c for _, up in steps.values() for _, c in up), default=1) or 1
    ystep = _nice_step(top, 5)
    ymax = ystep * math.ceil(top / ystep)
    width, height = 720, 300
    left, right, top_m, bottom = 44, 16, 40, 36
    pw, ph = width - left - right, height - top_m - bottom

    def x(t: float) -> float:
        return left + (t - first) / (last - first) * pw

    def y(n: float) -> float:
        return top_m + ph - n / ymax * ph

    summary = []
    for role, ps in series.items():
        certain, _ = steps[role]
        summary.append(f"{role}: {len(ps)} in all, {_count_at(certain, last)} at the end")
    desc = (
        f"Number of memberships held each year from {first} to {last - 1}, by role; solid "
        "lines count those certainly held, lighter bands those whose dates are known only "
        "to a year, a month or a window. " + "; ".join(summary) + "."
    )
    if undated:
        desc += f" {undated} without a beginning date are not counted."
    out = _svg_open(ident, width, height, title, desc)
    out.append('<g class="grid" stroke="#d8dde2" stroke-width="1">')
    for n in range(0, ymax + 1, ystep):
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y(n))}" y2="{_fmt(y(n))}"/>')
    out.append("</g>")
    out.append('<g class="axis" font-size="12" fill="#5b636b">')
    for n in range(0, ymax + 1, ystep):
        out.append(f'<text x="{left - 6}" y="{_fmt(y(n) + 4)}" text-anchor="end">{n}</text>')
    xstep = _nice_step(last - first, 8)
    for yr in range(first + (-first) % xstep, last + 1, xstep):
        out.append(
            f'<text x="{_fmt(x(yr))}" y="{height - bottom + 18}" text-anchor="middle">{yr}</text>'
        )
    out.append("</g>")
    legend_x = left
    for i, (role, ps) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        certain, possible = steps[role]
        # the band: possible above certain
        pts_up = _path_points(possible, first, last, x, y)
        pts_lo = _path_points(certain, first, last, x, y)
        band = pts_up + list(reversed(pts_lo))
        out.append(
            f'<g class="series" data-role={quoteattr(role)}>'
            f"<title>{escape(role)}: {len(ps)} memberships</title>"
        )
        out.append(
            f'<polygon points="{" ".join(band)}" fill="{colour}" fill-opacity="0.18" '
            'stroke="none"/>'
        )
        out.append(
            f'<polyline points="{" ".join(pts_lo)}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        out.append("</g>")
        out.append(
            f'<rect x="{legend_x}" y="12" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="22" font-size="13" fill="#1d2125">'
            f"{escape(role)} ({len(ps)})</text>"
        )
        legend_x += 36 + round(7.5 * len(f"{role} ({len(ps)})"))
    out.append("</svg>")
    return "\n".join(out)


def _path_points(
    steps: list[tuple[float, int]],
    first: int,
    last: int,
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> list[str]:
    pts = [f"{_fmt(x(first))},{_fmt(y(0))}"]
    n = 0
    for t, c in steps:
        t = min(max(t, first), last)
        pts.append(f"{_fmt(x(t))},{_fmt(y(n))}")
        pts.append(f"{_fmt(x(t))},{_fmt(y(c))}")
        n = c
    pts.append(f"{_fmt(x(last))},{_fmt(y(n))}")
    return pts


def timeline(periods: Sequence[Period], *, title: str, ident: str) -> str:
    """A timeline of terms of office, one row per term in order of beginning: a bar from its
    beginning to its end (open terms run to the right edge), the uncertain part of a
    beginning or end drawn lighter; each bar titled with its holder and dates and linked to
    the term's page."""
    periods = sorted(periods, key=lambda p: (p.begin[0], p.begin[1], p.label))
    bounds = [x for p in periods for x in (*p.begin, *(p.end or ()))]
    first, last = _years(min(bounds), max(bounds))
    last += 1
    row, label_w = 26, 170
    width = 720
    height = 30 + row * len(periods) + 28
    left, right = label_w + 8, 16
    pw = width - left - right

    def x(t: float) -> float:
        return left + (min(max(t, first), last) - first) / (last - first) * pw

    desc = "; ".join(f"{p.label}: {p.text}" for p in periods) + "."
    out = _svg_open(ident, width, height, title, desc)
    out.append('<g class="grid" stroke="#d8dde2" stroke-width="1" font-size="12" fill="#5b636b">')
    xstep = _nice_step(last - first, 8)
    for yr in range(first + (-first) % xstep, last + 1, xstep):
        out.append(
            f'<line x1="{_fmt(x(yr))}" x2="{_fmt(x(yr))}" y1="20" y2="{height - 24}"/>'
            f'<text x="{_fmt(x(yr))}" y="{height - 8}" text-anchor="middle" stroke="none">'
            f"{yr}</text>"
        )
    out.append("</g>")
    for i, p in enumerate(periods):
        colour = _COLOURS[i % 2]
        top = 24 + i * row
        b0, b1 = x(p.begin[0]), x(p.begin[1])
        e0, e1 = (x(p.end[0]), x(p.end[1])) if p.end is not None else (x(last), x(last))
        name = escape(p.label if len(p.label) <= 24 else p.label[:23] + "…")
        item = [
            f'<g class="term"><title>{escape(p.label)}: {escape(p.text)}</title>',
            f'<text x="{label_w}" y="{top + 15}" text-anchor="end" font-size="13" '
            f'fill="#1d2125">{name}</text>',
        ]
        if b1 > b0:
            item.append(
                f'<rect x="{_fmt(b0)}" y="{top + 3}" width="{_fmt(b1 - b0)}" height="16" '
                f'fill="{colour}" fill-opacity="0.3"/>'
            )
        solid_end = max(e0, b1)
        item.append(
            f'<rect x="{_fmt(b1)}" y="{top + 3}" width="{_fmt(max(solid_end - b1, 1.5))}" '
            f'height="16" fill="{colour}"/>'
        )
        if e1 > solid_end:
            item.append(
                f'<rect x="{_fmt(solid_end)}" y="{top + 3}" width="{_fmt(e1 - solid_end)}" '
                f'height="16" fill="{colour}" fill-opacity="0.3"/>'
            )
        item.append("</g>")
        body = "".join(item)
        if p.href:
            body = f"<a href={quoteattr(p.href)}>{body}</a>"
        out.append(body)
    out.append("</svg>")
    return "\n".join(out)
