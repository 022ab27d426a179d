"""Lookups derived from a rules bundle once, so the engine does not re-derive them per decision.

Everything here is a plain re-arrangement of what the rule files say (phases by id, the run
ladder, gate questions per site, prescriptions per phase and level, habits by trigger, the symptom
table in evaluation order); the engine reads the same rules through it. Built in full when made
(`Rules.tables` makes it on first use) and never changed after: read-only, so safe to share.

It takes the rule files it needs, not the `Rules` bundle: the loader builds a bundle's tables, so
imports point one way (loader -> tables -> rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from bot.program.calendar import prescription
from bot.program.rules import (
    Actions,
    Classification,
    Condition,
    EscalateWhen,
    Gate,
    Habit,
    HabitsFile,
    Phase,
    Protocol,
    Question,
    SchedulingFile,
    SessionKind,
    Severity,
    Site,
    SymptomsFile,
)
from bot.program.state import Prescription

# How a compiled condition tests its answer (see `Condition.holds`).
EQUALS, AT_LEAST, AT_MOST = 0, 1, 2

# A prescription's key: (phase id, kind, level index, deload week). The level index is 0 for
# everything but runs, and deload is only ever true for runs (see `calendar.is_deload`).
PrescriptionKey = tuple[str, SessionKind, int, bool]


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


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: a key of classify's memo
class PainTable:
    """The symptom table and the actions that judge one protocol's runners: the shared ones of
    symptoms.yaml, or the protocol's `pain_rules` over them (the shared red flags always kept)."""

    classifications: tuple[CompiledClassification, ...]
    actions: Actions
    says: Mapping[str, str]  # classification id -> why, in the runner's words
    # The escalate rule's triggers (its short form as one), the days regressions are kept, and
    # whether the level of the last regression must be kept ("still painful after stepping back").
    escalate_when: tuple[EscalateWhen, ...] = ()
    escalate_window_days: int = 0
    watches_step_back: bool = False


def _pain_table(
    rows: tuple[CompiledClassification, ...], actions: Actions, says: Mapping[str, str]
) -> PainTable:
    esc = actions.escalate
    triggers = tuple(esc.triggers)
    return PainTable(rows, actions, says, triggers, esc.window_days, esc.watches_step_back)


def _compiled(rows: Iterable[Classification]) -> tuple[CompiledClassification, ...]:
    return tuple(
        CompiledClassification(
            c.id, c.severity, c.severity.rank, tuple(compile_condition(w) for w in c.when)
        )
        for c in rows
    )


def _says(rows: Iterable[Classification]) -> Mapping[str, str]:
    return MappingProxyType({c.id: c.says for c in rows if c.says})


def shared_pain_table(symptoms: SymptomsFile) -> PainTable:
    rows = symptoms.classifications
    return _pain_table(_compiled(rows), symptoms.actions, _says(rows))


def protocol_pain_rows(protocol: Protocol, symptoms: SymptomsFile) -> list[Classification]:
    """The classifications a protocol's runners are judged by: the shared red flags first (never
    removed), then the protocol's own rows in its file order (or the shared list unchanged)."""
    own = protocol.pain_rules.classifications if protocol.pain_rules else None
    if own is None:
        return list(symptoms.classifications)
    red = [c for c in symptoms.classifications if c.severity is Severity.RED_FLAG]
    return [*red, *own]


def _protocol_pain_table(
    protocol: Protocol, symptoms: SymptomsFile, shared: PainTable
) -> PainTable:
    rules = protocol.pain_rules
    if rules is None:
        return shared  # the same object: one memo of verdicts for every such protocol
    given = {k: v for k, v in rules.actions if v is not None}
    actions = symptoms.actions.model_copy(update=given) if given else symptoms.actions
    rows = protocol_pain_rows(protocol, symptoms)
    if rules.classifications is None:
        return _pain_table(shared.classifications, actions, shared.says)
    return _pain_table(_compiled(rows), actions, _says(rows))


@dataclass(frozen=True, slots=True)
class ProtocolTables:
    """One protocol's phases by id and its run ladder (every run level in order, across phases),
    its gate questions by (phase id, site id) and its prescriptions (see `PrescriptionKey`)."""

    protocol: Protocol
    phase: Mapping[str, Phase]
    index: Mapping[str, int]
    next_phase: Mapping[str, Phase | None]
    ladder: tuple[tuple[int, int], ...]  # (phase index, level index)
    ladder_position: Mapping[tuple[int, int], int]
    gate_questions: Mapping[tuple[str, str], tuple[str, ...]]
    prescriptions: Mapping[PrescriptionKey, Prescription]
    pain: PainTable  # how this protocol's runners' answers are judged, and what they do


