"""Lookups derived from a rules bundle once, so the engine does not re-derive them per decision.

Everything here is a plain re-arrangement of what the rule files say (phases by id, the run
ladder, gate questions per site, habits by trigger, the symptom table in evaluation order); the
engine reads the same rules through it. Built lazily by `Rules.tables` and shared: read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.program.rules import (
    Condition,
    Gate,
    Habit,
    Phase,
    Protocol,
    Question,
    SessionKind,
    Severity,
    Site,
)
from bot.program.state import Prescription

if TYPE_CHECKING:
    from bot.program.loader import Rules

# How a compiled condition tests its answer (see `Condition.holds`).
EQUALS, AT_LEAST, AT_MOST = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CompiledClassification:
    """One row of the symptom table: if every (question, test, bound) holds, at least `severity`."""

    id: str
    severity: Severity
    rank: int
    conditions: tuple[tuple[str, int, int | bool], ...]


def compile_condition(c: Condition) -> tuple[str, int, int | bool]:
    if c.equals is not None:
        return (c.question, EQUALS, c.equals)
    if c.at_least is not None:
        return (c.question, AT_LEAST, c.at_least)
    assert c.at_most is not None
    return (c.question, AT_MOST, c.at_most)


def condition_holds(test: int, bound: int | bool, value: int | bool) -> bool:
    """`Condition.holds` for a compiled condition: the same three tests."""
    if test == EQUALS:
        return bool(value) is bound
    if test == AT_LEAST:
        return int(value) >= bound
    return int(value) <= bound


@dataclass(frozen=True, slots=True)
class ProtocolTables:
    """One protocol's phases by id and its run ladder (every run level in order, across phases)."""

    protocol: Protocol
    phase: Mapping[str, Phase]
    index: Mapping[str, int]
    next_phase: Mapping[str, Phase | None]
    ladder: tuple[tuple[int, int], ...]  # (phase index, level index)
    ladder_position: Mapping[tuple[int, int], int]
    # Gate questions by (phase id, site id), and prescriptions by (phase id, kind, level index,
    # deload week), each made on first use: immutable values that depend on nothing else.
    gate_questions: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    prescriptions: dict[tuple[str, SessionKind, int, bool], Prescription] = field(
        default_factory=dict
    )


def gate_questions(gate: Gate, site: Site, question_by_id: Mapping[str, Question]) -> list[str]:
    """The gate's questions that apply to this site (no hop tests where hopping is unsafe)."""
    return [q for q in gate.questions if site.hop_tests or not question_by_id[q].hop_test]


def _protocol_tables(protocol: Protocol) -> ProtocolTables:
    phases = protocol.phases
    ladder = tuple((i, j) for i, p in enumerate(phases) if p.runs for j in range(len(p.levels)))
    return ProtocolTables(
        protocol=protocol,
        phase={p.id: p for p in phases},
        index={p.id: i for i, p in enumerate(phases)},
        next_phase={
            p.id: phases[i + 1] if i + 1 < len(phases) else None for i, p in enumerate(phases)
        },
        ladder=ladder,
        ladder_position={step: pos for pos, step in enumerate(ladder)},
    )


class RuleTables:
    """The derived lookups of one `Rules` (see the module note)."""

    def __init__(self, rules: Rules) -> None:
        self.protocols = {pid: _protocol_tables(p) for pid, p in rules.protocols.items()}
        self.classifications = tuple(
            CompiledClassification(
                c.id, c.severity, c.severity.rank, tuple(compile_condition(w) for w in c.when)
            )
            for c in rules.symptoms.classifications
        )
        habits = rules.habits.habits
        self.after_session_habits: tuple[Habit, ...] = tuple(
            h for h in habits if h.trigger == "after_session"
        )
        # Weekly, deload-week and off-week habits, in file order (their messages go out in it).
        self.planning_habits: tuple[Habit, ...] = tuple(
            h for h in habits if h.trigger in ("weekly", "deload_week", "off_week")
        )
        sch = rules.scheduling
        plan = rules.symptoms.actions.plan.id
        # Why a session fell on its day: the rules behind each kind of planned session.
        self.plan_why: dict[SessionKind, tuple[str, ...]] = {
            kind: (plan, sch.id_rest_day)
            + ((sch.id_no_consecutive_runs,) if kind is SessionKind.RUN else (sch.id_cross_offset,))
            for kind in SessionKind
        }
        # The scheduling file's delays, as durations.
        self.checkin_nudge_after = timedelta(hours=sch.checkin_nudge_after_hours)
        self.followup_after = timedelta(hours=sch.followup_after_hours)
        self.followup_nudge_after = timedelta(hours=sch.followup_nudge_after_hours)
