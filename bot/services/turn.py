"""One update, one turn: what an update reads it reads once, what it changes it writes in one
transaction, and what it says goes out after that transaction committed.

A `Turn` is made for every update before any handler runs (`bot.telegram.app`). Its first read
is one statement (`store.turns.load_turn`): whether the update was handled already, the sender's
runner and program, their dialog. Services see the turn through `deps.turn` and take their
sessions from `reading(deps)` and `writing(deps)`: inside a turn every write lands in the turn's
one write transaction (opened at the first write; on SQLite it takes the write lock then, not
before), and reads after a write see it. The turn commits, with the update's id claimed in the
same transaction, before the first Bot API call it makes (`commit_before_sending`) or when the
handlers are done: a crash before the commit forgets the update's effects and its claim
together, so Telegram's redelivery is handled as new; after it, the redelivery is a duplicate.

Outside a turn (the agenda, the CLI, tests) `reading` and `writing` are plain transactions.

This module also holds the one load → decide → store → retry path: `in_one_transaction` and
`decide_and_store`, used by runner events, coach and operator acts, a coach's linking and the
agenda's wake-ups alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.program.codec import state_from_dict
from bot.program.decision import Decision
from bot.program.engine import decide
from bot.program.events import Event, SessionReported
from bot.program.state import ProgramState
from bot.services.deps import Deps
from bot.store import agenda, repo
from bot.store.turns import DialogRow, TurnRows, load_turn

log = logging.getLogger(__name__)

MAX_RETRIES = 5
T = TypeVar("T")

# The turn of the update this task is handling (set by the Telegram layer for the update's task).
CURRENT: ContextVar[Turn | None] = ContextVar("boneload_turn", default=None)


class Turn:
    def __init__(
        self,
        deps: Deps,
        *,
        bot_id: int,
        update_id: int,
        user_id: int | None,
        wake_agenda: Callable[[frozenset[int]], None] = lambda urgent: None,
    ) -> None:
        self.deps = replace(deps, turn=self)
        # Wakes the agenda once the handlers are done, for the runners whose messages due now
        # the turn scheduled (theirs, their coach's alerts): written, then committed.
        self._wake_agenda = wake_agenda
        self.urgent: set[int] = set()
        self._committed_urgent: set[int] = set()
        self.bot_id = bot_id
        self.update_id = update_id
        self.user_id = user_id
        self.now = deps.clock()
        self.rows = TurnRows(False, None, None)
        self.task = asyncio.current_task()
        self.claimed = False  # the update's id is recorded as handled
        self.failed = False
        self._read: AsyncSession | None = None
        self._write: AsyncSession | None = None
        self._runner_state: ProgramState | None = None
        # Where the user's dialog stands now: the loaded row, then every save and clear of this
        # turn (the user's own updates are the only writers of their dialog, one at a time).
        self._dialog: DialogRow | None = None
        self._program_fresh = True

    # --- the first read ---------------------------------------------------------------------

    async def load(self) -> TurnRows:
        """The first read, in the read transaction the turn's later reads reuse."""
        async with self.reading() as session:
            self.rows = await load_turn(
                session, bot_id=self.bot_id, update_id=self.update_id, user_id=self.user_id
            )
        self._dialog = self.rows.dialog
        return self.rows

    def knows_runner(self, telegram_user_id: int) -> bool:
        """Can the first read answer who this user is (`rows.runner`, None: not a runner)? Only
        for the sender, and only until the turn writes (then the database has the truth)."""
        return telegram_user_id == self.user_id and self._write is None

    def runner_state(self) -> ProgramState | None:
        runner = self.rows.runner
        if runner is None or runner.state is None:
            return None
        if self._runner_state is None:
            self._runner_state = state_from_dict(runner.state)
        return self._runner_state

    @property
    def dialog(self) -> DialogRow | None:
        """The sender's dialog as it stands in this turn (None: no dialog)."""
        return self._dialog

    def dialog_saved(self, row: DialogRow | None) -> None:
        self._dialog = row

    def program(self, runner_id: int) -> tuple[ProgramState, int] | None:
        """The program as loaded, while nothing in this turn may have moved it."""
        runner = self.rows.runner
        if not self._program_fresh or runner is None or runner.id != runner_id:
            return None
        state = self.runner_state()
        if state is None or runner.version is None:
            return None
        return state, runner.version

    def program_moved(self) -> None:
        self._program_fresh = False

    # --- sessions -----------------------------------------------------------------------------

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The turn's write session once it writes (reads see its writes), else its one read
        session (no lock taken)."""
        if self._write is not None:
            yield self._write
            return
        if self._read is None:
            self._read = self.deps.read_session()
        yield self._read

    @asynccontextmanager
    async def writing(self, *, savepoint: bool = False) -> AsyncIterator[AsyncSession]:
        """The turn's write transaction, begun at the first call. `savepoint`: an error inside
        undoes only this block (a retry), the turn's other writes stay.

        A handler writes before it speaks, so a turn has one write transaction. One that writes
        again after a reply gets a second (counted in tests; the update is claimed once)."""
        if self.failed:
            raise RuntimeError("this update failed; its turn writes nothing more")
        if self._write is None:
            await self._close_read()
            self._write = self.deps.sessionmaker()
            await self._write.begin()
        if savepoint:
            async with self._write.begin_nested():
                yield self._write
        else:
            yield self._write

    async def commit(self) -> None:
        """Commit what the turn wrote, with the update's claim the first time (nothing written:
        nothing to claim; a redelivered read is answered again, which changes nothing)."""
        await self._close_read()
        session, self._write = self._write, None
        if session is None:
            return
        try:
            if not self.claimed:
                await repo.claim_update(session, self.update_id, now=self.now, bot_id=self.bot_id)
            await session.commit()
            self.claimed = True
        finally:
            await session.close()
        self._committed_urgent |= self.urgent
        self.urgent = set()

    def finish(self) -> None:
        """The handlers are done and their replies sent: wake the agenda for what the turn
        committed (after the replies, so a runner reads "thanks" before the notice it caused)."""
        if self._committed_urgent:
            urgent, self._committed_urgent = frozenset(self._committed_urgent), set()
            self._wake_agenda(urgent)

    async def rollback(self) -> None:
        """Forget the turn's writes (the update failed): nothing is claimed, so a redelivery
        gets another chance."""
        self.failed = True
        self.urgent = set()
        await self._close_read()
        session, self._write = self._write, None
        if session is not None:
            await session.close()  # closing rolls back

    async def _close_read(self) -> None:
        session, self._read = self._read, None
        if session is not None:
            await session.close()


def turn_of(deps: Deps) -> Turn | None:
    """The turn the dependencies are bound to (None outside an update)."""
    return cast("Turn | None", deps.turn)


async def commit_before_sending() -> None:
    """Called before every Bot API request: the update this task is handling commits first,
    so nothing is said that a crash could take back."""
    turn = CURRENT.get()
    if turn is not None and turn.task is asyncio.current_task():
        await turn.commit()


def reading(deps: Deps) -> AbstractAsyncContextManager[AsyncSession]:
    """A session to read with: the turn's, or a read-only one of its own."""
    turn = turn_of(deps)
    if turn is not None:
        return turn.reading()
    return deps.read_session()


