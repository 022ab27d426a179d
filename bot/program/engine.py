"""The stage machine: `decide(state, event, rules, now) -> Decision`.

Reads like the clinic's protocol (DOMAIN.md): a runner moves through the protocol's phases when a
phase's entry gate is met (questions, days, clinician clearance where the site needs it); in the
run phases they climb the level ladder one step after the level's hold (a plateau of symptom-free
sessions) is met; a 24-hour follow-up decides progress / hold / regress (with rest days) / red flag;
repeated regressions escalate to the coach. Every Action names the id of the rule behind it.

Pure: no I/O, no clock. `now` is a timezone-aware UTC instant given by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from bot.program.calendar import (
    Slot,
    WeekType,
    build_deload_week,
    followup_times,
    is_deload,
    local_date,
    local_instant,
    next_slot,
    prescription,
    session_times,
    week_type,
    weekly_times,
)
from bot.program.decision import Act, Action, Decision, Message, MessageKind
from bot.program.events import (
    ClearanceClaimed,
    CoachAction,
    CoachLinked,
    CoachVerb,
    Enrolled,
    Event,
    FollowupAnswered,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionMissed,
    SessionReported,
    SettingsChanged,
    SymptomsReported,
    TimePassed,
)
from bot.program.followup import Check, Do, RunnerStatus, climb_row, followup_row
from bot.program.loader import Rules
from bot.program.rules import (
    Gate,
    ImagingGrade,
    Level,
    Phase,
    PhaseKind,
    Protocol,
    QuestionStage,
    ResumeOption,
    SessionKind,
    Severity,
    Site,
)
from bot.program.state import (
    OpenSession,
    Outcome,
    PendingGate,
    Planned,
    Prescription,
    Profile,
    ProgramState,
    Status,
)
from bot.program.symptoms import classify, validate_answers
from bot.program.tables import ProtocolTables, RuleTables
from bot.program.tables import gate_questions as _site_gate_questions

MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)
SIX_DAYS = timedelta(days=6)  # made once: timedelta() is not free


class NotEnrolled(Exception):
    """An event other than Enrolled for a runner without a program."""


class BadEvent(ValueError):
    """The event cannot apply to this runner (e.g. an unknown site); nothing changed."""


@dataclass(slots=True)  # internal and short-lived: not frozen, which makes it cheaper to build
class _Ctx:
    rules: Rules
    protocol: Protocol
    site: Site
    now: datetime
    today: date
    tz: str
    tables: RuleTables  # the rules' derived lookups (tables.py)
    pt: ProtocolTables  # the protocol's phases by id and run ladder
    grade: ImagingGrade | None  # the runner's imaging grade, when known


def _context(
    rules: Rules, protocol_id: str, site: Site, now: datetime, tz: str, profile: Profile | None
) -> _Ctx:
    tables = rules.tables
    pt = tables.protocols[protocol_id]
    grade = None
    if profile is not None and profile.imaging_grade is not None:  # most runners have none
        grade = rules.imaging_grade(profile.imaging_system, profile.imaging_grade)
    return _Ctx(rules, pt.protocol, site, now, local_date(now, tz), tz, tables, pt, grade)


def decide(state: ProgramState | None, event: Event, rules: Rules, now: datetime) -> Decision:
    """Apply one event to one runner's program. Deterministic: same inputs, same Decision."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if isinstance(event, Enrolled):
        return _enrol(event, rules, now)
    if state is None:
        raise NotEnrolled(type(event).__name__)
    profile = state.profile
    site = rules.site_by_id[profile.site_id]
    ctx = _context(rules, state.protocol_id, site, now, profile.timezone, profile)
    handler = _HANDLERS[type(event)]
    decision: Decision = handler(state, event, ctx)
    assert decision.actions, "every decision names at least one rule"
    return decision


# --- building blocks -------------------------------------------------------------------------


class _Out:
    """Collects what a decision does while the handler works."""

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.messages: dict[str, Message] = {}
        self.cancel: dict[str, None] = {}  # an ordered set of keys

    def act(self, act: Act, rule: str, **detail: Any) -> None:
        self.actions.append(Action(act, rule, detail))

    def send(self, msg: Message) -> None:
        self.messages[msg.key] = msg
        self.cancel.pop(msg.key, None)

    def drop(self, *keys: str) -> None:
        for k in keys:
            self.messages.pop(k, None)
            self.cancel.setdefault(k)

    def done(self, state: ProgramState, *, stale: bool = False) -> Decision:
        return Decision(
            state, tuple(self.actions), tuple(self.messages.values()), tuple(self.cancel), stale
        )


def _phase(state: ProgramState, ctx: _Ctx) -> Phase:
    return ctx.pt.phase[state.phase_id]


def _next_phase(state: ProgramState, ctx: _Ctx) -> Phase | None:
    return ctx.pt.next_phase[state.phase_id]


def gate_questions(gate: Gate, site: Site, rules: Rules) -> list[str]:
    """The gate's questions that apply to this site (no hop tests where hopping is unsafe)."""
    return _site_gate_questions(gate, site, rules.question_by_id)


def _gate_questions(phase: Phase, ctx: _Ctx) -> tuple[str, ...]:
    """`gate_questions` for a phase of the runner's protocol, from the tables (made for every
    phase and site of the rules; a site the rules lack has none there, so it is worked out)."""
    found = ctx.pt.gate_questions.get((phase.id, ctx.site.id))
    if found is None:
        found = tuple(_site_gate_questions(phase.gate, ctx.site, ctx.rules.question_by_id))
    return found


def needs_clearance(gate: Gate, site: Site, grade: ImagingGrade | None) -> bool:
    """Only a clinician opens this gate: always, or where the site or the imaging grade asks."""
    if gate.clearance == "always":
        return True
    risky = site.needs_clearance or (grade is not None and grade.needs_clearance)
    return gate.clearance == "site" and risky


def _needs_clearance(gate: Gate, ctx: _Ctx) -> bool:
    return needs_clearance(gate, ctx.site, ctx.grade)


def gate_min_days(phase: Phase, grade: ImagingGrade | None) -> int:
    """Days after diagnosis before this phase may start: the gate's, or the grade's for running."""
    days = phase.gate.min_days_since_diagnosis
    if grade is not None and phase.kind is PhaseKind.RUN_WALK:
        days = max(days, grade.min_days_before_run)
    return days


@lru_cache(maxsize=4096)  # a runner's sessions are numbered from 1: the same few keys recur
def _session_keys(seq: int) -> tuple[str, str, str]:
    return (f"reminder:{seq}", f"checkin:{seq}", f"close:{seq}")


@lru_cache(maxsize=4096)  # the same weekly prompts are planned again with every session
def _habit_key(habit_id: str, day: date) -> str:
    return f"habit:{habit_id}:{day}"


def _at_local(day: date, at: time, ctx: _Ctx) -> datetime:
    return local_instant(day, at, ctx.tz)


def _notice(out: _Out, ctx: _Ctx, key: str, code: str, **params: Any) -> None:
    out.send(Message(MessageKind.RUNNER_NOTICE, key, ctx.now, {"code": code, **params}))


def _coach_alert(
    out: _Out,
    state: ProgramState,
    ctx: _Ctx,
    key: str,
    reason: str,
    rules: list[str],
    due: datetime | None = None,
    **p: Any,
) -> None:
    payload = {
        "reason": reason,
        "rules": rules,
        "site": ctx.site.id,
        "phase": state.phase_id,
        "level": _level_id(state, ctx),
        **p,
    }
    out.send(Message(MessageKind.COACH_ALERT, key, due or ctx.now, payload))


def _level_id(state: ProgramState, ctx: _Ctx) -> str | None:
    ph = _phase(state, ctx)
    return ph.levels[state.level].id if ph.runs else None


