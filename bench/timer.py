"""Session timer generation: render time and size for a few prescriptions, cold and cached.

Prints, side by side in one run, a cold render (plan -> Ogg/Opus bytes), a hit in the in-memory
cache, and a hit in the file cache after a "restart" (a new cache on the same directory), with
the ratio cold / hit.

    python bench/timer.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.program.rules import SessionKind
from bot.program.state import Prescription
from bot.timer.cache import TimerCache
from bot.timer.plan import TimerPlan, timer_plan

SHAPES = [(60, 360, 4), (60, 240, 5), (120, 180, 6), (240, 60, 6), (900, 60, 2), (2400, 0, 1)]


def _rx(run_s: int, walk_s: int, repeats: int) -> Prescription:
    minutes = -(-(run_s + walk_s) * repeats // 60)
    return Prescription(SessionKind.RUN, "p", "l", "run", minutes, run_s, walk_s, repeats)


def _after_restart(folder: Path, plan: TimerPlan) -> bytes:
    return TimerCache(folder).get(plan)


def _timed(call: object) -> tuple[float, bytes]:
    assert callable(call)
    started = time.perf_counter()
    audio = call()
    return time.perf_counter() - started, audio


def main() -> None:
    print(
        f"{'session':<22}{'length':>8}{'KB':>7}{'cold ms':>9}{'memory ms':>11}"
        f"{'file ms':>9}{'cold/mem':>10}{'cold/file':>10}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for run_s, walk_s, repeats in SHAPES:
            plan = timer_plan(_rx(run_s, walk_s, repeats))
            assert plan is not None
            cache = TimerCache(Path(folder))
            cold, audio = _timed(partial(cache.get, plan))
            memory, _ = _timed(partial(cache.get, plan))
            file, _ = _timed(partial(_after_restart, Path(folder), plan))
            name = f"{run_s}s/{walk_s}s x{repeats}"
            print(
                f"{name:<22}{plan.total_s // 60:>5}:{plan.total_s % 60:02d}{len(audio) // 1024:>7}"
                f"{cold * 1e3:>9.1f}{memory * 1e3:>11.3f}{file * 1e3:>9.2f}"
                f"{cold / memory:>10.0f}{cold / file:>10.0f}"
            )


if __name__ == "__main__":
    main()
