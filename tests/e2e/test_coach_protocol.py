"""The coach chooses a runner's protocol over HTTP: `/invite <protocol id>` (followed where the
site allows it, else the site's own and the coach is told), and the Protocol button of
`/runner <id>` -> a protocol -> Confirm -> the switch (stale presses and other coaches' presses
change nothing)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.program.state import Status
from bot.store.models import DecisionRecord
from tests.e2e.harness import COACH, OTHER_COACH, running_bot
from tests.e2e.test_coach_support import (
    HIGH_SITE,
    INVITE_RE,
    START,
    agenda_rows,
    decisions,
    onboard,
    program,
    runner_id,
    sent,
    settle,
)
from tests.e2e.test_safety_coach import operator_cli, red_flagged

ANNA, BEN = 1501, 1502
ZERO_PAIN = "Low-risk bone stress injury, 0-pain rule"


async def _invite(h, arg: str) -> str:  # type: ignore[no-untyped-def]
    await h.say(f"/invite {arg}".strip(), user=COACH)
    m = INVITE_RE.search(h.last(COACH).text or "")
    assert m is not None, h.last(COACH).text
    return m.group(2)


async def test_an_invite_carries_a_protocol_followed_where_the_site_allows_it(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/invite no-such-thing", user=COACH)
        reply = h.last(COACH).text or ""
        assert "Unknown protocol “no-such-thing”" in reply
        assert "zero-pain-low-risk" in reply and "high-risk" in reply
        assert INVITE_RE.search(reply) is None  # no invite made

        code = await _invite(h, "zero-pain-low-risk")
        assert ZERO_PAIN in (h.last(COACH).text or "")
        await onboard(h, ANNA, name="Anna", code=code)
        anna = await runner_id(h, ANNA)
        assert (await program(h, anna))[0].protocol_id == "zero-pain-low-risk"

        # A low-risk protocol for a high-risk site: the site's own, and the coach hears why.
        code = await _invite(h, "low-risk")
        await onboard(h, BEN, name="Ben", code=code, site=HIGH_SITE)
        await settle(h)
        ben = await runner_id(h, BEN)
        assert (await program(h, ben))[0].protocol_id == "high-risk"
        told = [t for t in sent(h, COACH) if t.startswith("⚠️ Ben")]
        assert len(told) == 1, sent(h, COACH)[-4:]
        assert "invite-protocol-not-allowed" in told[0] and "(low-risk)" in told[0]
        assert "(high-risk)" in told[0]
        # It waits in /alerts until the coach has seen it: the invite did not do what they chose.
        await h.say("/alerts", user=COACH)
        listed = h.last(COACH)
        assert (listed.text or "").startswith("🔔 Ben"), listed.text
        assert tc.ALERT_WHAT["protocol_fallback"] in (listed.text or "")
        assert tc.BTN_NOTICE_SEEN in listed.button_texts


async def test_the_protocol_button_switches_with_confirmation(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await _invite(h, "zero-pain-low-risk"))
        anna = await runner_id(h, ANNA)
        before, version = await program(h, anna)

        await h.say(f"/runner {anna}", user=COACH)
        view = h.last_with_buttons(COACH)
        assert tc.BTN_PROTOCOL in view.button_texts
        # Another coach pressing Anna's button: refused, nothing shown.
        data = next(b[1] for row in view.buttons for b in row if b[0] == tc.BTN_PROTOCOL)
        await h.say("/runners", user=OTHER_COACH)
        kim_msg = h.last(OTHER_COACH).message_id
        for kind in ("kp", "kq", "kw"):
            forged = data.replace("|kp|", f"|{kind}|").replace("|list", "|low-risk")
            assert await h.press_data(forged, kim_msg, user=OTHER_COACH) == tc.NO_SUCH_RUNNER
        assert (await program(h, anna))[1] == version
        assert len(h.messages(OTHER_COACH)) == 1  # nothing about Anna was shown

        await h.press(tc.BTN_PROTOCOL, user=COACH, message=view)
        listing = h.last_with_buttons(COACH)
        assert "follows “Low-risk bone stress injury, 0-pain rule”" in (listing.text or "")
        assert ZERO_PAIN not in listing.button_texts  # the current one is not offered
        low = shipped_rules.protocols["low-risk"].name
        assert low in listing.button_texts
        assert shipped_rules.protocols["high-risk"].name not in listing.button_texts

        await h.press(low, user=COACH, message=listing)
        confirm = h.last_with_buttons(COACH)
        assert "coach-protocol-switch" in (confirm.text or "")
        await h.press(tc.BTN_CANCEL, user=COACH, message=confirm)
        assert (await program(h, anna))[1] == version  # cancelled: nothing written

        await h.press(low, user=COACH, message=listing)
        confirm = h.last_with_buttons(COACH)
        await h.press(tc.BTN_CONFIRM, user=COACH, message=confirm)
        await settle(h)
        after, new_version = await program(h, anna)
        assert after.protocol_id == "low-risk" and new_version > version
        assert after.clearances == before.clearances
        assert any(
            t.startswith("Done: Anna") and "coach-protocol-switch" in t for t in sent(h, COACH)
        )
        alert = [t for t in sent(h, COACH) if t.startswith("🔀 Anna")]
        assert len(alert) == 1 and "by Coach Sam" in alert[0], sent(h, COACH)[-3:]
        assert any("🔀" in t and low in t for t in sent(h, ANNA)), sent(h, ANNA)[-3:]
        async with h.deps.sessionmaker() as s:
            recs = (
                await s.execute(
                    select(DecisionRecord).where(
                        DecisionRecord.runner_id == anna, DecisionRecord.event == "ProtocolSwitched"
                    )
                )
            ).scalars()
            rec = list(recs)
        assert len(rec) == 1 and rec[0].actor.startswith("coach:")
        assert any(a["rule"] == "coach-protocol-switch" for a in rec[0].actions)

        # The old buttons are stale now: nothing changes.
        answer = await h.press_data(
            next(b[1] for row in confirm.buttons for b in row if b[0] == tc.BTN_CONFIRM),
            confirm.message_id,
            user=COACH,
        )
        assert answer == tc.ALREADY_HANDLED
        assert (await program(h, anna))[1] == new_version


async def test_the_operator_switches_and_lists_protocols_from_the_cli(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        running_bot(shipped_rules, db_url, START) as h,
        operator_cli(db_url, tmp_path, monkeypatch) as boneload,
    ):
        await onboard(h, ANNA, name="Anna", code=await _invite(h, ""))
        anna = await runner_id(h, ANNA)
        assert (await program(h, anna))[0].protocol_id == "low-risk"

        listed = await boneload("protocol", "--list")
        assert listed.exit_code == 0, listed.output
        assert all(pid in listed.output for pid in shipped_rules.protocols)
        site = await boneload("protocol", "--list", "--site", "navicular", "--json")
        assert site.exit_code == 0, site.output
        rows = json.loads(site.stdout)
        assert [(r["id"], r["default"]) for r in rows] == [("high-risk", True)]

        refused = {
            ("protocol", str(anna), "high-risk", "--by", "Dr Jones"): "not one runner",
            ("protocol", str(anna), "nope", "--by", "Dr Jones"): "unknown protocol 'nope'",
            ("protocol", "999999", "low-risk", "--by", "Dr Jones"): "no runner #999999",
            ("protocol", str(anna), "low-risk"): "--by must name",
            ("protocol", "--list", "--site", "nowhere"): "unknown site 'nowhere'",
        }
        for args, why in refused.items():
            res = await boneload(*args)
            assert res.exit_code == 1 and why in " ".join(res.output.split()), (args, res.output)
        assert (await program(h, anna))[0].protocol_id == "low-risk"

        res = await boneload("protocol", str(anna), "zero-pain-low-risk", "--by", "Dr Jones")
        assert res.exit_code == 0, res.output
        out = " ".join(res.output.split())
        assert "low-risk -> zero-pain-low-risk" in out and "operator:Dr Jones" in out
        assert "coach-protocol-switch" in out
        assert (await program(h, anna))[0].protocol_id == "zero-pain-low-risk"
        again = await boneload("protocol", str(anna), "zero-pain-low-risk", "--by", "Dr Jones")
        assert again.exit_code == 0 and "nothing changed" in again.output
        # Recorded as the operator's act; the coach's alert is on the agenda (the CLI's clock is
        # the wall clock, not the harness's, so it is not sent within this test).
        recs = [r for r in await decisions(h, anna) if r.event == "ProtocolSwitched"]
        assert [r.actor for r in recs] == ["operator:Dr Jones"] * 2
        rows = await agenda_rows(h, kind="coach_alert")
        assert [r.payload["by"] for r in rows if r.payload["reason"] == "protocol_switched"] == [
            "Dr Jones"
        ]


async def test_an_enrolled_runner_linking_later_gets_the_invites_protocol_if_allowed(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna")
        await onboard(h, BEN, name="Ben", site=HIGH_SITE)
        anna, ben = await runner_id(h, ANNA), await runner_id(h, BEN)
        await h.say(f"/start {await _invite(h, 'zero-pain-low-risk')}", user=ANNA)
        await settle(h)
        assert (await program(h, anna))[0].protocol_id == "zero-pain-low-risk"
        assert any("🔀" in t for t in sent(h, ANNA))
        assert [t for t in sent(h, COACH) if t.startswith("🔀 Anna")]

        await h.say(f"/start {await _invite(h, 'low-risk')}", user=BEN)
        await settle(h)
        assert (await program(h, ben))[0].protocol_id == "high-risk"
        told = [t for t in sent(h, COACH) if t.startswith("⚠️ Ben")]
        assert len(told) == 1 and "invite-protocol-not-allowed" in told[0], sent(h, COACH)[-3:]


async def test_a_switch_keeps_a_red_flag_and_its_reminder_still_reads(
    shipped_rules: Rules, db_url: str
) -> None:
    hours = shipped_rules.symptoms.actions.red_flag.remind_coach_after_hours
    async with running_bot(shipped_rules, db_url, START) as h:
        st = await red_flagged(h, climb=False)
        rid = st.rid
        await h.say(f"/runner {rid}", user=COACH)
        await h.press(tc.BTN_PROTOCOL, user=COACH, message=h.last_with_buttons(COACH))
        await h.press(ZERO_PAIN, user=COACH, message=h.last_with_buttons(COACH))
        await h.press(tc.BTN_CONFIRM, user=COACH, message=h.last_with_buttons(COACH))
        await settle(h)
        state, _ = await program(h, rid)
        assert state.protocol_id == "zero-pain-low-risk"
        assert state.status is Status.RED_FLAG and state.next is None  # still stopped
        assert state.flag_since == st.state.flag_since
        # The unacknowledged red flag's reminder, written on the old protocol, still reads.
        seen = len(h.messages(COACH))
        await h.advance(timedelta(hours=hours + 1))
        reminders = [t for t in sent(h, COACH)[seen:] if "reminder" in t]
        assert len(reminders) == 1 and "Anna" in reminders[0], sent(h, COACH)[seen:]
