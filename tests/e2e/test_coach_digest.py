"""The weekly digest with a fixed clock, over HTTP: one message per coach (split only at
Telegram's 4096 characters), a line per runner, missed follow-ups and open flags; the next
digest is on the agenda, so the chain survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import texts_coach as tc
from bot.program.decision import MessageKind
from bot.program.loader import Rules
from bot.program.state import Status
from bot.services import coaches as csvc
from bot.store import repo
from bot.store.models import AgendaStatus
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    START,
    agenda_rows,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
)

ANNA, BEN, CLEO = 1501, 1502, 1503
FIRST_DIGEST = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # Monday 08:00 in the coaches' zone (UTC)
EXTRA = 70  # Coach Kim's other runners: enough for more than 4096 characters


def digests(h: Harness, chat: int) -> list[str]:
    return [m.text or "" for m in h.messages(chat) if "Weekly digest" in (m.text or "")]


async def test_weekly_digest_content_batching_and_chain(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h, COACH))
        await onboard(h, BEN, name="Ben", code=await invite(h, COACH))
        await onboard(h, CLEO, name="Cleo", code=await invite(h, OTHER_COACH))
        anna, ben, cleo = [await runner_id(h, u) for u in (ANNA, BEN, CLEO)]
        for rid, coach in ((anna, COACH), (ben, COACH), (cleo, OTHER_COACH)):
            await h.say(f"/advance {rid}", user=coach)
        kim = await csvc.find_coach(h.deps, OTHER_COACH)
        assert kim is not None
        async with h.deps.sessionmaker.begin() as s:
            for i in range(EXTRA):
                await repo.create_runner(
                    s,
                    telegram_user_id=90_000 + i,
                    chat_id=90_000 + i,
                    timezone="Europe/Berlin",
                    now=h.clock.at,
                    display_name=f"Extra runner number {i:03d} with a long name",
                    coach_id=kim.id,
                )

        # Tuesday's run: Anna stops with severe pain (a red flag: no 24-hour check is asked),
        # Cleo answers the 24-hour check, Ben never does.
        await report_sessions(h, anna, 1, [8], followups=False, tick=True)
        assert (await program(h, anna))[0].status is Status.RED_FLAG
        await report_sessions(h, ben, 1, [0], followups=False, tick=True)
        await report_sessions(h, cleo, 1, [0], tick=True)

        assert not digests(h, COACH)
        await h.advance(FIRST_DIGEST - h.clock.at - timedelta(minutes=1))
        assert not digests(h, COACH), "not before Monday 08:00"
        sam_before, kim_before = len(h.messages(COACH)), len(h.messages(OTHER_COACH))
        await h.advance(timedelta(minutes=1))
        await h.dispatcher.join()

        # Sam: one message.
        (sam,) = [m.text or "" for m in h.messages(COACH)[sam_before:]]
        lines = sam.splitlines()
        assert lines[0] == "📋 Weekly digest, 02–08 Mar 2026", lines
        assert lines[1] == (
            "Hi Coach Sam. Runners: 2 · need attention: 2 · open flags: 1 · "
            "missed follow-ups (7 days): 1"
        ), lines
        body = [line for line in lines if "(#" in line]
        assert len(body) == 2, body
        assert body[0].startswith(f"🛑 Anna (#{anna})") and tc.TAG_RED_FLAG in body[0]
        assert "Run/walk bone-loading sessions" in body[0] and "missed" not in body[0]
        assert "pain 8" in body[0]
        assert body[1].startswith(f"❗ Ben (#{ben})") and "1 missed follow-up" in body[1]
        assert "last 6d ago" in body[1]
        assert lines[-1] == tc.DIGEST_FOOTER
        assert "Cleo" not in sam and "Extra runner" not in sam

        # Kim: many runners, so the digest is split, only at the limit and never inside a line.
        kim_msgs = [m.text or "" for m in h.messages(OTHER_COACH)[kim_before:]]
        assert len(kim_msgs) == 2, [len(t) for t in kim_msgs]
        assert kim_msgs[0].startswith("📋 Weekly digest, 02–08 Mar 2026\nHi Coach Kim.")
        assert all(len(t) <= tc.TELEGRAM_LIMIT for t in kim_msgs)
        # Greedy: the first message is as full as a whole next line allows.
        assert len(kim_msgs[0]) + len(kim_msgs[1].splitlines()[0]) + 1 > tc.TELEGRAM_LIMIT
        joined = "\n".join(kim_msgs)
        assert joined.count("Extra runner number") == EXTRA
        assert joined.count(f"Cleo (#{cleo})") == 1
        assert joined.splitlines()[-1] == tc.DIGEST_FOOTER

        # The next one is already on the agenda (in the database: survives a restart).
        sam_coach = await csvc.find_coach(h.deps, COACH)
        assert sam_coach is not None
        rows = await agenda_rows(h, coach_id=sam_coach.id, kind=MessageKind.DIGEST.value)
        assert [(r.key, r.status) for r in rows] == [
            ("digest:2026-W11", AgendaStatus.SENT.value),
            ("digest:2026-W12", AgendaStatus.PENDING.value),
        ]
        assert rows[1].due_at == FIRST_DIGEST + timedelta(days=7)
        at = h.clock.at

    # A restart (no coach registration, no start-up scheduling): the chain goes on.
    async with running_bot(shipped_rules, db_url, at, with_coaches=False) as h:
        await h.advance(timedelta(days=7))
        await h.dispatcher.join()
        assert [t.splitlines()[0] for t in digests(h, COACH)] == [
            "📋 Weekly digest, 09–15 Mar 2026"
        ]
        rows = await agenda_rows(h, coach_id=sam_coach.id, kind=MessageKind.DIGEST.value)
        assert [r.key for r in rows][-1] == "digest:2026-W13"
