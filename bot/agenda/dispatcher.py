"""The agenda ticker: claims due rows, re-checks them with the core, sends, finalises.

Every instance runs one `Dispatcher` on a PTB JobQueue job (`run_dispatcher`). A tick:

1. claims a batch of due rows under a lease (`bot.store.agenda.claim`), and the next batch
   while the first is being sent, so the rate limiter never idles during a catch-up;
2. for each row loads the runner's program and asks `bot.program.recheck.recheck` whether the
   message still makes sense now: SEND, DROP (finalised `dropped` with the reason) or WAKE (an
   internal SESSION_CLOSE: the engine gets `SessionMissed(seq)` and its decision is stored
   through `apply_decision` in the same transaction that finalises the row). A nudge or
   follow-up that a catch-up finds inside the runner's quiet hours waits for their end;
3. sends through the `Sender` within the instance's rate budget, at most `max_in_flight`
   sends on the wire and never two at once to the same chat;
4. finalises under the lease token, in its own short transaction straight after Telegram
   answered (the shorter that gap, the smaller the duplicate window; docs/delivery.md).

Telegram errors are sorted by `bot.agenda.errors.classify`; a 403 marks the runner unreachable,
withdraws their pending reminders and nudges and tells their coach.

A stop (the application stops, or `stop()`) lets in-flight sends finish and be recorded and
gives claimed-but-unsent rows back at once; a crash leaves them leased until the lease expires,
when any instance re-claims them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, Job

from bot import metrics
from bot.agenda.errors import DEFAULT_BACKOFF, Backoff, Classified, Next, classify, describe
from bot.agenda.ratelimit import RateLimiter
from bot.agenda.sender import AgendaItem, Sender
from bot.agenda.window import SendWindow, default_ceiling
from bot.program.calendar import out_of_quiet_hours
from bot.program.codec import state_from_dict
from bot.program.decision import Decision, MessageKind
from bot.program.events import SessionMissed
from bot.program.loader import Rules
from bot.program.recheck import Verdict, recheck
from bot.program.state import ProgramState
from bot.services.deps import Deps
from bot.services.turn import decide_and_store, in_one_transaction
from bot.store import agenda as store
from bot.store import ops
from bot.store.models import AgendaStatus
from bot.store.repo import ConcurrentUpdate, coach_of, mark_unreachable

__all__ = ["BLOCKED_CANCELS", "JOB_KWARGS", "Dispatcher", "TickStats", "run_dispatcher"]

log = logging.getLogger(__name__)

# APScheduler's default misfire grace (1 s) silently skips a tick when the loop is busy;
# coalesce folds a backlog of missed ticks into one. A second instance may start while a
# long catch-up tick runs: it only flags "run again" and returns (see Dispatcher.tick), and
# without max_instances=2 APScheduler would log a warning for every such overlap.
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 2}

# What stops when a runner blocks the bot. Follow-ups stay: if they unblock before it is due,
# the symptom check still matters; if not, the row is dropped as unreachable when due.
BLOCKED_CANCELS = (
    MessageKind.SESSION_REMINDER.value,
    MessageKind.CHECKIN_NUDGE.value,
    MessageKind.FOLLOWUP_NUDGE.value,
    MessageKind.GATE_CHECK.value,
    MessageKind.HABIT.value,
)

# Kinds the engine keeps out of the runner's quiet hours when it schedules them. A catch-up
# after downtime can make one fall due inside them: it then waits for the end of the night.
QUIET_KINDS = frozenset(
    {MessageKind.CHECKIN_NUDGE, MessageKind.FOLLOWUP, MessageKind.FOLLOWUP_NUDGE}
)

# Kinds that go stale when sent late (after downtime): dropped as "expired" once they are this
# far past due. A habit prompt is about "this week"/"today"; a day late it would mislead.
# Reminders and check-in nudges are dropped by `recheck` once their session day has passed;
# follow-ups, coach alerts, notices, gate checks and digests still matter late and stay.
EXPIRES_AFTER: dict[MessageKind, timedelta] = {MessageKind.HABIT: timedelta(days=1)}

_BEAT_EVERY_S = 1.0
_FINALISE_RETRIES = 3
_BATCH_WINDOWS = 4


@dataclass
class TickStats:
    claimed: int = 0
    sent: int = 0
    dropped: int = 0
    woke: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    released: int = 0
    lease_lost: int = 0
    coalesced: bool = False

    def __iadd__(self, other: TickStats) -> TickStats:
        for f in fields(self):
            if f.name != "coalesced":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def busy(self) -> bool:
        return self.claimed > 0


@dataclass(frozen=True, slots=True)
class _Context:
    item: AgendaItem | None  # None: nobody to send to any more
    state: ProgramState | None
    unreachable: bool
    why_not: str = ""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        rules: Rules,
        sender: Sender,
        *,
        owner: str,
        clock: Callable[[], datetime] = _utcnow,
        rate_per_second: float = 25.0,
        batch: int | None = None,
        lease_seconds: float = 60.0,
        send_margin_seconds: float = 20.0,
        max_attempts: int = 12,
        max_in_flight: int | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """`owner` names this instance in leases (unique per process: settings.instance_name).
        `send_margin_seconds`: a row is only sent while at least this much of its lease is
        left, more than the longest a send can take, so no other instance can re-claim it
        mid-send. `max_in_flight` (SEND_IN_FLIGHT) bounds the sends on the wire, hence the
        duplicates a crash can cause (docs/delivery.md); below it the window follows the
        observed Bot API latency x rate (bot.agenda.window). None: one second of the rate."""
        if lease_seconds <= send_margin_seconds:
            raise ValueError("lease_seconds must exceed send_margin_seconds")
        self._sm = sessionmaker
        self._rules = rules
        self._sender = sender
        self.owner = owner
        self._clock = clock
        self._limiter = RateLimiter(rate_per_second)
        ceiling = max_in_flight if max_in_flight is not None else default_ceiling(rate_per_second)
        self._in_flight = SendWindow(rate_per_second, ceiling=ceiling)
        # About two seconds of sending per batch: small enough that instances share a backlog
        # evenly to the end, large enough that claiming costs little. And a few full windows: a
        # chat's rows go one at a time, so only different chats fill the window, and they come
        # from the two batches being sent (rows due ten to a chat, as in bench/dispatch.py, make
        # a 50-row batch 5 chats: 10 chats / 0.6 s = 17 sends a second). But never more than
        # two batches can send within a lease, or rows would be given back unsent.
        windows = min(
            _BATCH_WINDOWS * ceiling,
            int(rate_per_second * (lease_seconds - send_margin_seconds) / 2),
        )
        self._batch = batch or max(10, int(rate_per_second * 2), windows)
        self._lease = timedelta(seconds=lease_seconds)
        self._margin = timedelta(seconds=send_margin_seconds)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._urgent_rows: set[int] = set()  # claimed by send_urgent: no wait for the budget
        self._running = False
        self._again = False
        self._stopped = False
        self._keep_going: Callable[[], bool] = lambda: True
        self._spawn: Callable[[Coroutine[Any, Any, Any]], Awaitable[Any]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_beat = -_BEAT_EVERY_S

    @property
    def in_flight_window(self) -> int:
        """How many sends may be on the wire now (grows and shrinks with the Bot API latency)."""
        return self._in_flight.limit

    # --- control ---------------------------------------------------------------------------

    def should_continue(self) -> bool:
        return not self._stopped and self._keep_going()

    def bind(
        self,
        keep_going: Callable[[], bool],
        spawn: Callable[[Coroutine[Any, Any, Any]], Awaitable[Any]] | None = None,
    ) -> None:
        """Tie the dispatcher to a host (run_dispatcher: the PTB application)."""
        self._keep_going = keep_going
        self._spawn = spawn

    def kick(self, urgent: Iterable[int] = ()) -> None:
        """Run a tick now (e.g. right after a handler committed a coach alert). If one is
        running, it makes one more pass instead. Never blocks the caller.

        `urgent`: runners whose own update just scheduled something for now (a notice, their
        coach's alert). Those rows are sent at once, beside any tick, without queueing behind
        the bulk budget (they still count in it: the bulk waits for them)."""
        if urgent:
            # Their rows are all that is new; the rest is the regular ticks' work.
            self._start(self._urgent_logged(frozenset(urgent)))
            return
        if self._running:
            self._again = True
            return
        self._start(self._tick_logged())

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._spawn is not None:
            self._spawn(coro)
        else:
            task = asyncio.get_running_loop().create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def join(self) -> None:
        """Wait until the ticks started by kick() are done (without stopping anything)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Finish in-flight sends, give the rest back, and wait for kicked ticks."""
        self._stopped = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _tick_logged(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("agenda tick failed")

    # --- the tick --------------------------------------------------------------------------

    async def tick(self) -> TickStats:
        """Process everything due now; returns what happened. Ticks never overlap: a tick
        asked for while one runs makes the running one go round once more."""
        if self._running:
            self._again = True
            return TickStats(coalesced=True)
        self._running = True
        total = TickStats()
        try:
            while True:
                self._again = False
                total += await self._drain()
                if not (self._again and self.should_continue()):
                    break
        finally:
            self._running = False
            await self._beat()
        if total.busy:
            log.info(
                "agenda tick",
                extra={
                    k.name: getattr(total, k.name) for k in fields(total) if k.name != "coalesced"
                },
            )
        return total

    async def _beat(self) -> None:
        """Record that this instance's ticker ran (health checks read it); at most once a
        second of real time, however often handlers kick a tick."""
        mono = time.monotonic()
        if mono - self._last_beat < _BEAT_EVERY_S:
            return
        self._last_beat = mono
        try:
            async with self._sm.begin() as session:
                await ops.beat(session, self.owner, self._clock())
        except Exception as exc:  # the health check will notice the missing beats
            log.warning("heartbeat not recorded", extra={"error": type(exc).__name__})

    async def _drain(self) -> TickStats:
        stats = TickStats()
        batches: deque[list[asyncio.Task[None]]] = deque()
        release: list[tuple[int, str]] = []
        try:
            while self.should_continue():
                rows = await self._claim()
                if not rows:
                    break
                stats.claimed += len(rows)
                contexts = await self._load(rows)
                loop = asyncio.get_running_loop()
                batches.append(
                    [
                        loop.create_task(self._process(row, contexts[row.id], stats, release))
                        for row in rows
                    ]
                )
                if len(rows) < self._batch:
                    break
                # At most two batches at once: the next is claimed while one is being sent.
                if len(batches) >= 2:
                    await asyncio.gather(*batches.popleft())
            while batches:
                await asyncio.gather(*batches.popleft())
        except BaseException:
            # Cancelled (or worse): take the row tasks down too. Rows they had claimed stay
            # leased and are re-claimed when the lease runs out.
            for batch in batches:
                for task in batch:
                    task.cancel()
            raise
        finally:
            if release:
                stats.released += await self._release(release)
            if not batches and not self._urgent_rows:
                self._chat_locks.clear()  # every row of this pass is done
        return stats

    async def _urgent_logged(self, runner_ids: frozenset[int]) -> None:
        try:
            await self.send_urgent(runner_ids)
        except Exception:
            log.exception("agenda urgent send failed")

    async def send_urgent(self, runner_ids: frozenset[int]) -> TickStats:
        """Send what is due for these runners now, beside any running tick: rows their own
        update just scheduled. Each send counts in the budget but does not wait in it (unless
        flood control holds every sender)."""
        stats = TickStats()
        release: list[tuple[int, str]] = []
        rows = await self._claim(runner_ids)
        if not rows:
            return stats
        stats.claimed += len(rows)
        self._urgent_rows.update(row.id for row in rows)
        try:
            contexts = await self._load(rows)
            await asyncio.gather(
                *(self._process(row, contexts[row.id], stats, release) for row in rows)
            )
        finally:
            self._urgent_rows.difference_update(row.id for row in rows)
            if release:
                stats.released += await self._release(release)
        return stats

    async def _claim(self, runner_ids: frozenset[int] | None = None) -> list[store.ClaimedRow]:
        """Lease the next batch of due rows (only these runners' rows, when given)."""
        async with self._sm.begin() as session:
            return await store.claim(
                session,
                now=self._clock(),
                owner=self.owner,
                token=uuid.uuid4().hex,
                lease=self._lease,
                limit=self._batch,
                runner_ids=runner_ids,
            )

    async def _release(self, rows: list[tuple[int, str]]) -> int:
        by_token: dict[str, list[int]] = {}
        for row_id, token in rows:
            by_token.setdefault(token, []).append(row_id)
        n = 0
        async with self._sm.begin() as session:
            for token, ids in by_token.items():
                n += await store.release(session, ids, token, now=self._clock())
        return n

    # --- one row ---------------------------------------------------------------------------

    async def _process(
        self,
        row: store.ClaimedRow,
        ctx: _Context,
        stats: TickStats,
        release: list[tuple[int, str]],
    ) -> None:
        try:
            await self._process_row(row, ctx, stats, release)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or the database failing: the lease runs out and the row is tried again.
            log.exception("agenda row failed", extra={"agenda_id": row.id, "kind": row.kind})

    async def _process_row(
        self,
        row: store.ClaimedRow,
        ctx: _Context,
        stats: TickStats,
        release: list[tuple[int, str]],
    ) -> None:
        now = self._clock()
        kind = _kind(row.kind)
        if ctx.item is None:
            await self._finish(row, stats, "dropped", reason=ctx.why_not)
            return
        if kind is not None:
            verdict, reason = recheck(ctx.state, kind, row.payload, now, self._rules)
        else:
            verdict, reason = Verdict.SEND, "agenda-only kind"
        if (
            verdict is Verdict.SEND
            and kind in EXPIRES_AFTER
            and now > row.due_at + EXPIRES_AFTER[kind]
        ):
            verdict, reason = Verdict.DROP, "expired: too late to be meaningful"
        if verdict is Verdict.WAKE:
            await self._wake(row, stats)
            return
        if verdict is Verdict.DROP:
            await self._finish(row, stats, "dropped", reason=reason)
            return
        if ctx.unreachable and not ctx.item.to_coach:
            await self._finish(row, stats, "dropped", reason="runner unreachable")
            return
        if kind in QUIET_KINDS and ctx.state is not None:
            quiet = self._rules.scheduling.quiet_hours
            until = out_of_quiet_hours(now, ctx.state.profile.timezone, quiet)
            if until > now:
                await self._defer(row, stats, until, "quiet hours")
                return
        await self._send(row, ctx, stats, release)

    async def _defer(
        self, row: store.ClaimedRow, stats: TickStats, until: datetime, reason: str
    ) -> None:
        async with self._sm.begin() as session:
            ok = await store.defer(session, row.id, row.lease_token, until=until, reason=reason)
        stats.deferred += ok
        stats.lease_lost += not ok

    async def _load(self, rows: list[store.ClaimedRow]) -> dict[int, _Context]:
        """Recipients and program states for a claimed batch, in two queries. Loaded once per
        batch, i.e. at most a few seconds before the send; the engine's own wake-ups reload."""
        runner_ids = {r.runner_id for r in rows if r.runner_id is not None}
        coach_ids = {r.coach_id for r in rows if r.coach_id is not None}
        async with self._sm() as session:
            runners, coaches = await store.recipients(session, runner_ids, coach_ids)
        states = {
            rid: state_from_dict(r.state) if r.state is not None else None
            for rid, r in runners.items()
        }
        return {row.id: self._context(row, runners, coaches, states) for row in rows}

    @staticmethod
    def _context(
        row: store.ClaimedRow,
        runners: dict[int, Any],
        coaches: dict[int, Any],
        states: dict[int, ProgramState | None],
    ) -> _Context:
        state: ProgramState | None = None
        chat_id: int | None = None
        language, tz, name, unreachable = "en", "UTC", None, False
        if row.runner_id is not None:
            r = runners.get(row.runner_id)
            if r is None:
                return _Context(None, None, False, "runner deleted")
            state = states[row.runner_id]
            chat_id, language, tz, name, unreachable = (
                r.chat_id,
                r.language,
                r.timezone,
                r.display_name,
                r.unreachable,
            )
        if row.coach_id is not None:
            c = coaches.get(row.coach_id)
            if c is None or not c.active:
                return _Context(None, state, unreachable, "coach gone or inactive")
            chat_id, tz = c.telegram_user_id, c.timezone
            language = c.language or "en"  # the coach's own language, not the runner's
        if chat_id is None:
            return _Context(None, state, unreachable, "no recipient")
        item = AgendaItem(
            id=row.id,
            kind=row.kind,
            key=row.key,
            runner_id=row.runner_id,
            coach_id=row.coach_id,
            chat_id=chat_id,
            due_at=row.due_at,
            payload=row.payload,
            attempts=row.attempts,
            language=language,
            timezone=tz,
            runner_name=name,
        )
        return _Context(item, state, unreachable)

    async def _send(
        self,
        row: store.ClaimedRow,
        ctx: _Context,
        stats: TickStats,
        release: list[tuple[int, str]],
    ) -> None:
        assert ctx.item is not None
        item = ctx.item
        lock = self._chat_locks.setdefault(item.chat_id, asyncio.Lock())
        async with lock, self._in_flight:
            urgent = row.id in self._urgent_rows and self._limiter.take_now()
            if not urgent and not await self._limiter.acquire(self.should_continue):
                release.append((row.id, row.lease_token))
                return
            if self._clock() > row.lease_expires_at - self._margin:
                # Too little lease left to be sure nobody re-claims it mid-send.
                release.append((row.id, row.lease_token))
                return
            started = self._clock()
            try:
                message_id = await self._sender.send(item, ctx.state)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = classify(
                    exc,
                    attempts=row.attempts,
                    max_attempts=self._max_attempts,
                    backoff=self._backoff,
                )
                metrics.SEND_FAILURES.labels(type(exc).__name__).inc()
                if outcome.pause_sending > timedelta(0):
                    self._limiter.pause(outcome.pause_sending.total_seconds())
                await self._after_error(row, item, outcome, stats)
                return
            # Only answered sends size the window: a timeout says nothing about the round trip.
            self._in_flight.observe((self._clock() - started).total_seconds())
            metrics.SEND_WINDOW.set(self._in_flight.limit)
            await self._finish(row, stats, "sent", message_id=message_id)

    async def _finish(
        self,
        row: store.ClaimedRow,
        stats: TickStats,
        outcome: str,
        *,
        reason: str = "",
        message_id: int | None = None,
    ) -> None:
        for attempt in range(_FINALISE_RETRIES):
            try:
                now = self._clock()
                async with self._sm.begin() as session:
                    if outcome == "sent":
                        ok = await store.finalise_sent(
                            session, row.id, row.lease_token, now=now, message_id=message_id
                        )
                    else:
                        ok = await store.finalise_dropped(
                            session, row.id, row.lease_token, now=now, reason=reason
                        )
                break
            except Exception:
                # After a send this commit is all that stands between us and a duplicate.
                if attempt == _FINALISE_RETRIES - 1:
                    raise
                await asyncio.sleep(0.2 * 4**attempt)
        if not ok:
            stats.lease_lost += 1
            log.warning(
                "agenda lease lost before finalising",
                extra={"agenda_id": row.id, "kind": row.kind, "outcome": outcome},
            )
            return
        if outcome == "sent":
            stats.sent += 1
            metrics.SENDS.labels(row.kind).inc()
            log.debug("agenda message sent", extra={"agenda_id": row.id, "kind": row.kind})
        else:
            stats.dropped += 1
            log.debug(
                "agenda message dropped",
                extra={"agenda_id": row.id, "kind": row.kind, "reason": reason},
            )

    async def _after_error(
        self, row: store.ClaimedRow, item: AgendaItem, outcome: Classified, stats: TickStats
    ) -> None:
        now = self._clock()
        extra = {"agenda_id": row.id, "kind": row.kind, "error": outcome.error}
        async with self._sm.begin() as session:
            if outcome.next is Next.RETRY:
                ok = await store.finalise_retry(
                    session,
                    row.id,
                    row.lease_token,
                    next_attempt_at=now + outcome.delay,
                    error=outcome.error,
                    count_attempt=outcome.count_attempt,
                )
                stats.retried += ok
                if not outcome.count_attempt:  # flood control (429): one line, no traceback
                    log.warning("agenda send refused by flood control, will retry", extra=extra)
                else:
                    log.info("agenda send will be retried", extra=extra)
            else:
                ok = await store.finalise_failed(
                    session, row.id, row.lease_token, now=now, error=outcome.error
                )
                if ok and outcome.next is Next.BLOCKED and not item.to_coach:
                    assert row.runner_id is not None
                    await self._runner_blocked(session, row.runner_id, now)
                stats.failed += ok
                stats.blocked += ok and outcome.next is Next.BLOCKED
                log.warning("agenda send failed", extra=extra)
        if not ok:
            stats.lease_lost += 1

    async def _runner_blocked(self, session: AsyncSession, runner_id: int, now: datetime) -> None:
        """403 from Telegram: stop the runner's reminders and tell their coach, once."""
        if not await mark_unreachable(session, runner_id, now=now):
            return  # already known; the coach was told then
        await store.cancel_kinds(session, runner_id, BLOCKED_CANCELS, now=now)
        coach_id = await coach_of(session, runner_id)
        item = store.NewItem(
            scope=store.runner_scope(runner_id),
            runner_id=runner_id,
            coach_id=coach_id,
            kind=MessageKind.COACH_ALERT.value,
            key=f"alert:unreachable:{now.isoformat()}",
            due_at=now,
            payload={"reason": "unreachable"},
            status=AgendaStatus.PENDING if coach_id is not None else AgendaStatus.DROPPED,
            reason=None if coach_id is not None else "no coach",
        )
        await store.schedule(session, [item], now=now)
        log.warning("runner unreachable", extra={"runner_id": runner_id})
        if coach_id is not None:
            self._again = True  # the coach's alert is due now: go round once more

    @functools.cached_property
    def _deps(self) -> Deps:
        return Deps(rules=self._rules, sessionmaker=self._sm, clock=self._clock)

    async def _wake(self, row: store.ClaimedRow, stats: TickStats) -> None:
        """SESSION_CLOSE: the session day ended unreported. Let the engine slide the session,
        through the services' one decide-and-store path (it retries on a concurrent change)."""
        assert row.runner_id is not None
        runner_id = row.runner_id
        seq = row.payload.get("seq")

        async def slide(session: AsyncSession, now: datetime) -> Decision:
            if not isinstance(seq, int):
                raise LookupError("no session number")
            try:
                _, decision = await decide_and_store(
                    session, self._deps, runner_id, SessionMissed(seq), actor="engine", now=now
                )
            except (ConcurrentUpdate, LookupError, SQLAlchemyError):
                raise
            except Exception as exc:
                raise _EngineFailed(exc) from exc
            if not await store.finalise_dropped(
                session, row.id, row.lease_token, now=now, reason="engine woken"
            ):
                raise _LeaseLost
            return decision

        try:
            decision = await in_one_transaction(self._deps, runner_id, slide)
        except _LeaseLost:
            stats.lease_lost += 1
            return
        except LookupError:  # the runner has no program (deleted meanwhile)
            async with self._sm.begin() as session:
                ok = await store.finalise_dropped(
                    session, row.id, row.lease_token, now=self._clock(), reason="no program"
                )
            stats.dropped += ok
            return
        except _EngineFailed as failed:
            # The same state would fail the same way on every retry: record it.
            log.error(
                "engine failed on a wake-up",
                extra={"agenda_id": row.id},
                exc_info=failed.cause,
            )
            async with self._sm.begin() as session:
                ok = await store.finalise_failed(
                    session,
                    row.id,
                    row.lease_token,
                    now=self._clock(),
                    error=describe(failed.cause),
                )
            stats.failed += ok
            return
        except ConcurrentUpdate:
            async with self._sm.begin() as session:
                await store.finalise_retry(
                    session,
                    row.id,
                    row.lease_token,
                    next_attempt_at=self._clock(),
                    error="ConcurrentUpdate: program kept changing",
                )
            stats.retried += 1
            return
        stats.woke += 1
        if decision.messages:
            self._again = True  # e.g. a reminder for today: pick it up in this tick


class _EngineFailed(Exception):
    """The engine raised on a wake-up: recorded as failed, not retried."""

    def __init__(self, cause: Exception) -> None:
        super().__init__()
        self.cause = cause


class _LeaseLost(Exception):
    """Roll back the wake-up: another instance owns the row now."""


def _kind(value: str) -> MessageKind | None:
    try:
        return MessageKind(value)
    except ValueError:
        return None


def run_dispatcher(
    application: Application[Any, Any, Any, Any, Any, Any],
    dispatcher: Dispatcher,
    interval: float | timedelta,
    *,
    first: float = 0.0,
) -> Job[Any]:
    """Run `dispatcher.tick()` every `interval` on the application's JobQueue.

    The first tick runs `first` seconds after start, so what fell due while the bot was down
    goes out at once (through the rate limit). Stopping the application stops the dispatcher:
    in-flight sends complete and are recorded, claimed rows not yet sent are given back.
    """
    if application.job_queue is None:
        raise RuntimeError(
            "the application has no JobQueue: install python-telegram-bot[job-queue]"
        )
    dispatcher.bind(lambda: application.running, application.create_task)

    async def _tick(_: CallbackContext[Any, Any, Any, Any]) -> None:
        await dispatcher.tick()

    return application.job_queue.run_repeating(
        _tick, interval=interval, first=first, name="agenda", job_kwargs=JOB_KWARGS
    )


def describe_error(exc: BaseException) -> str:
    """Re-exported for handlers that log send errors the same way."""
    return describe(exc)
