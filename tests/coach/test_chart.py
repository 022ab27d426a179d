"""The coach's chart: a real PNG of the right size for a few weeks of data, and every edge case."""

from __future__ import annotations

import ast
import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.coach import chart
from bot.coach.chart import runner_chart
from bot.coach.views import PhaseMark, SessionPoint

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TODAY = date(2026, 7, 14)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def weeks_of_data(weeks: int, *, start: date = date(2026, 6, 1)) -> list[SessionPoint]:
    """Three sessions a week: two runs and one strength; some pains missing, one skipped."""
    points: list[SessionPoint] = []
    for w in range(weeks):
        monday = start + timedelta(weeks=w)
        for offset, kind in ((0, "run"), (2, "strength"), (4, "run")):
            day = monday + timedelta(days=offset)
            skipped = (w, offset) == (1, 4)
            points.append(
                SessionPoint(
                    day=day,
                    kind=kind,
                    outcome="skipped" if skipped else "done",
                    pain_during=None if skipped else (w + offset) % 4,
                    pain_24h=None if skipped or offset == 2 else (w + offset) % 3,
                    run_s_total=0 if kind != "run" or skipped else 600 + 120 * w,
                )
            )
    return points


PHASES = [
    PhaseMark(date(2026, 5, 28), "Walking"),
    PhaseMark(date(2026, 6, 15), "Return to run: walk-jog intervals"),
    PhaseMark(date(2026, 7, 1), "Continuous running"),
]


@pytest.mark.parametrize(
    ("weeks", "phases"),
    [(4, []), (4, PHASES), (5, PHASES[:1]), (6, PHASES)],
    ids=["4w-no-phases", "4w-phases", "5w-one-phase", "6w-phases"],
)
def test_a_few_weeks_render_a_plausible_png(weeks: int, phases: list[PhaseMark]) -> None:
    data = runner_chart("Anna K", weeks_of_data(weeks), phases, today=TODAY)
    assert png_size(data) == (900, 600)
    assert 10_000 < len(data) < 400_000


def test_no_sessions_is_a_png_that_says_so() -> None:
    data = runner_chart("Nobody yet", [], [], today=TODAY)
    assert png_size(data) == (900, 600)
    assert len(data) > 1_000
    # Different from a chart with data, and the empty message comes from the texts module.
    assert data != runner_chart("Nobody yet", weeks_of_data(1), [], today=TODAY)


@pytest.mark.parametrize(
    "points",
    [
        [SessionPoint(TODAY, "run", "done", 1, 0, 900)],
        [SessionPoint(TODAY, "run", "done", None, None, 900)],
        [SessionPoint(TODAY - timedelta(days=3), "strength", "done", 2, None, 0)],
        [SessionPoint(TODAY, "run", "missed", None, None, 0)],
        [
            SessionPoint(TODAY - timedelta(days=d), "cross_train", "done", None, None, 0)
            for d in (1, 8)
        ],
        # unsorted input, a session after "today" (clock skew), an unknown kind
        [
            SessionPoint(TODAY + timedelta(days=1), "run", "partial", 3, 4, 300),
            SessionPoint(TODAY - timedelta(days=20), "swim", "done", 0, 0, 0),
            SessionPoint(TODAY - timedelta(days=10), "run", "done", 10, 10, 1800),
        ],
    ],
    ids=["single", "single-no-pains", "single-strength", "missed-only", "no-runs", "messy"],
)
def test_edge_cases_still_render(points: list[SessionPoint]) -> None:
    data = runner_chart("Edge", points, [], today=TODAY)
    assert png_size(data) == (900, 600)


@pytest.mark.parametrize(
    "title",
    ["$x^2$ runner", "back\\slash $", "Ana\nMaría\t(Zürich)", "x" * 500, "🏃‍♀️ Emoji", ""],
)
def test_odd_titles_and_phase_names_do_not_break_rendering(title: str) -> None:
    phases = [PhaseMark(date(2026, 6, 8), title), PhaseMark(date(2020, 1, 1), "$long ago$")]
    data = runner_chart(title, weeks_of_data(2), phases, today=TODAY)
    assert png_size(data) == (900, 600)


def test_rendering_is_deterministic() -> None:
    points = weeks_of_data(4)
    assert runner_chart("A", points, PHASES, today=TODAY) == runner_chart(
        "A", points, PHASES, today=TODAY
    )


def test_renders_in_parallel_threads() -> None:
    points = weeks_of_data(5)
    expected = runner_chart("A", points, PHASES, today=TODAY)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: runner_chart("A", points, PHASES, today=TODAY), range(8)))
    assert all(r == expected for r in results)


def test_no_figures_leak_and_pyplot_is_not_used() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for _ in range(3):
        runner_chart("A", weeks_of_data(2), PHASES, today=TODAY)
        runner_chart("A", [], [], today=TODAY)
    assert plt.get_fignums() == before

    tree = ast.parse(Path(chart.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any("pyplot" in name for name in imported)
