"""Dates for people: W3C Time instants and intervals shown at the precision they are written.

A ``time:Instant`` carries its date in one of ``time:inXSDDate``, ``time:inXSDgYearMonth``,
``time:inXSDgYear``, ``time:inXSDDateTimeStamp`` or ``time:inXSDDateTime``; an instant whose date
is not known may lie inside a window (an interval pointing at it with ``time:inside``). A
:class:`DateView` is what a page shows of one: the text (``14 September 1999``, ``June 2010``,
``1999``, or ``between 14 September 1999 and 4 June 2002``), the value as written (for a
``<time datetime>`` attribute) and the span of years it covers (for charts).

Only the standard library; the graph reads go through the small protocol of
:class:`cica_ld.publish._Graph` (``objects``, ``subjects``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

TIME = "http://www.w3.org/2006/time#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Properties giving an instant's date, most precise kinds first.
DATE_PROPS = (
    TIME + "inXSDDateTimeStamp",
    TIME + "inXSDDateTime",
    TIME + "inXSDDate",
    TIME + "inXSDgYearMonth",
    TIME + "inXSDgYear",
)

_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_LEX = re.compile(
    r"^(?P<y>-?\d{4,})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?$"
)


@dataclass(frozen=True)
class DateView:
    """One date as a page shows it."""

    text: str  # for people: "14 September 1999", "June 2010", "1999", "between ... and ..."
    value: str = ""  # the literal as written ("" for a window or an unknown date)
    precision: str = ""  # "dateTime", "date", "month", "year", "window" or "" (unknown)
    start: float | None = None  # the earliest moment it may be, in fractional years
    end: float | None = None  # the latest moment it may be, in fractional years


def _fraction(year: int, month: int, day: int) -> float:
    """``year-month-day`` as a fractional year (the start of that day)."""
    try:
        first = dt.date(year, 1, 1)
        days = 366 if calendar.isleap(year) else 365
        return year + (dt.date(year, month, day) - first).days / days
    except ValueError:
        return float(year)


def parse(value: str, *, english: bool = True) -> DateView | None:
    """A date literal (xsd:date, gYearMonth, gYear, dateTime) as a :class:`DateView`, None when
    it is not one. ``english`` False keeps the text as written (sites in other languages)."""
    m = _LEX.match(value.strip())
    if m is None:
        return None
    year = int(m.group("y"))
    month = int(m.group("m")) if m.group("m") else None
    day = int(m.group("d")) if m.group("d") else None
    if month is not None and not 1 <= month <= 12:
        return None
    if year < 1 or year > 9999:
        # outside the proleptic calendar Python knows: shown as written, placed by year
        return DateView(value, value, "year", float(year), float(year) + 1)
    if day is not None and month is not None:
        start = _fraction(year, month, day)
        end = start + 1 / 365
        precision = "dateTime" if m.group("time") else "date"
        text = f"{day} {_MONTHS[month]} {year}"
        if m.group("time"):
            tz = m.group("tz") or ""
            text += f", {m.group('time')}" + (" UTC" if tz == "Z" else f" {tz}" if tz else "")
    elif month is not None:
        start = _fraction(year, month, 1)
        end = _fraction(year + 1, 1, 1) if month == 12 else _fraction(year, month + 1, 1)
        precision, text = "month", f"{_MONTHS[month]} {year}"
    else:
        start, end, precision, text = float(year), float(year + 1), "year", str(year)
    return DateView(text if english else value, value, precision, start, end)


def instant(g: Any, node: Any, *, english: bool = True) -> DateView | None:
    """The date of the instant ``node``: its own value, else the windows it lies inside
    (``between A and B``, ``by B``, ``from A``); None when nothing dates it."""
    for p in DATE_PROPS:
        for o in g.objects(node, p):
            if hasattr(o, "datatype"):
                return parse(o.value, english=english) or DateView(o.value, o.value, "")
    texts: list[str] = []
    lows: list[float] = []
    highs: list[float] = []
    for w in g.subjects(TIME + "inside", node):
        lo = _bound(g, w, TIME + "hasBeginning", english)
        hi = _bound(g, w, TIME + "hasEnd", english)
        if lo and hi:
            texts.append(f"between {lo.text} and {hi.text}")
        elif hi:
            texts.append(f"by {hi.text}")
        elif lo:
            texts.append(f"from {lo.text}")
        if lo and lo.start is not None:
            lows.append(lo.start)
        if hi and hi.end is not None:
            highs.append(hi.end)
    if not texts:
        return None
    # inside every window: the latest beginning, the earliest end
    return DateView(
        " and ".join(texts),
        "",
        "window",
        max(lows) if lows else None,
        min(highs) if highs else None,
    )


def _bound(g: Any, window: Any, p: str, english: bool) -> DateView | None:
    for b in g.objects(window, p):
        for dp in DATE_PROPS:
            for o in g.objects(b, dp):
                if hasattr(o, "datatype"):
                    return parse(o.value, english=english) or DateView(o.value, o.value, "")
    return None


@dataclass(frozen=True)
class Span:
    """When something happened or held: an instant (``begin`` only, ``instant`` True) or an
    interval's beginning and end (either may be missing or not dated)."""

    begin: DateView | None
    end: DateView | None
    instant: bool = False
    has_end: bool = False  # an end instant is stated (dated or not)

    @property
    def dated(self) -> bool:
        return self.begin is not None or self.end is not None

    def text(self) -> str:
        """``8 June 2010``, ``June 2010 to May 2014``, ``since 1999``, ``until May 2014``."""
        b, e = self.begin, self.end
        if self.instant:
            return b.text if b else ""
        bt = ("a date " if b and b.precision == "window" else "") + (b.text if b else "")
        et = ("a date " if e and e.precision == "window" else "") + (e.text if e else "")
        if b and e:
            if b.value and b.value == e.value:
                return b.text
            return f"{bt} to {et}"
        if b:
            return f"from {bt}" + (" (end not dated)" if self.has_end else "")
        if e:
            return f"until {et}"
        return ""


def span(g: Any, node: Any, *, english: bool = True) -> Span:
    """The :class:`Span` of an interval (``time:hasBeginning``/``time:hasEnd``) or an instant."""
    begins = g.objects(node, TIME + "hasBeginning")
    ends = g.objects(node, TIME + "hasEnd")
    if begins or ends:
        return Span(
            instant(g, begins[0], english=english) if begins else None,
            instant(g, ends[0], english=english) if ends else None,
            has_end=bool(ends),
        )
    return Span(instant(g, node, english=english), None, instant=True)
