"""The engine's plumbing: what one decision knows (`_Ctx`), what it collects (`_Out`),
message keys, and the runner notice / coach alert every step sends the same way.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from bot.program.calendar import local_date, local_instant
from bot.program.decision import Act, Action, Decision, Message, MessageKind
from bot.program.loader import Rules
from bot.program.rules import (
    ImagingGrade,
    Phase,
    Protocol,
    Site,
)
from bot.program.state import Overlay, Profile, ProgramState
from bot.program.tables import ProtocolTables, RuleTables
from bot.program.tailored import tailored_tables

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
    overlay: Overlay | None = None  # the coach's tailoring of this runner (pt is tailored by it)


def _context(
    rules: Rules,
    protocol_id: str,
    site: Site,
    now: datetime,
    tz: str,
    profile: Profile | None,
    overlay: Overlay | None = None,
) -> _Ctx:
    tables = rules.tables
    pt = tables.protocols[protocol_id]
    if overlay is not None:  # a tailored runner: the protocol's tables as the coach tailored them
        pt = tailored_tables(pt, overlay, rules)
    grade = None
    if profile is not None and profile.imaging_grade is not None:  # most runners have none
        grade = rules.imaging_grade(profile.imaging_system, profile.imaging_grade)
    return _Ctx(rules, pt.protocol, site, now, local_date(now, tz), tz, tables, pt, grade, overlay)


def _overlay_rule(ctx: _Ctx, *names: str) -> str | None:
    """The tailoring rule id when the runner's overlay sets one of these fields, else None."""
    ov = ctx.overlay
    if ov is None:
        return None
    for name in names:
        if getattr(ov, name) is not None:
            return ctx.rules.tailoring.id
    return None


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


def _row_rule(key: str, ctx: _Ctx) -> str:
    """The rule id a row of followup.py names: an action of the runner's protocol (its own
    `pain_rules` or symptoms.yaml), the check before running, or the build-phase deload."""
    if key == "watch":
        return ctx.rules.symptoms.watch.id
    if key == "deload":
        return ctx.rules.scheduling.build.id_deload
    rule_id: str = getattr(ctx.pt.pain.actions, key).id
    return rule_id