def gate_questions(gate: Gate, site: Site, question_by_id: Mapping[str, Question]) -> list[str]:
    """The gate's questions that apply to this site (no hop tests where hopping is unsafe)."""
    return [q for q in gate.questions if site.hop_tests or not question_by_id[q].hop_test]


def _prescriptions(
    phases: Iterable[Phase], sch: SchedulingFile
) -> dict[PrescriptionKey, Prescription]:
    """Every prescription a phase's sessions can have: runs at each level, in deload weeks or not,
    and the cross-training and impact templates (those a phase has)."""
    made: dict[PrescriptionKey, Prescription] = {}
    for phase in phases:
        if phase.runs:
            for level in range(len(phase.levels)):
                for deload in (False, True):
                    rx = prescription(SessionKind.RUN, phase, level, deload, sch)
                    made[(phase.id, SessionKind.RUN, level, deload)] = rx
        # A non-run session's template: cross-training's for cross-training, the impact one else.
        for kind, template in (
            (SessionKind.CROSS_TRAIN, phase.cross),
            (SessionKind.STRENGTH, phase.impact),
        ):
            if template is not None:
                made[(phase.id, kind, 0, False)] = prescription(kind, phase, 0, False, sch)
        # Walking and plyometric phases plan their impact sessions under their own kinds.
        if phase.impact is not None and phase.impact.kind in (
            SessionKind.WALK,
            SessionKind.PLYOMETRIC,
        ):
            kind = phase.impact.kind
            made[(phase.id, kind, 0, False)] = prescription(kind, phase, 0, False, sch)
    return made


def _protocol_tables(
    protocol: Protocol,
    sites: Iterable[Site],
    question_by_id: Mapping[str, Question],
    sch: SchedulingFile,
    pain: PainTable,
) -> ProtocolTables:
    phases = protocol.phases
    ladder = tuple((i, j) for i, p in enumerate(phases) if p.runs for j in range(len(p.levels)))
    return ProtocolTables(
        protocol=protocol,
        phase=MappingProxyType({p.id: p for p in phases}),
        index=MappingProxyType({p.id: i for i, p in enumerate(phases)}),
        next_phase=MappingProxyType(
            {p.id: phases[i + 1] if i + 1 < len(phases) else None for i, p in enumerate(phases)}
        ),
        ladder=ladder,
        ladder_position=MappingProxyType({step: pos for pos, step in enumerate(ladder)}),
        gate_questions=MappingProxyType(
            {
                (p.id, site.id): tuple(gate_questions(p.gate, site, question_by_id))
                for p in phases
                for site in sites
            }
        ),
        prescriptions=MappingProxyType(_prescriptions(phases, sch)),
        pain=pain,
    )


class RuleTables:
    """The derived lookups of one rules bundle (see the module note)."""

    def __init__(
        self,
        *,
        protocols: Mapping[str, Protocol],
        sites: Iterable[Site],
        question_by_id: Mapping[str, Question],
        symptoms: SymptomsFile,
        scheduling: SchedulingFile,
        habits: HabitsFile,
    ) -> None:
        site_list = tuple(sites)
        self.pain = shared_pain_table(symptoms)
        self.protocols: Mapping[str, ProtocolTables] = MappingProxyType(
            {
                pid: _protocol_tables(
                    p,
                    site_list,
                    question_by_id,
                    scheduling,
                    _protocol_pain_table(p, symptoms, self.pain),
                )
                for pid, p in protocols.items()
            }
        )
        self.classifications = self.pain.classifications
        habit_list = habits.habits
        self.after_session_habits: tuple[Habit, ...] = tuple(
            h for h in habit_list if h.trigger == "after_session"
        )
        # Weekly, deload-week and off-week habits, in file order (their messages go out in it).
        self.planning_habits: tuple[Habit, ...] = tuple(
            h for h in habit_list if h.trigger in ("weekly", "deload_week", "off_week")
        )
        sch = scheduling
        plan = symptoms.actions.plan.id
        # Why a session fell on its day: the rules behind each kind of planned session.
        self.plan_why: Mapping[SessionKind, tuple[str, ...]] = MappingProxyType(
            {
                kind: (plan, sch.id_rest_day)
                + (
                    (sch.id_no_consecutive_runs,)
                    if kind is SessionKind.RUN
                    else (sch.id_cross_offset,)
                )
                for kind in SessionKind
            }
        )
        # The scheduling file's delays, as durations.
        self.checkin_nudge_after = timedelta(hours=sch.checkin_nudge_after_hours)
        self.followup_after = timedelta(hours=sch.followup_after_hours)
        self.followup_nudge_after = timedelta(hours=sch.followup_nudge_after_hours)
