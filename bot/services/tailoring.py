"""The coach's overlay as a workflow: a coach (their own runners only) or the operator (the CLI,
by name) tailors a runner's program. One transaction: the runner's ownership is checked, the
changes are laid over the current overlay, the engine decides (`OverlaySet`) and the decision is
stored with the new overlay version (`repo.apply_decision`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.decision import Decision
from bot.program.engine import BadEvent
from bot.program.events import OverlaySet
from bot.program.overlay_spec import apply_changes
from bot.program.state import Overlay, ProgramState
from bot.services.deps import Deps
from bot.services.turn import decide_and_store, in_one_transaction, reading
from bot.store import repo
from bot.store.models import OverlayVersion


class TailorRefused(Exception):
    """One line saying why nothing changed (unknown runner, not yours, out of bounds...)."""


class NotTheirRunner(TailorRefused):
    """No such runner, or another coach's: the same answer for both."""


@dataclass(frozen=True, slots=True)
class Tailored:
    before: ProgramState
    decision: Decision

    @property
    def overlay(self) -> Overlay:
        assert self.decision.state.overlay is not None
        return self.decision.state.overlay


async def tailor(
    d: Deps,
    runner_id: int,
    changes: Mapping[str, Any],
    *,
    coach_id: int,
    by: str,
) -> Tailored:
    """Lay `changes` (field -> value, None: back to the rules) over the runner's overlay.

    `coach_id` 0 is the operator (any runner); otherwise the runner must be that coach's.
    Raises TailorRefused with the reason (bounds of tailoring.yaml, nothing to change...)."""

    async def turn(s: AsyncSession, now: datetime) -> Tailored:
        r = await repo.get_runner(s, runner_id)
        if r is None or (coach_id != 0 and r.coach_id != coach_id):
            raise NotTheirRunner(f"no runner #{runner_id} of yours")
        loaded = await repo.load_program(s, runner_id)
        if loaded is None:
            raise TailorRefused(f"runner #{runner_id} has not started a program yet")
        try:
            new = apply_changes(loaded[0].overlay, changes)
        except ValueError as exc:
            raise TailorRefused(str(exc)) from None
        actor = f"coach:{coach_id}" if coach_id else by
        before, decision = await decide_and_store(
            s, d, runner_id, OverlaySet(new, coach_id, by), actor=actor, now=now
        )
        return Tailored(before, decision)

    try:
        return await in_one_transaction(d, runner_id, turn)
    except BadEvent as exc:
        raise TailorRefused(str(exc)) from None
    except LookupError:
        raise TailorRefused(f"runner #{runner_id} has not started a program yet") from None
    except repo.ConcurrentUpdate:
        raise TailorRefused(f"runner #{runner_id} kept changing; try again") from None


async def history(d: Deps, runner_id: int) -> list[OverlayVersion]:
    async with reading(d) as s:
        return await repo.overlay_history(s, runner_id)


async def current(d: Deps, runner_id: int) -> ProgramState | None:
    async with reading(d) as s:
        loaded = await repo.load_program(s, runner_id)
    return loaded[0] if loaded is not None else None


@dataclass(frozen=True, slots=True)
class RunnerView:
    runner_id: int
    name: str
    state: ProgramState


async def view(d: Deps, coach_id: int, runner_id: int) -> RunnerView:
    """The coach's own runner with a program, for the tailoring menu (else NotTheirRunner /
    TailorRefused)."""
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach_id:
            raise NotTheirRunner(f"no runner #{runner_id} of yours")
        loaded = await repo.load_program(s, runner_id)
    if loaded is None:
        raise TailorRefused(f"runner #{runner_id} has not started a program yet")
    return RunnerView(runner_id, r.display_name or f"#{runner_id}", loaded[0])
