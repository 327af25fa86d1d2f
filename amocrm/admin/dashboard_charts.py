"""The dashboard's charts as SVG drawn on the server: no JavaScript, nothing from a CDN, labels in the page's language.

Each chart is a plain <svg> scaled to its box (viewBox), with a <title> per bar for the exact figure on hover.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from amocrm.admin.dashboard_figures import GroupRow

# Colour-blind-safe palette (Okabe–Ito), one colour per source; the rest share the last one.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999")
OUTCOME_COLOURS = {"won": "#009E73", "in_progress": "#56B4E9", "lost": "#D55E00", "other": "#cccccc"}
WIDTH, HEIGHT = 900, 240
LEFT, BOTTOM, TOP = 36, 22, 8


@dataclass(frozen=True)
class Legend:
    label: str
    colour: str


def source_colours(sources: list[str]) -> dict[str, str]:
    """A stable colour per source: the busiest first; every source past the palette shares the last colour."""
    return {name: PALETTE[min(n, len(PALETTE) - 1)] for n, name in enumerate(sources)}


def leads_per_day_chart(per_day: dict[date, dict[str, int]], colours: dict[str, str]) -> SafeString:
    """Stacked bars: one per day, a segment per source."""
    days = sorted(per_day)
    peak = max((sum(counts.values()) for counts in per_day.values()), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(days), 1)
    plot = HEIGHT - BOTTOM - TOP
    parts = [_y_axis(peak, plot)]
    for n, day in enumerate(days):
        x, bottom = LEFT + n * slot + slot * 0.1, HEIGHT - BOTTOM
        for name, count in sorted(per_day[day].items(), key=lambda item: list(colours).index(item[0])):
            height = plot * count / peak
            bottom -= height
            parts.append(_bar(x, bottom, slot * 0.8, height, colours[name], f"{_day(day)} · {name}: {count}"))
        if _labelled(n, len(days)):
            parts.append(_text(x + slot * 0.4, HEIGHT - 6, _day(day), "middle"))
    return _svg(parts, _("Leads per day by source"))


def outcomes_chart(rows: list[GroupRow]) -> SafeString:
    """One horizontal bar per group: won, in progress, lost, and not yet in amoCRM, to scale with the leads."""
    rows = rows[:10]
    peak = max((row.leads for row in rows), default=0) or 1
    label_width, line, width = 150, 24, 500
    height = line * max(len(rows), 1) + 4
    parts = []
    for n, row in enumerate(rows):
        y, x = n * line + 4, label_width
        parts.append(_text(label_width - 8, y + 15, _clip(row.name or _("(none)"), 20), "end"))
        other = row.leads - row.won - row.lost - row.in_progress
        for key, count in (("won", row.won), ("in_progress", row.in_progress), ("lost", row.lost), ("other", other)):
            size = (width - label_width - 40) * count / peak
            parts.append(
                _bar(x, y, size, line - 8, OUTCOME_COLOURS[key], f"{row.name}: {outcome_labels()[key]} {count}")
            )
            x += size
        parts.append(_text(x + 6, y + 15, str(row.leads), "start"))
    return _svg(parts, _("What became of the leads"), height, width)


def outcome_labels() -> dict[str, str]:
    return {"won": _("Won"), "in_progress": _("In progress"), "lost": _("Lost"), "other": _("Not yet in amoCRM")}


def outcome_legend() -> list[Legend]:
    return [Legend(label, OUTCOME_COLOURS[key]) for key, label in outcome_labels().items()]


def _y_axis(peak: int, plot: float) -> SafeString:
    ticks = sorted({0, peak // 2, peak})
    lines = []
    for tick in ticks:
        y = HEIGHT - BOTTOM - plot * tick / peak
        lines.append(format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>', LEFT, WIDTH, _n(y), _n(y)))
        lines.append(_text(LEFT - 4, y + 4, str(tick), "end"))
    return mark_safe("".join(lines))  # noqa: S308 - each part came from format_html


def _bar(x: float, y: float, width: float, height: float, colour: str, title: str) -> SafeString:
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        _n(x), _n(y), _n(max(width, 0)), _n(max(height, 0)), colour, title,
    )  # fmt: skip


def _text(x: float, y: float, text: str, anchor: str) -> SafeString:
    return format_html('<text x="{}" y="{}" text-anchor="{}">{}</text>', _n(x), _n(y), anchor, text)


def _n(number: float) -> str:
    return f"{number:.1f}"


def _svg(parts: list[SafeString], label: str, height: int = HEIGHT, width: int = WIDTH) -> SafeString:
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width, height, label, format_html_join("", "{}", ((part,) for part in parts)),
    )  # fmt: skip


def _day(day: date) -> str:
    return date_format(day, "d.m")  # read the same way in Uzbek and Russian


def _labelled(n: int, count: int) -> bool:
    """Every day's date when they fit; otherwise about eight evenly spaced dates."""
    return count <= 16 or n % (count // 8) == 0


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
