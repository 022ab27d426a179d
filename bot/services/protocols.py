"""Which protocol a runner follows, as the coach and the operator choose it: the protocol an
invite carries, the protocols a runner may be switched to, and the switch itself (an event,
`ProtocolSwitched`, decided by the engine and stored in the decision log with its rule id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.decision import Decision
from bot.program.engine import BadEvent, switch_choices
from bot.program.events import ProtocolSwitched
from bot.program.loader import Rules
from bot.program.rules import Protocol
from bot.program.state import ProgramState, Status
from bot.services.coaches import CoachCtx, NotYourRunner
from bot.services.deps import Deps
from bot.services.turn import decide_and_store, in_one_transaction, reading
from bot.store import repo


class ProtocolRefused(Exception):
    """One line saying why no protocol was chosen or switched (unknown id, not for the site)."""


def check_protocol_id(rules: Rules, protocol_id: str) -> str:
    """A protocol id the rules know (an invite's), else ProtocolRefused listing the valid ids."""
    if protocol_id not in rules.protocols:
        raise ProtocolRefused(f"unknown protocol {protocol_id!r}; valid: {valid_ids(rules)}")
    return protocol_id


def valid_ids(rules: Rules) -> str:
    return ", ".join(sorted(rules.protocols))


@dataclass(frozen=True, slots=True)
class Choices:
    """What a runner may be switched to, at one program version."""

    state: ProgramState
    version: int
    protocols: list[Protocol]  # allowed for the site, the current one included


async def choices(d: Deps, coach: CoachCtx | None, runner_id: int) -> Choices:
    """The runner's switch targets (NotYourRunner for another coach's runner or none)."""
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or (coach is not None and r.coach_id != coach.id):
            raise NotYourRunner(runner_id)
        loaded = await repo.load_program(s, runner_id)
    if loaded is None:
        raise NotYourRunner(runner_id)
    state, version = loaded
    return Choices(state, version, switch_choices(d.rules, state))


async def switch(
    d: Deps,
    runner_id: int,
    protocol_id: str,
    *,
    coach: CoachCtx | None = None,
    by: str | None = None,
    expected_version: int | None = None,
) -> Decision:
    """Move the runner to `protocol_id`: by their coach, or (coach None) by the operator `by`.

    Refused (ProtocolRefused) when the protocol is not one for the runner's site, starts later
    than the runner's phase, or the runner is discharged; with `expected_version` (a button) a
    program that moved on meanwhile is refused too. The check and the change are one
    transaction."""
    event = ProtocolSwitched(protocol_id, coach.id if coach else 0, by=None if coach else by)
    actor = f"coach:{coach.id}" if coach else f"operator:{by}"

    def allowed(state: ProgramState, version: int) -> None:
        if expected_version is not None and version != expected_version:
            raise ProtocolRefused("stale")
        if state.status is Status.DISCHARGED:
            raise ProtocolRefused(f"runner #{runner_id} is discharged: nothing to switch")
        targets = [p.id for p in switch_choices(d.rules, state)]
        if protocol_id not in targets:
            raise ProtocolRefused(
                f"protocol {protocol_id!r} is not one runner #{runner_id} can move to; "
                f"valid: {', '.join(targets)}"
            )

    async def turn(s: AsyncSession, now: datetime) -> Decision:
        r = await repo.get_runner(s, runner_id)
        if r is None and coach is None:
            raise ProtocolRefused(f"no runner #{runner_id}")
        if r is None or (coach is not None and r.coach_id != coach.id):
            raise NotYourRunner(runner_id)
        _, decision = await decide_and_store(
            s, d, runner_id, event, actor=actor, now=now, check=allowed
        )
        return decision

    try:
        return await in_one_transaction(d, runner_id, turn)
    except LookupError:
        raise ProtocolRefused(f"runner #{runner_id} has no program") from None
    except BadEvent as exc:
        raise ProtocolRefused(str(exc)) from None
    except repo.ConcurrentUpdate:
        raise ProtocolRefused(f"runner #{runner_id} kept changing; try again") from None
