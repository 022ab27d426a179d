"""Putting the next session on the calendar (calendar.py decides the day), its reminder,
check-in nudge and end-of-day close, and the weekly habit prompts planned with it.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import date, datetime

from bot.program.calendar import (
    Slot,
    WeekType,
    is_deload,
    next_slot,
    prescription,
    session_times,
    week_type,
    weekly_times,
)
from bot.program.decision import Act, Message, MessageKind
from bot.program.machine.context import (
    ONE_DAY,
    _at_local,
    _Ctx,
    _habit_key,
    _Out,
    _overlay_rule,
    _phase,
    _session_keys,
)
from bot.program.rules import Phase, PhaseKind, SessionKind
from bot.program.state import (
    Planned,
    Prescription,
    ProgramState,
    Status,
)


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
    days, gap = state.profile.available_days, None
    ov = ctx.overlay
    if ov is not None:  # the coach's training weekdays and days between runs
        if ov.weekdays is not None:
            days = ov.weekdays
        if ov.rest_days is not None:
            gap = ov.rest_days + 1
    slot = next_slot(
        phase=phase,
        level=phase.levels[state.level] if phase.runs else None,
        start=start,
        recent=state.recent,
        available_days=days,
        impact_free_until=state.impact_free_until,
        maintenance_since=maint,
        sch=sch,
        min_days_between_runs=gap,
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
    if ov is not None:
        tailored = _overlay_rule(ctx, "weekdays", "rest_days") or (
            phase.kind is PhaseKind.MAINTENANCE
            and rx.kind is SessionKind.RUN
            and _overlay_rule(ctx, "maintenance_factor")
        )
        if tailored:
            why.append(tailored)
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