def _replan(
    state: ProgramState,
    ctx: _Ctx,
    out: _Out,
    *,
    force: bool = False,
    not_before: date | None = None,
) -> ProgramState:
    """Put the next session on the calendar (or take it off), keeping its seq when it moves.

    `force` re-sends the reminder even when day and prescription are unchanged (the time moved).
    """
    old = state.next
    if state.status is not Status.ACTIVE:
        if old is not None:
            out.drop(*_session_keys(old.seq))
        return state.evolve(next=None)
    pref = state.profile.preferred_time
    if old is not None:
        start = max(old.day, ctx.today)
    else:
        start = ctx.today if _at_local(ctx.today, pref, ctx) > ctx.now else ctx.today + ONE_DAY
    if not_before is not None:
        start = max(start, not_before)
    phase = _phase(state, ctx)
    maint = state.maintenance_since
    sch = ctx.rules.scheduling
    slot = next_slot(
        phase=phase,
        level=phase.levels[state.level] if phase.runs else None,
        start=start,
        recent=state.recent,
        available_days=state.profile.available_days,
        impact_free_until=state.impact_free_until,
        maintenance_since=maint,
        sch=sch,
    )
    if slot is None:
        if old is not None:
            out.drop(*_session_keys(old.seq))
        return state.evolve(next=None)
    rx = _prescribe(slot, phase, state, ctx)
    same_rx = old is not None and (old.prescription is rx or old.prescription == rx)
    if old is not None and old.day == slot.day and same_rx and not force:
        return state
    if old is not None and old.prescription.kind is rx.kind:
        seq = old.seq  # same session, moved or re-sized: its reminder is re-scheduled in place
    else:
        # A different kind of session (e.g. strength became a run when a gate passed) is a new
        # session: new keys, so its reminder goes out even if the old one was already sent,
        # and a press on the old reminder is stale instead of reporting the wrong kind.
        seq = state.seq + 1
        if old is not None:
            out.drop(*_session_keys(old.seq))
    day = slot.day
    planned = Planned(seq, day, rx)
    due, nudge, end_of_day = session_times(
        day, pref, ctx.tz, ctx.tables.checkin_nudge_after, sch.quiet_hours
    )
    reminder, checkin, close = _session_keys(seq)
    payload = {"seq": seq, "day": day.isoformat()}
    out.send(Message(MessageKind.SESSION_REMINDER, reminder, due, payload))
    if nudge is not None:  # the nudge falls on the session's day
        out.send(Message(MessageKind.CHECKIN_NUDGE, checkin, nudge, payload))
    else:
        out.drop(checkin)
    out.send(Message(MessageKind.SESSION_CLOSE, close, end_of_day, payload))
    rule = ctx.rules.symptoms.actions.plan.id
    week, week_start = week_type(day, phase, maint, state.loading_since, sch)
    why = list(ctx.tables.plan_why[rx.kind])  # plan, rest day, and runs apart / cross between
    if rx.deload:
        building = phase.kind is not PhaseKind.MAINTENANCE
        why.append(sch.build.id_deload if building else sch.maintenance.id_deload)
    if week.off:
        why.append(sch.maintenance.id_off_week)
    out.act(Act.PLAN, rule, seq=seq, day=payload["day"], kind=rx.kind.value, why=why)
    _schedule_habits(state, ctx, out, due, week, week_start)
    return state.evolve(next=planned, seq=max(state.seq, seq))


def _prescribe(slot: Slot, phase: Phase, state: ProgramState, ctx: _Ctx) -> Prescription:
    """`calendar.prescribe`, from the protocol's prescriptions made in advance (tables.py)."""
    sch = ctx.rules.scheduling
    deload = is_deload(slot, phase, state.maintenance_since, sch, state.loading_since)
    kind = slot.kind
    level = state.level if kind is SessionKind.RUN else 0  # only a run's level changes it
    rx = ctx.pt.prescriptions.get((phase.id, kind, level, deload))
    if rx is None:  # a session the tables do not hold (none the calendar plans): made here
        rx = prescription(kind, phase, state.level, deload, sch)
    return rx


def _schedule_habits(
    state: ProgramState,
    ctx: _Ctx,
    out: _Out,
    session_due: datetime,
    week: WeekType,
    week_start: date | None,
) -> None:
    """Weekly habit prompts, and the deload / off-week notice with the week's first session.

    Keys carry the date, so planning the same week again schedules nothing twice."""
    pref = state.profile.preferred_time
    today = ctx.today
    for h in ctx.tables.planning_habits:  # weekly, deload-week and off-week habits, in file order
        if h.trigger == "weekly" and h.weekday is not None:
            this_week, next_week = weekly_times(h.weekday, today, pref, ctx.tz)
            day, due = this_week if this_week[1] > ctx.now else next_week
            out.send(Message(MessageKind.HABIT, _habit_key(h.id, day), due, {"habit": h.id}))
        elif (h.trigger == "deload_week" and week.deload) or (h.trigger == "off_week" and week.off):
            assert week_start is not None
            key = f"habit:{h.id}:{week_start}"
            out.send(Message(MessageKind.HABIT, key, session_due, {"habit": h.id}))


def _enter_phase(state: ProgramState, phase: Phase, ctx: _Ctx, out: _Out) -> ProgramState:
    maint = ctx.today if phase.kind is PhaseKind.MAINTENANCE else state.maintenance_since
    loading = state.loading_since
    if loading is None and phase.runs:
        loading = ctx.today  # the build-phase deload weeks count from the first run phase
    state = state.evolve(
        phase_id=phase.id,
        level=0,
        phase_since=ctx.today,
        level_since=ctx.today,
        clear_at_level=0,
        gate=None,
        maintenance_since=maint,
        loading_since=loading,
        stage_since=None,
    )
    state = _climbed(state, ctx)
    out.act(Act.ADVANCE_PHASE, phase.gate.id, phase=phase.id, kind=phase.kind.value)
    _notice(out, ctx, f"notice:phase:{phase.id}:{ctx.today}", "phase_entered", phase=phase.id)
    return _schedule_gate(state, ctx, out)


