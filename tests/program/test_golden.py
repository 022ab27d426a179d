"""Golden fingerprints: the engine and the simulator give exactly the outputs they gave before.

A guard for performance work on `bot/program/`: every Decision (state via the codec, actions with
their details, messages with due instants and payloads, cancels, stale flag), every event and
instant fed to `decide`, the agenda's yielded instants and the day rows are hashed per runner and
compared with the hashes recorded below. Runners cover both protocols, scripted stories (mild,
regress, red flag, coach clear, withheld clearance, a gate answered "no"), and seeded random
runners in DST zones with odd preferred times and restricted weekdays.

A deliberate change of behaviour changes these hashes: regenerate them with
`python tests/program/test_golden.py` and say why in the commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import bot.program.simulate as simulate_mod
from bot.program import engine
from bot.program.codec import state_to_dict
from bot.program.decision import Decision
from bot.program.events import CoachVerb
from bot.program.loader import Rules, load_rules
from bot.program.simulate import (
    Script,
    SessionAnswers,
    SimProfile,
    Simulation,
    SymptomModel,
    random_answerer,
    simulate,
)
from bot.program.state import Outcome, ProgramState

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
DAYS = 180
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Chatham",  # +12:45 / +13:45, DST in the southern summer
    "Asia/Kolkata",  # +05:30, no DST
    "America/Sao_Paulo",
]
TIMES = [time(7, 0), time(2, 30), time(21, 45), time(23, 30), time(6, 15), time(18, 0)]
STARTS = [date(2026, 3, 20), date(2026, 10, 20), date(2026, 1, 5), date(2026, 9, 28)]
WORST = SymptomModel(mild=0.2, regress=0.1, red_flag=0.02, per_level=0.01)
CHAOTIC = SymptomModel(mild=-1.0)  # a marker: answer with `_chaotic` instead


# Event fields added after the hashes were recorded: left out while at their default (None), so
# the recorded hashes still hold for the events that do not use them.
ADDED_LATER = {("Enrolled", "protocol_id"), ("Enrolled", "invite_protocol_id")}


def _plain(x: Any) -> Any:
    """A JSON-ready, hash-seed independent rendering of events, details and payloads."""
    if isinstance(x, Enum):
        return x.value
    if isinstance(x, datetime | date | time):
        return x.isoformat()
    if isinstance(x, frozenset | set):
        return sorted(_plain(v) for v in x)
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {
            "_": type(x).__name__,
            **{
                f.name: _plain(getattr(x, f.name))
                for f in dataclasses.fields(x)
                if getattr(x, f.name) is not None or (type(x).__name__, f.name) not in ADDED_LATER
            },
        }
    return x


def _decision(d: Decision) -> Any:
    return {
        "state": state_to_dict(d.state),
        "actions": [[a.act.value, a.rule, _plain(a.detail)] for a in d.actions],
        "messages": [
            [m.kind.value, m.key, m.due.isoformat(), _plain(m.payload)] for m in d.messages
        ],
        "cancel": list(d.cancel),
        "stale": d.stale,
    }


@contextmanager
def _recording() -> Iterator[list[Any]]:
    """Record every (event, now, decision) the simulator asks the engine for."""
    log: list[Any] = []
    real = engine.decide

    def spy(state: ProgramState | None, event: Any, rules: Rules, now: datetime) -> Decision:
        d = real(state, event, rules, now)
        log.append([_plain(event), now.isoformat(), _decision(d)])
        return d

    # The simulator calls the engine through its module's `decide`: watch that name.
    setattr(simulate_mod, "decide", spy)  # noqa: B010
    try:
        yield log
    finally:
        setattr(simulate_mod, "decide", real)  # noqa: B010


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _story_script(rules: Rules, site_id: str, start: date) -> Script:
    """Mild, painful and red-flag answers on early run sessions, then a coach's clear."""
    base = simulate(rules, SimProfile(site_id, start=start, days=DAYS))
    runs = [r.day for r in base if r.session["kind"] == "run"]
    if len(runs) < 8:
        return Script()
    return Script(
        sessions={
            runs[1].isoformat(): SessionAnswers(pain_during=2),
            runs[2].isoformat(): SessionAnswers(outcome=Outcome.PARTIAL),
            runs[3].isoformat(): SessionAnswers(followup={"pain_now": 2}),
            runs[5].isoformat(): SessionAnswers(outcome=Outcome.SKIPPED),
            runs[6].isoformat(): SessionAnswers(followup={"pain_night": True}),
        },
        coach={runs[6] + timedelta(days=5): CoachVerb.CLEAR},
    )


class Case(NamedTuple):
    profile: SimProfile
    script: Script | None
    model: SymptomModel | None  # None: `simulate()` with the script; else a random answerer
    seed: int = 0
    record: bool = True  # day rows kept (the benchmark runs without them)


