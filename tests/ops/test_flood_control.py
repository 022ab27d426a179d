"""One rate limiter, and a 429 is one WARNING line: the bot against the stand-in answering
sendMessage with "Too Many Requests" for an agenda message and for a handler's reply."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.standin import faults
from bot.store import agenda, repo
from tests.e2e.harness import RUNNER, running_bot

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_a_429_is_one_warning_line_and_the_message_goes_later(
    shipped_rules: Rules, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(shipped_rules, db_url, START, with_coaches=False) as h:
        # PTB's own limiter is not installed: the agenda's is the one budget.
        assert h.app.bot.rate_limiter is None
        async with h.deps.sessionmaker.begin() as s:
            r = await repo.create_runner(
                s, telegram_user_id=RUNNER, chat_id=RUNNER, timezone="UTC", now=START
            )
            await agenda.schedule(
                s,
                [
                    agenda.NewItem(
                        agenda.runner_scope(r.id),
                        MessageKind.RUNNER_NOTICE.value,
                        "notice:flood",
                        START,
                        {"code": "coach_message", "coach": "Sam", "text": "hello"},
                        r.id,
                    )
                ],
                now=START,
            )
        h.standin.inject("sendMessage", faults.RetryAfter(3))
        caplog.clear()
        await h.tick()
        assert h.messages() == []
        flood = [r for r in caplog.records if "flood control" in r.getMessage()]
        assert [(r.levelname, r.exc_info) for r in flood] == [("WARNING", None)]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        await h.advance(timedelta(seconds=3))
        assert any("hello" in t for t in h.texts())

        # A handler's reply refused by flood control: one WARNING line too, no traceback.
        h.standin.inject("sendMessage", faults.RetryAfter(1))
        caplog.clear()
        await h.say("/help")
        flood = [r for r in caplog.records if "flood control" in r.getMessage()]
        assert [(r.levelname, r.exc_info) for r in flood] == [("WARNING", None)]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
