"""Engine throughput: N runners x W weeks through the pure engine, runner-days per second.

Prints the figure for the full event-driven simulation (engine + agenda re-check, as the bot
runs it) beside a baseline in the same run: the same loop with `decide` replaced by a no-op that
hands back the decision already made for that runner (recorded beforehand, untimed), so the agenda
does exactly the same work and the difference shows what the clinical logic itself costs. (A
no-op that only returned the state would schedule nothing, and the agenda would stop at once.)
The baseline replays a sample of the runners (`--baseline-runners`) to keep the run short.

    python bench/engine.py                 # 10,000 runners x 26 weeks (the issue's target)
    python bench/engine.py --runners 500   # quick look
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.program.decision import Decision
from bot.program.engine import decide
from bot.program.events import Event
from bot.program.loader import Rules, load_rules
from bot.program.simulate import Engine, SimProfile, Simulation, SymptomModel, random_answerer
from bot.program.state import ProgramState

TARGET = 100_000
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]


@dataclass
class Result:
    runners: int
    days: int
    decisions: int
    seconds: float  # wall clock
    cpu: float  # this process's CPU time

    @property
    def rate(self) -> float:
        return self.days / self.seconds


def _runners(
    rules: Rules, runners: int, weeks: int, seed: int
) -> Iterator[tuple[SimProfile, random.Random]]:
    """Each runner's profile and the random stream its answers come from (shared, in order)."""
    rng = random.Random(seed)
    sites = [s.id for s in rules.sites.sites]
    for _ in range(runners):
        prof = SimProfile(
            site_id=rng.choice(sites),
            start=date(2026, 1, 5),
            days=weeks * 7,
            timezone=rng.choice(ZONES),
        )
        yield prof, rng


def _simulation(
    rules: Rules, prof: SimProfile, rng: random.Random, engine: Engine | None = None
) -> Simulation:
    answerer = random_answerer(rng, SymptomModel())
    return Simulation(rules, prof, answerer=answerer, record=False, engine=engine)


def run(rules: Rules, runners: int, weeks: int, seed: int) -> Result:
    """The full loop: every runner through the engine and the agenda."""
    decisions = days = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for prof, rng in _runners(rules, runners, weeks, seed):
        sim = _simulation(rules, prof, rng)
        for _ in sim.run():
            pass
        decisions += sim.decisions
        days += prof.days
    return Result(runners, days, decisions, time.perf_counter() - t0, time.process_time() - c0)


class _Tape:
    """One runner's decisions: recorded from the engine, then handed back in the same order."""

    def __init__(self) -> None:
        self.made: list[Decision] = []
        self._next = 0

    def record(self, s: ProgramState | None, e: Event, r: Rules, now: datetime) -> Decision:
        self.made.append(decide(s, e, r, now))
        return self.made[-1]

    def replay(self, s: ProgramState | None, e: Event, r: Rules, now: datetime) -> Decision:
        """The no-op engine: the decision already made for this step."""
        self._next += 1
        return self.made[self._next - 1]


def baseline(rules: Rules, runners: int, weeks: int, seed: int) -> Result:
    """The same loop with `decide` a no-op that returns the runner's recorded decisions."""
    decisions = days = 0
    seconds = cpu = 0.0
    for prof, rng in _runners(rules, runners, weeks, seed):
        tape = _Tape()
        before = rng.getstate()
        for _ in _simulation(rules, prof, rng, tape.record).run():  # untimed
            pass
        rng.setstate(before)  # the replayed runner gives the same answers
        t0, c0 = time.perf_counter(), time.process_time()
        sim = _simulation(rules, prof, rng, tape.replay)
        for _ in sim.run():
            pass
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        assert sim.decisions == len(tape.made), "the replay followed the same agenda"
        decisions += sim.decisions
        days += prof.days
    return Result(runners, days, decisions, seconds, cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runners", type=int, default=10_000)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--baseline-runners",
        type=int,
        default=1_000,
        help="how many of the runners the baseline replays (0: none)",
    )
    a = ap.parse_args()
    rules = load_rules(Path(__file__).resolve().parents[1] / "rules")
    full = run(rules, a.runners, a.weeks, a.seed)
    base = baseline(rules, min(a.runners, max(0, a.baseline_runners)), a.weeks, a.seed)

    def row(label: str, full_value: str, base_value: str = "") -> None:
        print(f"{label:<18} {full_value:>14} {base_value:>14}")

    row("", "engine+agenda", "agenda only" if base.runners else "")
    row("runners", f"{full.runners:,}", f"{base.runners:,}" if base.runners else "")
    row("runner-days", f"{full.days:,}", f"{base.days:,}" if base.runners else "")
    row(
        "decisions",
        f"{full.decisions:,}",
        f"{base.decisions:,}" if base.runners else "",
    )
    row("seconds (wall)", f"{full.seconds:.2f}", f"{base.seconds:.2f}" if base.runners else "")
    row("seconds (cpu)", f"{full.cpu:.2f}", f"{base.cpu:.2f}" if base.runners else "")
    row("runner-days/s", f"{full.rate:,.0f}", f"{base.rate:,.0f}" if base.runners else "")
    row(
        "decisions/s",
        f"{full.decisions / full.seconds:,.0f}",
        f"{base.decisions / base.seconds:,.0f}" if base.runners else "",
    )
    per_day = full.seconds / full.days * 1e6
    print(f"decisions per runner-day {full.decisions / full.days:.2f}")
    if base.runners:
        agenda = base.seconds / base.days * 1e6
        print(
            f"µs per runner-day  {per_day:.1f} in all: {agenda:.1f} agenda and simulator, "
            f"{per_day - agenda:.1f} clinical logic"
        )
    print(f"target             {TARGET:>14,}  ratio {full.rate / TARGET:.2f}x")


if __name__ == "__main__":
    main()
