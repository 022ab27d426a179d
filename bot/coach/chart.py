"""A runner's trend chart for the coach, as PNG bytes to send as a photo.

Top: pain during the session and at 24 h, per session (0–10, a dashed line at the mild threshold
2/10). Bottom: minutes of running per ISO week (done and partly done sessions). Phase changes are
vertical lines, labelled on both panels.

Uses matplotlib's object API (`Figure` + `FigureCanvasAgg`) and never `pyplot`: no global figure
registry, nothing to close, nothing leaked, safe to call from a worker thread
(`await asyncio.to_thread(runner_chart, ...)` keeps the event loop free; a render takes ~0.1 s).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from matplotlib import dates as mdates
from matplotlib import font_manager, ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.coach.views import PhaseMark, SessionPoint
from bot.localised import texts_coach as t

WIDTH_IN, HEIGHT_IN, DPI = 9, 6, 100  # 900 x 600 px
MILD = 2
RUN_OUTCOMES = frozenset({"done", "partial"})
MIN_SPAN_DAYS = 14
TITLE_MAX = 80

DURING_COLOR = "#d62728"
AFTER_COLOR = "#1f77b4"
BAR_COLOR = "#2ca02c"
PHASE_COLOR = "#7f7f7f"


def runner_chart(
    title: str,
    points: Sequence[SessionPoint],
    phases: Sequence[PhaseMark],
    *,
    today: date,
) -> bytes:
    """Render the chart; with no sessions, a small PNG that says so."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    heading = _drawable(title, TITLE_MAX)
    if not points:
        fig.suptitle(heading, parse_math=False)
        fig.text(0.5, 0.5, t.CHART_EMPTY, ha="center", va="center", fontsize=20, color="#555555")
        return _png(fig)

    pain_ax, run_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    fig.suptitle(heading, parse_math=False)

    _pains(pain_ax, points)
    _weekly_runs(run_ax, points)

    days = [p.day for p in points] + [m.day for m in phases] + [today]
    first, last = min(days), max(days)
    if (last - first).days < MIN_SPAN_DAYS:
        first = last - timedelta(days=MIN_SPAN_DAYS)
    pain_ax.set_xlim(_num(first - timedelta(days=2)), _num(last + timedelta(days=2)))

    for ax in (pain_ax, run_ax):
        _phase_marks(ax, phases)
        ax.grid(True, axis="y", alpha=0.3)
    _date_axis(run_ax)
    fig.align_ylabels((pain_ax, run_ax))
    return _png(fig)


def _pains(ax: Any, points: Sequence[SessionPoint]) -> None:
    ordered = sorted(points, key=lambda p: p.day)
    for attr, color, marker, label in (
        ("pain_during", DURING_COLOR, "o", t.CHART_PAIN_DURING),
        ("pain_24h", AFTER_COLOR, "s", t.CHART_PAIN_24H),
    ):
        xs = [_num(p.day) for p in ordered if getattr(p, attr) is not None]
        ys = [getattr(p, attr) for p in ordered if getattr(p, attr) is not None]
        ax.plot(xs, ys, marker=marker, color=color, linewidth=1, markersize=6, label=label)
    ax.axhline(MILD, color="#ff7f0e", linestyle="--", linewidth=1.2, label=t.CHART_MILD)
    ax.set_ylim(-0.5, 10.5)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel(t.CHART_PAIN_AXIS)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=8, ncols=3, frameon=False)


def _weekly_runs(ax: Any, points: Sequence[SessionPoint]) -> None:
    minutes: dict[date, float] = {}
    for p in points:
        if p.outcome in RUN_OUTCOMES and p.run_s_total > 0:
            monday = p.day - timedelta(days=p.day.weekday())
            minutes[monday] = minutes.get(monday, 0.0) + p.run_s_total / 60
    if minutes:
        weeks = sorted(minutes)
        xs = [_num(w) + 0.5 for w in weeks]
        heights = [minutes[w] for w in weeks]
        bars = ax.bar(xs, heights, width=6, align="edge", color=BAR_COLOR, alpha=0.8)
        ax.bar_label(bars, labels=[f"{round(h)}" for h in heights], fontsize=8, padding=2)
        ax.set_ylim(0, max(heights) * 1.25)
    else:
        ax.set_ylim(0, 10)
    ax.set_ylabel(t.CHART_RUN_AXIS)


def _phase_marks(ax: Any, phases: Sequence[PhaseMark]) -> None:
    for mark in phases:
        x = _num(mark.day)
        ax.axvline(x, color=PHASE_COLOR, linestyle=":", linewidth=1.2)
        ax.text(
            x + 0.3,
            0.98,
            _drawable(mark.name, t.PHASE_MAX),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            va="top",
            ha="left",
            fontsize=8,
            color="#444444",
            bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 1},
            parse_math=False,
        )


@functools.cache
def _glyphs() -> frozenset[int]:
    """Code points the chart's font can draw (matplotlib's default, DejaVu Sans)."""
    path = font_manager.findfont(font_manager.FontProperties())
    return frozenset(ft2font.FT2Font(path).get_charmap())


def _drawable(text: str, limit: int) -> str:
    """One clean line without characters the font lacks (emoji in names), so no tofu boxes."""
    glyphs = _glyphs()
    return t.clean("".join(c for c in text if ord(c) in glyphs or c.isspace()), limit)


def _num(d: date) -> float:
    """A date as matplotlib's axis number (days since its epoch)."""
    return float(mdates.date2num(d))  # type: ignore[no-untyped-call]


def _date_axis(ax: Any) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