def writing(deps: Deps, *, savepoint: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
    """A session to write with: the turn's one transaction, or a transaction of its own that
    commits at the end of the block."""
    turn = turn_of(deps)
    if turn is not None:
        return turn.writing(savepoint=savepoint)
    return deps.sessionmaker.begin()


def wake_agenda(deps: Deps, runner_id: int) -> None:
    """What was just written schedules messages for now for this runner (a notice, their
    coach's alert): inside a turn, once it has committed and replied, the agenda sends them at
    once, ahead of the bulk (docs/delivery.md). Outside a turn (the CLI) the running bot's next
    tick sends them."""
    turn = turn_of(deps)
    if turn is not None:
        turn.urgent.add(runner_id)


# --- load, decide, store, retry ----------------------------------------------------------------


async def in_one_transaction(
    deps: Deps, runner_id: int, work: Callable[[AsyncSession, datetime], Awaitable[T]]
) -> T:
    """Run `work(session, now)` in one write transaction (inside a turn: a savepoint of the
    turn's); when another update changed the program meanwhile, undo it and start again on fresh
    state. The one retry loop."""
    for _attempt in range(MAX_RETRIES):
        now = deps.clock()
        try:
            async with writing(deps, savepoint=True) as session:
                return await work(session, now)
        except (repo.ConcurrentUpdate, IntegrityError):
            turn = turn_of(deps)
            if turn is not None:
                turn.program_moved()
            log.info("concurrent update, retrying", extra={"runner_id": runner_id})
    raise repo.ConcurrentUpdate(runner_id, None, None)


async def decide_and_store(
    session: AsyncSession,
    deps: Deps,
    runner_id: int,
    event: Event,
    *,
    actor: str,
    now: datetime,
    check: Callable[[ProgramState, int], None] | None = None,
) -> tuple[ProgramState, Decision]:
    """Load the program (the turn's snapshot when it still holds), let `check(state, version)`
    refuse (by raising), decide, and store the decision at the version read: a concurrent
    change raises `repo.ConcurrentUpdate`. Returns the state before and the decision."""
    turn = turn_of(deps)
    loaded = turn.program(runner_id) if turn is not None else None
    if loaded is None:
        loaded = await repo.load_program(session, runner_id)
    if loaded is None:
        raise LookupError(f"runner {runner_id} has no program")
    state, version = loaded
    if check is not None:
        check(state, version)
    decision = decide(state, event, deps.rules, now)
    if turn is not None:
        turn.program_moved()
    await repo.apply_decision(
        session,
        runner_id,
        decision,
        event=type(event).__name__,
        actor=actor,
        expected_version=version,
        at=now,
    )
    slid = await _unbutton_slid_session(session, runner_id, state, decision, event, now)
    if slid or any(m.due <= now for m in decision.messages):
        # A notice or an alert this update caused: it goes out now, not behind the bulk.
        wake_agenda(deps, runner_id)
    return state, decision


async def _unbutton_slid_session(
    session: AsyncSession,
    runner_id: int,
    before: ProgramState,
    decision: Decision,
    event: Event,
    now: datetime,
) -> int:
    """The session slid to another day or off the calendar (missed, replanned, paused): its
    reminders' buttons go, so missed days do not pile up live buttons. A report is the runner's
    own press on those buttons, which takes them off there and then."""
    old, new = before.next, decision.state.next
    if old is None or decision.stale or isinstance(event, SessionReported):
        return 0
    if new is not None and new.seq == old.seq and new.day == old.day:
        return 0
    return await agenda.unbutton_session(session, runner_id, old.seq, now=now)