def _cases(rules: Rules) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    start = date(2026, 3, 2)
    for site in ("posteromedial-tibia", "navicular", "femoral-neck-tension", "not-sure"):
        cases[f"plain:{site}"] = Case(SimProfile(site, start=start, days=DAYS), None, None)
    for site, tz in (("posteromedial-tibia", "Europe/Berlin"), ("fibula", "America/New_York")):
        prof = SimProfile(site, start=start, days=DAYS, timezone=tz, preferred_time=time(2, 30))
        cases[f"story:{site}"] = Case(prof, _story_script(rules, site, start), None)
    navicular = SimProfile("navicular", start=start, days=DAYS)
    cases["withheld:navicular"] = Case(navicular, Script(withhold_clearance=["continuous"]), None)
    no = Script(gates={"high-strength": {"daily_pain_free": False}})
    cases["gate-no:navicular"] = Case(navicular, no, None)
    sacrum = SimProfile(
        "sacrum",
        start=start,
        days=DAYS,
        timezone="Australia/Sydney",
        diagnosis_date=date(2026, 1, 10),
        available_days=frozenset({0, 2, 4, 5}),
    )
    cases["late-diagnosis:sacrum"] = Case(sacrum, None, None)
    rng = random.Random(20260305)
    sites = [s.id for s in rules.sites.sites]
    for i in range(16):
        days = frozenset(rng.sample(range(7), rng.randint(3, 7)))
        prof = SimProfile(
            site_id=rng.choice(sites),
            start=rng.choice(STARTS),
            days=DAYS,
            timezone=ZONES[i % len(ZONES)],
            preferred_time=rng.choice(TIMES),
            available_days=days,
            diagnosis_date=None if rng.random() < 0.5 else date(2025, 12, 1),
        )
        # Coach clears now and then, so red-flagged and escalated runners go on.
        coach = {prof.start + timedelta(days=d): CoachVerb.CLEAR for d in range(30, DAYS, 30)}
        model = CHAOTIC if i % 4 == 3 else WORST if i % 2 else SymptomModel()
        cases[f"random:{i}"] = Case(prof, Script(coach=coach), model, 1000 + i, record=i % 3 != 0)
    return cases


def _chaotic(rng: random.Random) -> Any:
    """Skips, partial sessions and every kind of pain, on any session kind."""

    def answer(seq: int, day: date, state: ProgramState) -> SessionAnswers:
        x = rng.random()
        if x < 0.12:
            return SessionAnswers(outcome=Outcome.SKIPPED)
        if x < 0.22:
            return SessionAnswers(outcome=Outcome.PARTIAL, rpe=rng.randint(0, 10))
        if x < 0.30:
            return SessionAnswers(
                pain_during=rng.randint(0, 4), followup={"pain_now": rng.randint(0, 3)}
            )
        if x < 0.33:
            return SessionAnswers(followup={"limping": True})
        return SessionAnswers(rpe=rng.randint(2, 8))

    return answer


def fingerprint(rules: Rules, case: Case) -> str:
    profile, script, model, seed, record = case
    with _recording() as log:
        if model is None:
            rows = [r.as_dict() for r in simulate(rules, profile, script)]
            yielded: list[str] = []
            count = len(log)
        else:
            rng = random.Random(seed)
            answerer = _chaotic(rng) if model is CHAOTIC else random_answerer(rng, model)
            sim = Simulation(rules, profile, script, answerer=answerer, record=record)
            yielded = [at.isoformat() for at in sim.run()]
            rows = [r.as_dict() for r in sim.rows_in_order()]
            count = sim.decisions
    assert len(log) == count, "every decision went through the simulator's decide"
    return _digest({"log": log, "rows": rows, "yielded": yielded})


GOLDEN: dict[str, str] = {
    "plain:posteromedial-tibia": "ec7fe0eb93472d65772c",
    "plain:navicular": "7d4539afceae19fc7215",
    "plain:femoral-neck-tension": "9f7ebd2616f29ad21b0b",
    "plain:not-sure": "63ff0d36e21b773778ba",
    "story:posteromedial-tibia": "53eaf1ffb4f49362fda7",
    "story:fibula": "bbd2ccf94ce493f3812c",
    "withheld:navicular": "e080a5dbca6df3c4fdcf",
    "gate-no:navicular": "1abb368194a85c19ada5",
    "late-diagnosis:sacrum": "ae90f7f063a23e30a940",
    "random:0": "9afac417edec4fedb834",
    "random:1": "37638d535b059659810c",
    "random:2": "d54fb1bdb683af353688",
    "random:3": "c1a94f6a4f7bb77bb3f4",
    "random:4": "9bd1b5dfda9632834704",
    "random:5": "05fceedc7573f9101232",
    "random:6": "6b6fb5bd8ba45ec6650e",
    "random:7": "e43f506e798e17b3e61b",
    "random:8": "547fbed830d69de090d4",
    "random:9": "6212d2b13ded88327081",
    "random:10": "4a21b455af52b41c999b",
    "random:11": "e8afef3cf97aae8b8df5",
    "random:12": "7311cc1a71de2a748fb4",
    "random:13": "f43b985f96e9849d97e3",
    "random:14": "e69c4188c17ef06efd01",
    "random:15": "f586a458e1c126c6ed9a",
}


@pytest.fixture(scope="module")
def golden_rules() -> Rules:
    return load_rules(RULES_DIR)


@pytest.fixture(scope="module")
def golden_cases(golden_rules: Rules) -> dict[str, Case]:
    return _cases(golden_rules)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_outputs_match_the_golden_fingerprint(
    golden_rules: Rules, golden_cases: dict[str, Case], name: str
) -> None:
    assert fingerprint(golden_rules, golden_cases[name]) == GOLDEN[name]


def test_golden_covers_every_case(golden_cases: dict[str, Case]) -> None:
    assert sorted(GOLDEN) == sorted(golden_cases)


if __name__ == "__main__":  # print the table to paste into GOLDEN
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    r = load_rules(RULES_DIR)
    print("GOLDEN: dict[str, str] = {")
    for n, c in _cases(r).items():
        print(f"    {n!r}: {fingerprint(r, c)!r},")
    print("}")
