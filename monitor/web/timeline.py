"""The dashboard's timeline: triggers per vendor per day over the last 90 days, as SVG.

Drawn on the server (no script): one row per vendor, one column per day, a circle per
day with triggers, sized by count and coloured by the day's highest severity, with a
``<title>`` tooltip and a link to that day's history. Built with ElementTree, so every
vendor name is escaped.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from triggers.events import severity_rank

DAYS = 90
LABEL_W, CELL, ROW_H, TOP, BOTTOM = 150, 8, 22, 6, 22


@dataclass(frozen=True)
class Cell:
    count: int
    severity: str
    by_severity: dict[str, int]


def cells(rows: list[tuple[str, str, str, int]]) -> dict[str, dict[str, Cell]]:
    """(vendor, day, severity, count) rows → vendor → day → cell."""
    acc: dict[str, dict[str, dict[str, int]]] = {}
    for vendor, day, severity, n in rows:
        acc.setdefault(vendor, {}).setdefault(day, {})
        acc[vendor][day][severity] = acc[vendor][day].get(severity, 0) + n
    out: dict[str, dict[str, Cell]] = {}
    for vendor, days in acc.items():
        out[vendor] = {}
        for day, counts in days.items():
            top = max(counts, key=severity_rank)
            out[vendor][day] = Cell(sum(counts.values()), top, counts)
    return out


def timeline_svg(rows: list[tuple[str, str, str, int]], vendors: list[tuple[str, str]],
                 today: date, link: Callable[[str], str]) -> str:
    """The chart as an ``<svg>`` string; ``vendors`` are (id, name) rows to draw."""
    data = cells(rows)
    start = today - timedelta(days=DAYS - 1)
    width = LABEL_W + DAYS * CELL + 10
    height = TOP + max(len(vendors), 1) * ROW_H + BOTTOM
    # a group, not an image: each day's dot is a link, and an image holds no links
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "class": "timeline",
                             "viewBox": f"0 0 {width} {height}", "role": "group",
                             "aria-label": f"Triggers per vendor, last {DAYS} days"})
    ET.SubElement(svg, "title").text = f"Triggers per vendor per day, last {DAYS} days"
    _axis(svg, start, height)
    peak = max((c.count for v in data.values() for c in v.values()), default=1)
    for i, (vendor_id, name) in enumerate(vendors):
        y = TOP + i * ROW_H + ROW_H / 2
        if i % 2 == 0:
            ET.SubElement(svg, "rect", {"x": "0", "y": f"{y - ROW_H / 2:.0f}",
                                        "width": str(width), "height": str(ROW_H),
                                        "class": "band"})
        label = ET.SubElement(svg, "text", {"x": str(LABEL_W - 8), "y": f"{y + 4:.0f}",
                                            "class": "label", "text-anchor": "end"})
        label.text = name if len(name) <= 22 else name[:21] + "…"
        for offset in range(DAYS):
            day = (start + timedelta(days=offset)).isoformat()
            cell = data.get(vendor_id, {}).get(day)
            if cell is None:
                continue
            _dot(svg, cell, name, day, LABEL_W + offset * CELL + CELL / 2, y, peak,
                 link(_query(vendor_id, day)))
    return ET.tostring(svg, encoding="unicode")


def _query(vendor_id: str, day: str) -> str:
    return urlencode({"vendor": vendor_id, "since": day, "until": day})


def _dot(svg: ET.Element, cell: Cell, name: str, day: str, x: float, y: float, peak: int,
         href: str) -> None:
    anchor = ET.SubElement(svg, "a", {"href": href})
    radius = 2.2 + 5.0 * math.sqrt(cell.count / max(peak, 1))
    dot = ET.SubElement(anchor, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}",
                                           "r": f"{min(radius, 7.5):.1f}",
                                           "class": f"sev-{cell.severity}"})
    parts = ", ".join(f"{n} {s}" for s, n in sorted(
        cell.by_severity.items(), key=lambda kv: -max(severity_rank(kv[0]), 0)))
    plural = "s" if cell.count != 1 else ""
    text = f"{name}, {day}: {cell.count} trigger{plural} ({parts})"
    ET.SubElement(dot, "title").text = text
    anchor.set("aria-label", text)


def _axis(svg: ET.Element, start: date, height: int) -> None:
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        if day.day != 1 and (offset != 0 or day.day > 24):
            continue  # a tick per month, and the start unless a month begins days later
        x = LABEL_W + offset * CELL
        ET.SubElement(svg, "line", {"x1": str(x), "x2": str(x), "y1": str(TOP),
                                    "y2": str(height - BOTTOM + 4), "class": "tick"})
        text = ET.SubElement(svg, "text", {"x": str(x + 2), "y": str(height - 6),
                                           "class": "axis"})
        text.text = day.strftime("%d %b") if offset == 0 else day.strftime("%b")
