"""The coach's roster, one runner's detail and chart, messages to a runner and releasing one,
over HTTP."""

from __future__ import annotations

import struct

from bot import texts
from bot import texts_coach as tc
from bot.program.calendar import zone
from bot.program.events import FollowupAnswered
from bot.program.loader import Rules
from bot.program.state import Status
from bot.services import coaches as csvc
from bot.services import runners as rsvc
from bot.store.models import AgendaStatus
from tests.e2e.harness import COACH, OTHER_COACH, running_bot
from tests.e2e.test_coach_support import (
    START,
    agenda_rows,
    coach_of,
    decisions,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
    sent,
    settle,
)

CLEO, DORA, EVE = 1401, 1402, 1403


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_roster_detail_chart_reply_and_release(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        for user, name in ((CLEO, "Cleo"), (DORA, "Dora"), (EVE, "Eve")):
            await onboard(h, user, name=name, code=await invite(h))
        cleo, dora, eve = [await runner_id(h, u) for u in (CLEO, DORA, EVE)]

        # A few weeks for Cleo: a week of strength work, then run/walk from the coach's
        # /advance, then two and a half weeks of runs with 24-hour checks.
        assert await report_sessions(h, cleo, 6, [0]) >= 4
        await h.say(f"/advance {cleo}", user=COACH)
        assert (h.last(COACH).text or "").startswith("Done: advance for runner #")
        runs = await report_sessions(h, cleo, 24, [0, 1, 0, 2])
        assert runs >= 6
        st, _ = await program(h, cleo)
        assert st.phase_id == "low-run-walk" and st.level >= 1 and st.status is Status.ACTIVE

        # Dora red-flags on a follow-up (no coach action yet); Eve is paused by the coach.
        await h.say(f"/advance {dora}", user=COACH)
        await report_sessions(h, dora, 26, [0], followups=False)
        st, _ = await program(h, dora)
        assert st.open, "Dora's last run awaits its 24-hour check"
        red = {"pain_now": 0, "pain_night": True}
        await rsvc.apply_event(h.deps, dora, FollowupAnswered(st.open[0].seq, red), actor="runner")
        assert (await program(h, dora))[0].status is Status.RED_FLAG
        await h.say(f"/cpause {eve}", user=COACH)
        assert (await program(h, eve))[0].status is Status.PAUSED
        await settle(h)

        # /runners: attention first (red flag), then paused, then all clear.
        await h.say("/runners", user=COACH)
        (roster,) = [m.text or "" for m in h.messages(COACH)[-1:]]
        lines = roster.splitlines()
        assert lines[0] == tc.ROSTER_HEADER.format(n=3, k=1), lines[0]
        body = [line for line in lines if "(#" in line]
        assert [line.split(" (#")[0][2:] for line in body] == ["Dora", "Eve", "Cleo"], body
        assert tc.TAG_RED_FLAG in body[0] and tc.ATTENTION_ICON["red_flag"] in body[0]
        assert tc.TAG_PAUSED in body[1]
        assert "Run/walk bone-loading sessions" in body[2] and "done" in body[2]
        assert lines[-1] == tc.ROSTER_HINT

        # /runner <id>: the detail with the decision trail and rule ids, then the chart. Sam
        # re-registered in New York's time zone: the trail shows his local times.
        await csvc.add_coach(h.deps, COACH, "Coach Sam", "America/New_York")
        await h.say(f"/hold {cleo}", user=COACH)
        held_at = (await decisions(h, cleo))[0].at
        photos_before = len(h.standin.calls_to("sendPhoto"))
        await h.say(f"/runner {cleo}", user=COACH)
        detail, chart = h.messages(COACH)[-2:]
        text = detail.text or ""
        assert text.startswith(f"{tc.ATTENTION_ICON['ok']} Cleo (#{cleo})"), text
        assert tc.DETAIL_TRAIL in text
        local = held_at.astimezone(zone("America/New_York"))
        assert f"• {local:%d %b %H:%M} {local:%Z} hold, rule coach-decision, by coach" in text, text
        assert "progress, rule progress-after-hold, by runner: to level " in text, text
        assert "run: done, " in text and " min running, pain 0, 24h 0" in text
        assert len(h.standin.calls_to("sendPhoto")) == photos_before + 1
        assert chart.photo is not None
        png = chart.photo.content
        assert 15_000 < len(png) < 1_000_000, len(png)
        assert png_size(png) == (900, 600)
        # By name, case-insensitive prefix.
        await h.say("/runner cle", user=COACH)
        assert (h.messages(COACH)[-2].text or "").startswith(
            f"{tc.ATTENTION_ICON['ok']} Cleo (#{cleo})"
        )

        # /reply: through the agenda; two at the same instant both arrive, by id or by name.
        await h.say(f"/reply {cleo} Great work this week!", user=COACH)
        assert h.last(COACH).text == tc.MESSAGE_QUEUED.format(id=cleo)
        await h.say("/reply cleo Keep the easy pace.\nSee you Friday.", user=COACH)
        await settle(h)
        got = [t for t in sent(h, CLEO) if t.startswith("💬")]
        assert got == [
            "💬 From your coach Coach Sam: Great work this week!",
            "💬 From your coach Coach Sam: Keep the easy pace.\nSee you Friday.",
        ], got

        # /release: Eve is no longer Sam's; an alert still waiting for Sam about her is withdrawn.
        await h.say(f"/cresume {eve}", user=COACH)
        await settle(h)
        await h.say(f"/advance {eve}", user=COACH)
        await report_sessions(h, eve, 28, [0], followups=False)
        st, _ = await program(h, eve)
        assert st.open
        await rsvc.apply_event(h.deps, eve, FollowupAnswered(st.open[0].seq, red), actor="runner")
        # The red flag's alert, and its 12-hour reminder should nobody acknowledge it.
        alerts = await agenda_rows(h, runner_id=eve, kind="coach_alert")
        assert len(alerts) == 2
        assert {a.status for a in alerts} == {AgendaStatus.PENDING.value}
        await h.say(f"/release {eve}", user=COACH)
        assert h.last(COACH).text == tc.RELEASED.format(id=eve)
        assert await coach_of(h, eve) is None
        alerts = await agenda_rows(h, runner_id=eve, kind="coach_alert")
        assert AgendaStatus.PENDING.value not in {a.status for a in alerts}
        sam_before = len(h.messages(COACH))
        await settle(h)
        assert not [m for m in h.messages(COACH)[sam_before:] if "Eve" in (m.text or "")]
        for cmd in (f"/runner {eve}", f"/hold {eve}", f"/reply {eve} hi", f"/release {eve}"):
            await h.say(cmd, user=COACH)
            assert h.last(COACH).text == tc.NO_SUCH_RUNNER, cmd
        await h.say("/runners", user=COACH)
        assert "Eve" not in (h.last(COACH).text or "")
        assert (await program(h, eve))[0].status is Status.RED_FLAG  # her program is hers

        # She can link to another coach later with a new invite: one coach at a time.
        await h.say(f"/start {await invite(h, OTHER_COACH)}", user=EVE)
        assert h.last(EVE).text == texts.LINKED.format(coach="Coach Kim")
        await h.say("/runners", user=OTHER_COACH)
        assert f"Eve (#{eve})" in (h.last(OTHER_COACH).text or "")
        # Her stop waits for a clinician: the new coach receives it (CoachLinked).
        await settle(h)
        assert any(t.startswith(f"🛑 RED FLAG: Eve (#{eve})") for t in sent(h, OTHER_COACH))