def _schedule_gate(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """Ask the next phase's gate questions once the current phase's minimum days have passed."""
    phase, nxt = _phase(state, ctx), _next_phase(state, ctx)
    if nxt is None or phase.runs:
        return state  # run phases finish by climbing their ladder, not by days
    day = max(
        state.phase_since + timedelta(days=phase.min_days),
        state.profile.diagnosis_date + timedelta(days=gate_min_days(nxt, ctx.grade)),
        ctx.today,
    )
    due = _at_local(day, state.profile.preferred_time, ctx)
    due = max(due, ctx.now)
    key = f"gate:{nxt.id}:{day.isoformat()}"
    out.send(Message(MessageKind.GATE_CHECK, key, due, {"phase": nxt.id}))
    return state


def _gate_ready(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """The current run ladder is complete: ask the next gate now (or pass straight through)."""
    nxt = _next_phase(state, ctx)
    if nxt is None:
        return _discharge(state, ctx, out) if ctx.protocol.discharges else state
    if not _gate_questions(nxt, ctx):
        return _try_pass_gate(state, nxt, ctx, out)
    key = f"gate:{nxt.id}:{ctx.today.isoformat()}"
    out.send(Message(MessageKind.GATE_CHECK, key, ctx.now, {"phase": nxt.id}))
    out.act(Act.GATE_ASKED, nxt.gate.id, phase=nxt.id)
    return state


def _discharge(state: ProgramState, ctx: _Ctx, out: _Out) -> ProgramState:
    """The last phase's top level is passed and the protocol ends there (on_finish: discharge):
    nothing more is scheduled, the runner is told, the coach gets a notice."""
    rule = ctx.protocol.on_finish.id
    level = _level_id(state, ctx)
    for session in state.open:
        out.drop(f"followup:{session.seq}", f"followup-nudge:{session.seq}")
    state = state.evolve(status=Status.DISCHARGED, gate=None, open=(), pause_reason=rule)
    out.act(Act.DISCHARGE, rule, phase=state.phase_id, level=level)
    _notice(
        out,
        ctx,
        f"notice:discharged:{state.phase_id}",
        "discharged",
        rules=[rule],
        message=ctx.protocol.on_finish.message,
    )
    _coach_alert(out, state, ctx, f"alert:discharged:{ctx.today}", "discharged", [rule])
    return _replan(state, ctx, out)


def _try_pass_gate(state: ProgramState, nxt: Phase, ctx: _Ctx, out: _Out) -> ProgramState:
    gate = nxt.gate
    if _needs_clearance(gate, ctx) and gate.clearance_key not in state.clearances:
        already = state.gate is not None and state.gate.awaiting_clearance
        state = state.evolve(
            gate=PendingGate(nxt.id, ctx.today, answers_ok=True, awaiting_clearance=True),
        )
        rule = ctx.rules.symptoms.actions.clearance_needed.id
        out.act(Act.AWAIT_CLEARANCE, rule, phase=nxt.id, clearance=gate.clearance_key)
        if not already:
            _clearance_alert(state, nxt, ctx, out, f"alert:clearance:{nxt.id}:{ctx.today}")
            _notice(out, ctx, f"notice:await:{nxt.id}", "awaiting_clearance", phase=nxt.id)
        return state
    return _enter_phase(state, nxt, ctx, out)


def _clearance_alert(state: ProgramState, nxt: Phase, ctx: _Ctx, out: _Out, key: str) -> None:
    """Ask the coach to clear the runner for `nxt`; says whether the runner claims they were."""
    gate = nxt.gate
    rule = ctx.rules.symptoms.actions.clearance_needed.id
    claimed = gate.clearance_key in state.claims
    why = [rule, gate.id]
    if claimed:
        why.append(ctx.rules.symptoms.actions.clearance_claimed.id)
    if ctx.grade is not None and ctx.grade.needs_clearance and not ctx.site.needs_clearance:
        why.append(f"imaging:{ctx.grade.id}")
    _coach_alert(
        out,
        state,
        ctx,
        key,
        "clearance_needed",
        why,
        next_phase=nxt.id,
        clearance=gate.clearance_key,
        claimed=claimed,
    )


def _move_levels(state: ProgramState, ctx: _Ctx, steps: int) -> ProgramState:
    """Move along the run ladder, across run phases if need be, never off its ends."""
    ladder = ctx.pt.ladder
    here = ctx.pt.ladder_position.get((ctx.pt.index[state.phase_id], state.level))
    if here is None:
        return state
    pos = max(0, min(len(ladder) - 1, here + steps))
    pi, lj = ladder[pos]
    phase = ctx.protocol.phases[pi]
    return state.evolve(
        phase_id=phase.id,
        level=lj,
        level_since=ctx.today,
        phase_since=state.phase_since if phase.id == state.phase_id else ctx.today,
        clear_at_level=0,
        stage_since=None,
    )


def _regress(
    state: ProgramState, ctx: _Ctx, out: _Out, because: tuple[str, ...], seq: int | str
) -> ProgramState:
    pain = ctx.pt.pain
    rule = pain.actions.regress
    esc = pain.actions.escalate
    before = _level_id(state, ctx)
    here = _ladder_position(state, ctx)
    if _phase(state, ctx).runs:
        state = _move_levels(state, ctx, -rule.levels)
    rest_until = ctx.today + timedelta(days=rule.rest_days)
    window = ctx.today - timedelta(days=pain.escalate_window_days)
    regressions = (*(d for d in state.regressions if d > window), ctx.today)
    # "Still painful after stepping back": at or below the level of the last regression.
    last = _position_of(state.last_regress_level, ctx)
    again = here is not None and last is not None and here <= last
    state = state.evolve(
        impact_free_until=max(rest_until, state.impact_free_until or rest_until),
        regressions=regressions,
        clear_at_level=0,
        gate=None,
    )
    if pain.watches_step_back and here is not None:  # remembered only where a rule asks for it
        state = state.evolve(last_regress_level=before)
    out.act(
        Act.REGRESS,
        rule.id,
        because=list(because),
        from_level=before,
        to_level=_level_id(state, ctx),
        rest_days=rule.rest_days,
    )
    _notice(
        out,
        ctx,
        f"notice:regress:{seq}",
        "regressed",
        level=_level_id(state, ctx),
        rest_days=rule.rest_days,
        rules=[rule.id, *because],
    )
    if state.status is Status.RED_FLAG:
        return state
    fired = [
        w
        for w in pain.escalate_when
        if (w.regress_at_or_below_last and again)
        or (
            w.regressions is not None
            and w.within_days is not None
            and sum(d > ctx.today - timedelta(days=w.within_days) for d in regressions)
            >= w.regressions
        )
    ]
    if not fired:
        return state
    stop = [w for w in fired if (w.then or esc.then) == "stop"]
    ids = list(dict.fromkeys(w.id or esc.id for w in (stop or fired)))
    why = [*ids, *([esc.id] if esc.id not in ids else []), rule.id, *because]
    if stop:
        state = _stop(state, ctx, Status.ESCALATED, esc.id)
        detail: dict[str, Any] = {"regressions": len(regressions)}
        if esc.when is None:
            detail["within_days"] = esc.within_days
        else:
            detail["triggers"] = ids
        out.act(Act.ESCALATE, ids[0], **detail)
        _stop_alert(
            out,
            state,
            ctx,
            f"alert:escalate:{seq}",
            "escalated",
            why,
            regressions=len(regressions),
        )
        _notice(out, ctx, f"notice:escalate:{seq}", "escalated", rules=[ids[0]])
        return state
    # Notify only: the clinician hears of it; the runner keeps going at the lower level.
    out.act(Act.RECORD, ids[0], notified="coach", triggers=ids, regressions=len(regressions))
    _coach_alert(
        out,
        state,
        ctx,
        f"alert:notify:{seq}",
        "step_back_notice",
        why,
        regressions=len(regressions),
    )
    return state


def _ladder_position(state: ProgramState, ctx: _Ctx) -> int | None:
    """Where the runner is on the protocol's run ladder (None outside the run phases)."""
    return ctx.pt.ladder_position.get((ctx.pt.index[state.phase_id], state.level))


def _position_of(level_id: str | None, ctx: _Ctx) -> int | None:
    """The ladder position of a level of this protocol, by id (None: no such level here)."""
    if level_id is None:
        return None
    phases = ctx.protocol.phases
    for pos, (pi, lj) in enumerate(ctx.pt.ladder):
        if phases[pi].levels[lj].id == level_id:
            return pos
    return None


def _climbed(state: ProgramState, ctx: _Ctx) -> ProgramState:
    """Above the level of the last regression: a later one is no longer 'still painful'."""
    last = state.last_regress_level
    if last is None:
        return state
    here, was = _ladder_position(state, ctx), _position_of(last, ctx)
    if here is not None and (was is None or here > was):
        return state.evolve(last_regress_level=None)
    return state


def _stop(state: ProgramState, ctx: _Ctx, status: Status, rule: str) -> ProgramState:
    """Stop: only a clinician's recorded clearance makes this runner active again."""
    since = state.flag_since if state.status.stopped and state.flag_since else ctx.now
    return state.evolve(
        status=status, pause_reason=rule, open=(), gate=None, flag_since=since, flag_ack=None
    )


def _reminder_key(state: ProgramState) -> str:
    """The key of the stop's repeated alert: one per stop, derived from when it began."""
    assert state.flag_since is not None
    return f"alert:again:{state.flag_since.isoformat()}"


def _call_off_reminder(state: ProgramState, out: _Out) -> None:
    """A clinician acted on the stop: its repeated alert is not sent. (A stop stored before
    stops had a start time has no repeated alert to call off.)"""
    if state.flag_since is not None:
        out.drop(_reminder_key(state))


def _stop_alert(
    out: _Out, state: ProgramState, ctx: _Ctx, key: str, reason: str, rules: list[str], **p: Any
) -> None:
    """The urgent alert of a stop, and the same alert again later unless a clinician has acted
    on it by then (acknowledged, kept stopped or cleared: each cancels the repeat)."""
    _coach_alert(out, state, ctx, key, reason, rules, urgent=True, **p)
    hours = ctx.rules.symptoms.actions.red_flag.remind_coach_after_hours
    again = ctx.now + timedelta(hours=hours)
    key = _reminder_key(state)
    _coach_alert(out, state, ctx, key, reason, rules, again, urgent=True, reminder=True, **p)


def _red_flag(
    state: ProgramState,
    ctx: _Ctx,
    out: _Out,
    because: tuple[str, ...],
    seq: int | str,
    answers: dict[str, int | bool],
) -> ProgramState:
    rule = ctx.rules.symptoms.actions.red_flag.id
    state = _stop(state, ctx, Status.RED_FLAG, rule)
    out.act(Act.RED_FLAG, rule, because=list(because))
    _stop_alert(out, state, ctx, f"alert:red:{seq}", "red_flag", [rule, *because], answers=answers)
    _notice(out, ctx, f"notice:red:{seq}", "red_flag", rules=[rule, *because])
    return state


def _progress_after_clear(state: ProgramState, ctx: _Ctx, out: _Out, seq: int) -> ProgramState:
    """A session that counts toward the plateau: what it does is looked up in followup.CLIMB."""
    phase = _phase(state, ctx)
    if not phase.runs:
        row = climb_row(False, False, False, False)  # no ladder
        out.act(Act.HOLD, _row_rule(row.rule, ctx), reason="no ladder in this phase")
        return state
    level = phase.levels[state.level]
    clear = state.clear_at_level + 1
    days = (ctx.today - state.level_since).days
    state = state.evolve(clear_at_level=clear)
    reached = _hold_met(state, level, ctx.today)
    # The deload week is asked only once the hold is reached (the rows above decide otherwise).
    deload_week = (
        reached
        and phase.kind is not PhaseKind.MAINTENANCE
        and build_deload_week(ctx.today, state.loading_since, ctx.rules.scheduling)
    )
    top = state.level + 1 >= len(phase.levels)
    row = climb_row(True, reached, deload_week, top)  # ladder, hold reached, deload week, top
    rule = _row_rule(row.rule, ctx)
    if row.do is Do.HOLDING and level.stage_days is not None:
        start = state.stage_since or ctx.today
        day = (ctx.today - start).days + 1
        out.act(Act.HOLD, rule, level=level.id, stage_day=day, stage_days=level.stage_days)
        _notice(
            out,
            ctx,
            f"notice:holding:{seq}",
            "stage_holding",
            level=level.id,
            day=day,
            days=level.stage_days,
            rules=[rule],
        )
    elif row.do is Do.HOLDING:
        out.act(
            Act.HOLD,
            rule,
            level=level.id,
            clear=clear,
            needed=level.hold_sessions,
            days=days,
            needed_days=level.hold_days,
        )
        _notice(
            out,
            ctx,
            f"notice:holding:{seq}",
            "holding",
            level=level.id,
            clear=clear,
            needed=level.hold_sessions,
            rules=[rule],
        )
    elif row.do is Do.DELOAD_HOLD:
        # A deload week is a plateau on purpose: the step up waits for the week after it.
        out.act(Act.HOLD, rule, level=level.id, clear=clear, reason="deload week")
    elif row.do is Do.STEP_UP:
        state = state.evolve(
            level=state.level + 1, level_since=ctx.today, clear_at_level=0, stage_since=None
        )
        state = _climbed(state, ctx)
        new = phase.levels[state.level].id
        out.act(Act.PROGRESS, rule, from_level=level.id, to_level=new)
        _notice(out, ctx, f"notice:progress:{seq}", "progressed", level=new, rules=[rule])
    else:
        assert row.do is Do.TOP
        out.act(Act.HOLD, rule, level=level.id, reason="top of ladder")
        if state.gate is None:
            state = _gate_ready(state, ctx, out)
    return state


def _hold_met(state: ProgramState, level: Level, today: date) -> bool:
    """The level's hold is met: its clear sessions and days, and for a stage (stage_days) the
    calendar days since the stage's first session (a mild session restarted it)."""
    if state.clear_at_level < level.hold_sessions:
        return False
    if today < state.level_since + timedelta(level.hold_days):
        return False
    if level.stage_days is None:
        return True
    start = state.stage_since
    return (
        start is not None
        and start >= state.level_since
        and today >= start + timedelta(level.stage_days)
    )


def _stage_started(state: ProgramState, ctx: _Ctx, level_id: str | None) -> ProgramState:
    """A session at a stage level (stage_days) starts the stage's clock if none is running."""
    phase = _phase(state, ctx)
    if not phase.runs:
        return state
    level = phase.levels[state.level]
    if level.stage_days is None or level.id != level_id:
        return state
    start = state.stage_since
    if start is not None and start >= state.level_since:
        return state
    return state.evolve(stage_since=ctx.today)


# --- handlers --------------------------------------------------------------------------------


def protocol_choices(rules: Rules, site: Site) -> list[Protocol]:
    """The protocols this site's runner may follow: those written for the site's risk class
    ("not sure" counts as high). A low-risk protocol, with no non-weight-bearing phase and fewer
    clearances, is never offered for a high-risk site; nor one with hops or plyometrics for a
    site where hopping could complete the fracture (`hop_tests: false`)."""
    risk = "high" if site.unsure else site.risk.value
    return [
        p
        for p in rules.protocols.values()
        if p.for_risk.value == risk and (site.hop_tests or not _has_hops(p))
    ]


def _has_hops(protocol: Protocol) -> bool:
    """Hops in any session template; a plyometric phase is all hops."""
    return any(
        phase.kind is PhaseKind.PLYOMETRIC or (template is not None and template.has_hops)
        for phase in protocol.phases
        for template in (phase.impact, phase.cross)
    )


def chosen_protocol(rules: Rules, site: Site, protocol_id: str | None) -> Protocol:
    """The protocol a runner at `site` follows: the one chosen for them, if it is allowed for
    the site, else the site's own or its risk class's (sites.yaml)."""
    if protocol_id is None:
        return rules.protocol_for(site)
    allowed = {p.id: p for p in protocol_choices(rules, site)}
    if protocol_id not in allowed:
        raise BadEvent(
            f"protocol {protocol_id!r} is not one for site {site.id!r} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return allowed[protocol_id]


def _enrol(ev: Enrolled, rules: Rules, now: datetime) -> Decision:
    site = rules.site_by_id.get(ev.site_id)
    if site is None:
        raise BadEvent(f"unknown site {ev.site_id!r}")
    if not ev.available_days or not ev.available_days <= set(range(7)):
        raise BadEvent("available_days must be a non-empty set of weekdays 0..6")
    local_date(now, ev.timezone)  # raises for an unknown zone before anything is built
    protocol = chosen_protocol(rules, site, ev.protocol_id)
    profile = Profile(
        site_id=site.id,
        diagnosis_date=ev.diagnosis_date,
        timezone=ev.timezone,
        preferred_time=ev.preferred_time,
        available_days=frozenset(ev.available_days),
        imaging_system=ev.imaging_system,
        imaging_grade=ev.imaging_grade,
    )
    ctx = _context(rules, protocol.id, site, now, ev.timezone, profile)
    first = protocol.phases[0]
    state = ProgramState(
        profile=profile,
        protocol_id=protocol.id,
        phase_id=first.id,
        level=0,
        phase_since=ctx.today,
        level_since=ctx.today,
        claims=frozenset(ev.claimed),  # requests: nothing is cleared by the runner's word
        maintenance_since=ctx.today if first.kind is PhaseKind.MAINTENANCE else None,
    )
    out = _Out()
    out.act(Act.ENROL, rules.symptoms.actions.enrol.id, protocol=protocol.id, site=site.id)
    out.act(Act.ADVANCE_PHASE, first.gate.id, phase=first.id, kind=first.kind.value)
    # Pass the gates the onboarding answers already satisfy, never into running on answers alone,
    # and never through a gate that needs a clinician: there the coach is asked at once.
    for nxt in protocol.phases[1:]:
        g = nxt.gate
        days_ok = (ctx.today - ev.diagnosis_date).days >= gate_min_days(nxt, ctx.grade)
        answers_ok = all(ev.gate_answers.get(q) is True for q in _gate_questions(nxt, ctx))
        if not (g.on_enrolment and days_ok and answers_ok):
            break
        if _needs_clearance(g, ctx):
            state = _try_pass_gate(state, nxt, ctx, out)
            return out.done(_replan(state, ctx, out))
        state = state.evolve(phase_id=nxt.id, phase_since=ctx.today, level_since=ctx.today)
        out.act(Act.ADVANCE_PHASE, g.id, phase=nxt.id, kind=nxt.kind.value, on_enrolment=True)
    state = _schedule_gate(state, ctx, out)
    state = _replan(state, ctx, out)
    return out.done(state)


def _on_reported(state: ProgramState, ev: SessionReported, ctx: _Ctx) -> Decision:
    out = _Out()
    nxt = state.next
    if nxt is None or not state.session_open(ev.seq, ctx.today):
        out.act(Act.STALE, ctx.rules.symptoms.actions.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    acts = ctx.rules.symptoms.actions
    out.drop(*_session_keys(ev.seq))
    if ev.outcome is Outcome.SKIPPED:
        out.act(Act.MISSED, acts.missed.id, seq=ev.seq, skipped=True)
        state = state.evolve(next=None)
        # Skipped today, even before its reminder: the next allowed day is tomorrow at the earliest.
        return out.done(_replan(state, ctx, out, not_before=ctx.today + ONE_DAY))
    kind = nxt.prescription.kind
    answers: dict[str, int | bool] = {}
    if ev.pain_during is not None:
        answers["pain_during"] = ev.pain_during
    if ev.rpe is not None:
        answers["rpe"] = ev.rpe
    answers = validate_answers(answers, ctx.rules)
    severity, because = classify(answers, ctx.rules, state.protocol_id)
    if ev.outcome is Outcome.PARTIAL and severity.rank < Severity.MILD.rank:
        severity, because = Severity.MILD, (acts.partial.id,)
    cutoff = ctx.today - SIX_DAYS
    recent = (*[r for r in state.recent if r[0] >= cutoff], (ctx.today, kind))
    state = state.evolve(next=None, recent=recent, sessions_total=state.sessions_total + 1)
    if kind.is_impact:
        state = _stage_started(state, ctx, nxt.prescription.level_id)
    out.act(
        Act.RECORD,
        acts.partial.id if ev.outcome is Outcome.PARTIAL else acts.plan.id,
        seq=ev.seq,
        outcome=ev.outcome.value,
        severity=severity.value,
        because=list(because),
    )
    applied = Severity.CLEAR
    if severity is Severity.RED_FLAG:
        state = _red_flag(state, ctx, out, because, ev.seq, answers)
        return out.done(_replan(state, ctx, out))
    if severity is Severity.REGRESS:
        # Pain during the session: stop now and regress, don't wait a day (DOMAIN 4.4).
        state = _regress(state, ctx, out, because, ev.seq)
        applied = Severity.REGRESS
    for h in ctx.tables.after_session_habits:
        if not h.after_kinds or kind in h.after_kinds:
            key = f"habit:{h.id}:{ev.seq}"
            out.send(Message(MessageKind.HABIT, key, ctx.now, {"habit": h.id}))
            out.act(Act.RECORD, h.id, habit=h.id)
    watch = _watch_due(state, ctx)
    if (kind.is_impact or watch) and state.status is Status.ACTIVE:
        after = ctx.tables.followup_after
        if not kind.is_impact:
            # A session before running: a short red-flag check (symptoms.yaml watch).
            after = timedelta(hours=ctx.rules.symptoms.watch.after_hours)
            state = state.evolve(watched_on=ctx.today)
            out.act(Act.RECORD, ctx.rules.symptoms.watch.id, seq=ev.seq, check="asked")
        due, nudge = followup_times(
            ctx.now,
            after,
            ctx.tables.followup_nudge_after,
            ctx.tz,
            ctx.rules.scheduling.quiet_hours,
        )
        payload = {"seq": ev.seq}
        out.send(Message(MessageKind.FOLLOWUP, f"followup:{ev.seq}", due, payload))
        out.send(Message(MessageKind.FOLLOWUP_NUDGE, f"followup-nudge:{ev.seq}", nudge, payload))
        opened = OpenSession(
            ev.seq,
            ctx.today,
            kind,
            ctx.now,
            severity,
            applied,
            answers.get("pain_during"),
            nxt.prescription.level_id,
        )
        state = state.evolve(open=(*state.open, opened))
    elif severity is Severity.CLEAR and not kind.is_impact:
        pass  # cross-training and strength count toward nothing but the calendar
    elif severity is Severity.MILD:
        out.act(Act.HOLD, ctx.pt.pain.actions.hold.id, because=list(because))
    return out.done(_replan(state, ctx, out))


def _watch_due(state: ProgramState, ctx: _Ctx) -> bool:
    """Does a session in this phase get the red-flag check now (at most one every few days)?"""
    watch = ctx.rules.symptoms.watch
    if _phase(state, ctx).kind not in watch.questions:
        return False
    last = state.watched_on
    return last is None or (ctx.today - last).days >= watch.min_days_apart


def followup_questions(state: ProgramState, seq: int, rules: Rules) -> list[str]:
    """The questions of one open 24-hour check: every follow-up question for a run, the phase's
    red-flag questions for a session before running. Empty when no such check is open."""
    found = next((o for o in state.open if o.seq == seq), None)
    if found is None:
        return []
    site = rules.site(state.profile.site_id)
    if not found.watch:
        return [q.id for q in rules.questions_for(QuestionStage.FOLLOWUP, site)]
    proto = rules.tables.protocols[state.protocol_id]
    kind = proto.phase[state.phase_id].kind
    ids = rules.symptoms.watch.questions.get(kind, [])
    return [q for q in ids if site.hip or not rules.question_by_id[q].hip_only]


def report_questions(state: ProgramState, rules: Rules) -> list[str]:
    """The questions of a symptom report the runner opens at any time (/pain)."""
    site = rules.site(state.profile.site_id)
    ids = rules.symptoms.report_questions
    return [q for q in ids if site.hip or not rules.question_by_id[q].hip_only]


def _on_followup(state: ProgramState, ev: FollowupAnswered, ctx: _Ctx) -> Decision:
    """The 24-hour check answered: the situation is looked up in followup.FOLLOWUP."""
    out = _Out()
    acts = ctx.pt.pain.actions
    found = next((o for o in state.open if o.seq == ev.seq), None)
    if found is None:
        out.act(Act.STALE, acts.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    answers = validate_answers(ev.answers, ctx.rules)
    if found.pain_during is not None:
        answers.setdefault("pain_during", found.pain_during)
    severity, because = classify(answers, ctx.rules, state.protocol_id)
    if severity.rank < found.severity.rank:
        severity, because = found.severity, because or (acts.hold.id,)
    state = state.evolve(open=tuple(o for o in state.open if o.seq != ev.seq))
    out.drop(f"followup:{ev.seq}", f"followup-nudge:{ev.seq}")
    status = state.status
    runner = (
        RunnerStatus.STOPPED
        if status.stopped
        else RunnerStatus.PAUSED
        if status is Status.PAUSED
        else RunnerStatus.ACTIVE
    )
    applied = found.applied is not Severity.CLEAR and severity.rank <= found.applied.rank
    # A session done at another rung, or before the level last changed (its follow-up answered
    # late, or a coach moved the level that day), still counts for regress and red flags, but
    # not toward the plateau of the level the runner is on now.
    counts = found.day >= state.level_since and found.level_id in (None, _level_id(state, ctx))
    check = Check.WATCH if found.watch else Check.RUN
    row = followup_row(check, runner, severity, applied, counts)
    answered = _Answered(
        ev.seq, found, answers, because, severity, counts, _row_rule(row.rule, ctx)
    )
    state = _FOLLOWUP_DO[row.do](state, ctx, out, answered)
    if row.do is Do.NOTE_ONLY:
        return out.done(state)  # nothing changed for the calendar
    return out.done(_replan(state, ctx, out))


@dataclass(slots=True)  # internal and short-lived, like _Ctx
class _Answered:
    """One answered follow-up, as the FOLLOWUP actions need it."""

    seq: int
    session: OpenSession
    answers: dict[str, int | bool]
    because: tuple[str, ...]
    severity: Severity
    counts: bool
    rule: str  # the id of the rule the table's row names


def _row_rule(key: str, ctx: _Ctx) -> str:
    """The rule id a row of followup.py names: an action of the runner's protocol (its own
    `pain_rules` or symptoms.yaml), the check before running, or the build-phase deload."""
    if key == "watch":
        return ctx.rules.symptoms.watch.id
    if key == "deload":
        return ctx.rules.scheduling.build.id_deload
    rule_id: str = getattr(ctx.pt.pain.actions, key).id
    return rule_id


def _do_red_flag(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _red_flag(state, ctx, out, fu.because, fu.seq, fu.answers)


def _do_regress(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _regress(state, ctx, out, fu.because, fu.seq)


def _do_note_watch(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    severity = fu.severity.value
    out.act(Act.RECORD, fu.rule, seq=fu.seq, severity=severity, because=list(fu.because))
    return state


def _do_note_only(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    out.act(Act.RECORD, fu.rule, seq=fu.seq, status=state.status.value)
    return state


def _do_keep(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    applied = fu.session.applied.value
    out.act(Act.HOLD, fu.rule, seq=fu.seq, already_applied=applied)
    return state


def _do_hold_mild(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    if ctx.pt.pain.actions.hold.counts_toward_hold and fu.counts:
        state = _progress_after_clear(state, ctx, out, fu.seq)
    elif fu.counts and state.stage_since is not None:
        # A stage counts only sessions that were all clear: a mild one starts it again.
        state = state.evolve(stage_since=None)
        out.act(Act.HOLD, fu.rule, reason="stage restarts", level=_level_id(state, ctx))
    level = _level_id(state, ctx)
    out.act(Act.HOLD, fu.rule, because=list(fu.because), level=level)
    key = f"notice:hold:{fu.seq}"
    _notice(out, ctx, key, "held", level=level, rules=[fu.rule, *fu.because])
    return state


def _do_count(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    return _progress_after_clear(state, ctx, out, fu.seq)


def _do_not_counted(state: ProgramState, ctx: _Ctx, out: _Out, fu: _Answered) -> ProgramState:
    out.act(Act.HOLD, fu.rule, seq=fu.seq, reason="done before the level changed")
    return state


_FOLLOWUP_DO: dict[Do, Any] = {
    Do.RED_FLAG: _do_red_flag,
    Do.REGRESS: _do_regress,
    Do.NOTE_WATCH: _do_note_watch,
    Do.NOTE_ONLY: _do_note_only,
    Do.KEEP: _do_keep,
    Do.HOLD_MILD: _do_hold_mild,
    Do.COUNT: _do_count,
    Do.NOT_COUNTED: _do_not_counted,
}


def _on_missed(state: ProgramState, ev: SessionMissed, ctx: _Ctx) -> Decision:
    out = _Out()
    nxt = state.next
    if nxt is None or nxt.seq != ev.seq or nxt.day >= ctx.today:
        out.act(Act.STALE, ctx.rules.symptoms.actions.stale.id, seq=ev.seq)
        return out.done(state, stale=True)
    return _slide(state, ctx, out)


def _slide(state: ProgramState, ctx: _Ctx, out: _Out) -> Decision:
    assert state.next is not None
    seq = state.next.seq
    out.act(Act.MISSED, ctx.rules.symptoms.actions.missed.id, seq=seq)
    out.drop(*_session_keys(seq))
    state = state.evolve(next=None)
    return out.done(_replan(state, ctx, out))


def _on_time(state: ProgramState, ev: TimePassed, ctx: _Ctx) -> Decision:
    out = _Out()
    if state.next is not None and state.next.day < ctx.today:
        return _slide(state, ctx, out)
    if state.status is Status.ACTIVE and state.next is None:
        state = _replan(state, ctx, out)
    if not out.actions:
        out.act(Act.RECORD, ctx.rules.symptoms.actions.plan.id, unchanged=True)
    return out.done(state)


def _on_gate(state: ProgramState, ev: GateAnswered, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    nxt = _next_phase(state, ctx)
    phase = _phase(state, ctx)
    top = phase.levels[-1] if phase.runs else None
    ladder_done = (
        top is not None
        and state.level == len(phase.levels) - 1
        and _hold_met(state, top, ctx.today)
    )
    # The next gate's own minimum (e.g. 6 weeks non-weight-bearing) counts, not just this phase's.
    since_diagnosis = gate_min_days(nxt, ctx.grade) if nxt is not None else 0
    due_by_days = (
        not phase.runs
        and ctx.today >= state.phase_since + timedelta(phase.min_days)
        and ctx.today >= state.profile.diagnosis_date + timedelta(since_diagnosis)
    )
    if (
        nxt is None
        or nxt.id != ev.phase_id
        or state.status is not Status.ACTIVE
        or not (ladder_done or due_by_days)
    ):
        out.act(Act.STALE, acts.stale.id, phase=ev.phase_id)
        return out.done(state, stale=True)
    answers = validate_answers(dict(ev.answers), ctx.rules)
    implied = gate_symptoms(answers, ctx.rules)
    if implied:
        # "No, pressing on the bone still hurts" is a symptom, judged like any check.
        severity, because = classify(implied, ctx.rules, state.protocol_id)
        if severity is Severity.RED_FLAG:
            ref = f"gate-{nxt.id}-{ctx.today}"
            state = _red_flag(state, ctx, out, because, ref, implied)
            return out.done(_replan(state, ctx, out))
    missing = [q for q in _gate_questions(nxt, ctx) if answers.get(q) is not True]
    if missing:
        recheck = ctx.today + timedelta(days=ctx.rules.scheduling.gate_recheck_days)
        due = _at_local(recheck, state.profile.preferred_time, ctx)
        out.send(
            Message(MessageKind.GATE_CHECK, f"gate:{nxt.id}:{recheck}", due, {"phase": nxt.id})
        )
        out.act(Act.GATE_NOT_YET, acts.gate_not_yet.id, phase=nxt.id, no=missing)
        _notice(out, ctx, f"notice:gate-no:{nxt.id}:{ctx.today}", "gate_not_yet", phase=nxt.id)
        return out.done(state)
    state = _try_pass_gate(state, nxt, ctx, out)
    return out.done(_replan(state, ctx, out))


def gate_symptoms(answers: dict[str, Any], rules: Rules) -> dict[str, int | bool]:
    """The follow-up answers that 'no' to gate questions amount to (questions.yaml no_means)."""
    implied: dict[str, int | bool] = {}
    for qid, value in answers.items():
        q = rules.question_by_id.get(qid)
        if q is not None and value is False:
            implied.update(q.no_means)
    return implied


def _on_coach(state: ProgramState, ev: CoachAction, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    rule = acts.coach.id
    verb = ev.verb
    who = _who(ev)
    if verb is CoachVerb.ACKNOWLEDGE:
        if state.status.stopped and state.flag_ack is None:
            state = _acknowledge(state, ev, ctx, out)
        out.act(Act.RECORD, acts.acknowledged.id, status=state.status.value, **who)
        return out.done(state)
    if state.status is Status.DISCHARGED:  # the protocol has ended: nothing to change
        out.act(Act.STALE, rule, status=state.status.value, **who)
        return out.done(state, stale=True)
    if state.status.stopped:
        # A red flag or an escalation: only a deliberate Clear lifts it. Every other verb is
        # the clinician's word on the runner that keeps them stopped, and says so.
        if verb is CoachVerb.CLEAR:
            state = _lift_stop(state, ev, ctx, out)
        else:
            state = _keep_stop(state, ev, ctx, out)
        return out.done(_replan(state, ctx, out))
    if verb is CoachVerb.PAUSE:
        state = state.evolve(status=Status.PAUSED, pause_reason=f"coach:{ev.coach_id}")
        out.act(Act.PAUSE, rule, **who)
        key = f"notice:coach:{ev.coach_id}:pause:{ctx.now.isoformat()}"
        _notice(out, ctx, key, "coach_paused", rules=[rule], by=_by(ev))
        return out.done(_replan(state, ctx, out))
    was = state.status
    if verb in (CoachVerb.RESUME, CoachVerb.CLEAR) and was is Status.PAUSED:
        # Resume and Clear lift a pause; Hold, Regress and Advance change the level only.
        state = state.evolve(status=Status.ACTIVE, pause_reason=None)
        out.act(Act.RESUME, rule, previous=was.value, **who)
    if verb is CoachVerb.HOLD:
        state = state.evolve(clear_at_level=0)
        out.act(Act.HOLD, rule, level=_level_id(state, ctx), **who)
    elif verb is CoachVerb.REGRESS:
        before = _level_id(state, ctx)
        state = _move_levels(state, ctx, -1)
        out.act(Act.REGRESS, rule, from_level=before, to_level=_level_id(state, ctx), **who)
    elif verb is CoachVerb.ADVANCE:
        phase = _phase(state, ctx)
        if phase.runs and state.level + 1 < len(phase.levels):
            before = _level_id(state, ctx)
            state = state.evolve(level=state.level + 1, level_since=ctx.today, clear_at_level=0)
            state = _climbed(state, ctx)
            out.act(Act.PROGRESS, rule, from_level=before, to_level=_level_id(state, ctx), **who)
        else:
            nxt = _next_phase(state, ctx)
            if nxt is None:
                out.act(Act.HOLD, rule, reason="last phase", **who)
            else:
                clearance = nxt.gate.clearance_key
                if clearance:
                    state = state.evolve(clearances=state.clearances | {clearance})
                state = _enter_phase(state, nxt, ctx, out)
                out.act(Act.CLEARED, rule, phase=nxt.id, **who)
    elif verb is CoachVerb.CLEAR:
        state = _coach_clear(state, ctx, out, who, was)
    elif verb is CoachVerb.RESUME and was is Status.ACTIVE:
        out.act(Act.RECORD, rule, **who)
    if verb is not CoachVerb.CLEAR and not out.actions:
        out.act(Act.RECORD, rule, **who)
    if was is not Status.ACTIVE and state.status is Status.ACTIVE:
        # A gate check that fell due while paused was dropped: ask it again.
        state = _schedule_gate(state, ctx, out)
    key = f"notice:coach:{ev.coach_id}:{verb.value}:{ctx.now.isoformat()}"
    level = _level_id(state, ctx)
    _notice(out, ctx, key, f"coach_{verb.value}", rules=[rule], level=level, by=_by(ev))
    return out.done(_replan(state, ctx, out))


def _who(ev: CoachAction) -> dict[str, Any]:
    who: dict[str, Any] = {"coach_id": ev.coach_id, "verb": ev.verb.value}
    if ev.by:
        who["by"] = ev.by
    if ev.option:
        who["option"] = ev.option
    return who


def _by(ev: CoachAction) -> str:
    """Who decided, as the runner is told: their coach, or the clinic (the operator)."""
    return "operator" if ev.by else "coach"


def _actor(ev: CoachAction) -> str:
    return f"operator:{ev.by}" if ev.by else f"coach:{ev.coach_id}"


def resume_options(state: ProgramState, rules: Rules) -> list[ResumeOption]:
    """The ways back the rules allow from this runner's stop (empty when not stopped)."""
    acts = rules.symptoms.actions
    if state.status is Status.RED_FLAG:
        return list(acts.red_flag.resume)
    if state.status is Status.ESCALATED:
        pain = rules.tables.protocols[state.protocol_id].pain  # the protocol's own, if any
        return list(pain.actions.escalate.resume)
    return []


def _acknowledge(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    """A clinician has seen the stop: recorded, and the repeated alert is called off."""
    _call_off_reminder(state, out)
    rule = ctx.rules.symptoms.actions.acknowledged.id
    key = f"notice:ack:{state.flag_since}"
    _notice(out, ctx, key, "coach_acknowledged", rules=[rule], by=_by(ev))
    return state.evolve(flag_ack=_actor(ev))


def _keep_stop(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    acts = ctx.rules.symptoms.actions
    rule = acts.coach_kept_stop.id
    if state.flag_ack is None:
        state = _acknowledge(state, ev, ctx, out)
    if ev.verb is CoachVerb.REGRESS:
        before = _level_id(state, ctx)
        state = _move_levels(state, ctx, -1)
        out.act(Act.REGRESS, acts.coach.id, from_level=before, to_level=_level_id(state, ctx))
    out.act(Act.RECORD, rule, kept=state.status.value, **_who(ev))
    key = f"notice:coach:{ev.coach_id}:kept:{ctx.now.isoformat()}"
    level = _level_id(state, ctx)
    _notice(out, ctx, key, "coach_kept_stop", rules=[rule], level=level, by=_by(ev))
    return state


def _lift_stop(state: ProgramState, ev: CoachAction, ctx: _Ctx, out: _Out) -> ProgramState:
    """The clinician clears the runner after a red flag or an escalation, along one of the ways
    back the rules allow (rest days, then a level down by default)."""
    options = resume_options(state, ctx.rules)
    chosen = next((o for o in options if o.id == ev.option), None)
    if ev.option is None:
        chosen = next(o for o in options if o.default)
    if chosen is None:
        raise BadEvent(f"unknown resume option {ev.option!r}")
    was = state.status
    _call_off_reminder(state, out)
    before = _level_id(state, ctx)
    if _phase(state, ctx).runs:
        state = _move_levels(state, ctx, -chosen.levels_down)
    rest_until = ctx.today + timedelta(days=chosen.rest_days)
    if state.impact_free_until is not None:
        rest_until = max(rest_until, state.impact_free_until)
    state = state.evolve(
        status=Status.ACTIVE,
        pause_reason=None,
        clear_at_level=0,
        regressions=(),
        last_regress_level=None,  # reviewed by a clinician: the count starts again
        impact_free_until=rest_until if chosen.rest_days else state.impact_free_until,
        flag_since=None,
        flag_ack=None,
    )
    level = _level_id(state, ctx)
    out.act(
        Act.RESUME,
        chosen.id,
        previous=was.value,
        from_level=before,
        to_level=level,
        rest_days=chosen.rest_days,
        **_who(ev),
    )
    rule = ctx.rules.symptoms.actions.coach.id
    out.act(Act.CLEARED, rule, lifted=was.value, **_who(ev))
    key = f"notice:coach:{ev.coach_id}:lifted:{ctx.now.isoformat()}"
    _notice(
        out,
        ctx,
        key,
        "coach_cleared_stop",
        rules=[chosen.id, rule],
        level=level,
        rest_days=chosen.rest_days,
        by=_by(ev),
    )
    return _schedule_gate(state, ctx, out)


def _coach_clear(
    state: ProgramState, ctx: _Ctx, out: _Out, who: dict[str, Any], was: Status
) -> ProgramState:
    """Clear to continue. Grants the next gate's clearance when one is awaited, or when an
    active runner is cleared ahead of the gate; lifting a red flag or an escalation is never
    also a clearance for the next phase (that takes a second, deliberate clear)."""
    rule = ctx.rules.symptoms.actions.coach.id
    nxt = _next_phase(state, ctx)
    awaited = state.gate is not None and state.gate.awaiting_clearance
    if nxt is not None and nxt.gate.clearance_key and (awaited or was is Status.ACTIVE):
        state = state.evolve(clearances=state.clearances | {nxt.gate.clearance_key})
        out.act(Act.CLEARED, rule, clearance=nxt.gate.clearance_key, **who)
        if awaited:
            state = _enter_phase(state, nxt, ctx, out)
    else:
        out.act(Act.CLEARED, rule, **who)
    return state


def _on_runner_pause(state: ProgramState, ev: RunnerPaused, ctx: _Ctx) -> Decision:
    out = _Out()
    rule = ctx.rules.symptoms.actions.runner_pause.id
    if state.status is not Status.ACTIVE:
        out.act(Act.STALE, rule, status=state.status.value)
        return out.done(state, stale=True)
    state = state.evolve(status=Status.PAUSED, pause_reason=ev.reason)
    out.act(Act.PAUSE, rule, by="runner")
    return out.done(_replan(state, ctx, out))


def _on_runner_resume(state: ProgramState, ev: RunnerResumed, ctx: _Ctx) -> Decision:
    out = _Out()
    acts = ctx.rules.symptoms.actions
    if state.status in (Status.ACTIVE, Status.DISCHARGED):  # a discharge is the end: no resuming
        out.act(Act.STALE, acts.runner_pause.id, status=state.status.value)
        return out.done(state, stale=True)
    if state.status.stopped:
        if not ev.clinician_reviewed:
            out.act(Act.STALE, acts.runner_resume_after_review.id, status=state.status.value)
            return out.done(state, stale=True)
        # "I've been seen and cleared" is the runner's word: it asks the coach, lifts nothing.
        rule = acts.runner_resume_after_review.id
        out.act(Act.RECORD, rule, requested="review", status=state.status.value)
        _coach_alert(
            out,
            state,
            ctx,
            f"alert:review:{ctx.today}",
            "review_requested",
            [rule, acts.clearance_claimed.id],
            stopped=state.status.value,
        )
        _notice(out, ctx, f"notice:review:{ctx.today}", "review_requested", rules=[rule])
        return out.done(state)
    state = state.evolve(status=Status.ACTIVE, pause_reason=None, clear_at_level=0)
    out.act(Act.RESUME, acts.runner_pause.id, previous=Status.PAUSED.value)
    state = _schedule_gate(state, ctx, out)  # one that fell due while paused was dropped
    return out.done(_replan(state, ctx, out))


def _on_claim(state: ProgramState, ev: ClearanceClaimed, ctx: _Ctx) -> Decision:
    """The runner says a clinician cleared them for the step they wait at: ask the coach."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    nxt = _next_phase(state, ctx)
    awaiting = state.gate is not None and state.gate.awaiting_clearance
    if not awaiting or nxt is None or nxt.gate.clearance_key is None or state.status.stopped:
        out.act(Act.STALE, acts.clearance_claimed.id)
        return out.done(state, stale=True)
    key = nxt.gate.clearance_key
    state = state.evolve(claims=state.claims | {key})
    out.act(Act.RECORD, acts.clearance_claimed.id, clearance=key, phase=nxt.id)
    _clearance_alert(state, nxt, ctx, out, f"alert:claim:{nxt.id}:{ctx.today}")
    _notice(out, ctx, f"notice:claim:{nxt.id}:{ctx.today}", "claim_sent", phase=nxt.id)
    return out.done(state)


def _on_symptoms(state: ProgramState, ev: SymptomsReported, ctx: _Ctx) -> Decision:
    """Symptoms reported outside the schedule: the same table and the same actions."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    answers = validate_answers(dict(ev.answers), ctx.rules)
    severity, because = classify(answers, ctx.rules, state.protocol_id)
    ref = f"report-{ctx.now:%Y%m%d%H%M%S}"
    out.act(Act.RECORD, acts.symptom_report.id, severity=severity.value, because=list(because))
    if severity is Severity.RED_FLAG:
        state = _red_flag(state, ctx, out, because, ref, answers)
    elif severity is Severity.REGRESS and state.status in (Status.ACTIVE, Status.PAUSED):
        state = _regress(state, ctx, out, because, ref)
    else:
        code = "symptoms_mild" if severity is Severity.MILD else "symptoms_clear"
        _notice(out, ctx, f"notice:{ref}", code, rules=[acts.symptom_report.id, *because])
    return out.done(_replan(state, ctx, out))


def _on_linked(state: ProgramState, ev: CoachLinked, ctx: _Ctx) -> Decision:
    """A clinician was linked: what waited for one (a stop, a clearance) goes to them now."""
    out = _Out()
    acts = ctx.rules.symptoms.actions
    rule = acts.coach_linked.id
    if state.status.stopped and state.flag_since is not None:
        reason = "red_flag" if state.status is Status.RED_FLAG else "escalated"
        escalate = ctx.pt.pain.actions.escalate.id
        stop_rule = acts.red_flag.id if reason == "red_flag" else escalate
        key = f"alert:{reason}:linked:{ev.coach_id}:{state.flag_since.isoformat()}"
        _coach_alert(out, state, ctx, key, reason, [stop_rule, rule], urgent=True)
        out.act(Act.RECORD, rule, sent=reason, coach_id=ev.coach_id)
    elif state.gate is not None and state.gate.awaiting_clearance:
        nxt = ctx.pt.phase[state.gate.phase_id]
        key = f"alert:clearance:{nxt.id}:linked:{ev.coach_id}"
        _clearance_alert(state, nxt, ctx, out, key)
        out.act(Act.RECORD, rule, sent="clearance_needed", coach_id=ev.coach_id)
    else:
        out.act(Act.RECORD, rule, sent=None, coach_id=ev.coach_id)
    return out.done(state)


def _on_settings(state: ProgramState, ev: SettingsChanged, ctx: _Ctx) -> Decision:
    out = _Out()
    p = state.profile
    if ev.timezone is not None:
        local_date(ctx.now, ev.timezone)  # unknown zones raise here, before any change
    if ev.available_days is not None and (
        not ev.available_days or not ev.available_days <= set(range(7))
    ):
        raise BadEvent("available_days must be a non-empty set of weekdays 0..6")
    profile = replace(
        p,
        timezone=ev.timezone or p.timezone,
        preferred_time=ev.preferred_time or p.preferred_time,
        available_days=ev.available_days or p.available_days,
    )
    state = state.evolve(profile=profile)
    ctx = replace(ctx, tz=profile.timezone, today=local_date(ctx.now, profile.timezone))
    out.act(Act.RECORD, ctx.rules.symptoms.actions.plan.id, settings=True)
    # The same day may now be at another hour, so the reminder is always re-sent.
    return out.done(_replan(state, ctx, out, force=True))


_HANDLERS: dict[type, Any] = {
    SessionReported: _on_reported,
    FollowupAnswered: _on_followup,
    SessionMissed: _on_missed,
    TimePassed: _on_time,
    GateAnswered: _on_gate,
    CoachAction: _on_coach,
    RunnerPaused: _on_runner_pause,
    RunnerResumed: _on_runner_resume,
    SettingsChanged: _on_settings,
    ClearanceClaimed: _on_claim,
    SymptomsReported: _on_symptoms,
    CoachLinked: _on_linked,
}
