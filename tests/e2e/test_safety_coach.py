"""Issue 9, the coach's and the operator's side, over HTTP: only a clinician lifts a stop.

On a red-flag or escalation alert every button says what it does to the stop; "Cleared: resume
at …" asks for a confirmation and only Confirm acts; Acknowledge is recorded and calls off the
12-hour reminder, and without it the reminder comes and `boneload doctor` fails; coach commands
on a stopped runner keep the stop and say so; a runner's own "a clinician cleared me" reaches
the coach as a request; a coach linked later receives the red flag that waited; the operator
clears and acknowledges through the CLI, recorded with their name.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot import texts_coach as tc
from bot.cli import app as cli_app
from bot.program.calendar import local_date
from bot.program.decision import MessageKind
from bot.program.events import SymptomsReported
from bot.program.loader import Rules
from bot.program.rules import SessionKind
from bot.program.state import ProgramState, Status
from bot.services import coaches as csvc
from bot.services import runners as rsvc
from bot.store import admin
from bot.store.models import AgendaStatus
from bot.texts import level_label
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    HIGH_SITE,
    START,
    TZ,
    advance_until,
    agenda_rows,
    answer_questions,
    decisions,
    do_session,
    into_run_walk,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
    sent,
    settle,
    wait_followup,
)

ROOT = Path(__file__).resolve().parents[2]
ANNA, NIA, ORLA = 1501, 1502, 1503
RED_FLAG_OPTIONS = ("rf-down-1", "rf-down-2", "rf-same")


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class Stopped:
    rid: int
    sam: csvc.CoachCtx
    state: ProgramState
    version: int
    alert: Any  # the red-flag alert message in the coach's chat


def answers_to(h: Harness, user: int) -> list[Any]:
    return [a for a in h.standin.answered_callbacks if a.user_id == user]


def labels(msg: Any) -> list[str]:
    """The buttons that act on the program ("Message runner", under every alert, left out)."""
    return [label for row in msg.buttons for label, _ in row if label != tc.BTN_MESSAGE_RUNNER]


async def red_flagged(h: Harness, *, climb: bool = True) -> Stopped:
    """Anna (Coach Sam's) in run/walk, a level up when `climb`, answers "pain woke me at night"
    in a 24-hour check: stopped, and Sam has the alert."""
    await onboard(h, ANNA, name="Anna", code=await invite(h))
    rid = await runner_id(h, ANNA)
    sam = await csvc.find_coach(h.deps, COACH)
    assert sam is not None
    await into_run_walk(h, rid)
    if climb:
        await report_sessions(h, rid, 3, [0], tick=True)
        assert (await program(h, rid))[0].level >= 1
    for _ in range(4):  # the next session with a 24-hour check (cross-training has none)
        await do_session(h, ANNA, pain="0", rpe="3")
        if (await program(h, rid))[0].open:
            break
    await wait_followup(h, ANNA)
    before = len(h.messages(COACH))
    await answer_questions(h, ANNA, "f", {"pain_night": "y"})
    await settle(h)
    state, version = await program(h, rid)
    assert state.status is Status.RED_FLAG
    alerts = [m for m in h.messages(COACH)[before:] if m.buttons]
    assert len(alerts) == 1, sent(h, COACH)[before:]
    return Stopped(rid, sam, state, version, alerts[0])


def landing(rules: Rules, state: ProgramState, levels_down: int) -> str:
    """The level label a red flag at `state` resumes on (run/walk is the first run phase)."""
    phase = rules.protocols[state.protocol_id].phase(state.phase_id)
    return level_label(rules, state.protocol_id, phase.levels[max(0, state.level - levels_down)].id)


def option(rules: Rules, option_id: str) -> Any:
    return next(o for o in rules.symptoms.actions.red_flag.resume if o.id == option_id)


def cleared_label(rules: Rules, state: ProgramState, option_id: str) -> str:
    o = option(rules, option_id)
    return tc.BTN_RESUME_AT.format(
        level=landing(rules, state, o.levels_down), rest=tc.rest_days(o.rest_days)
    )


@asynccontextmanager
async def operator_cli(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    """`boneload …` on the bot's database, run in a thread (the CLI runs its own event loop)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RULES_DIR", str(ROOT / "rules"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    runner = CliRunner()

    async def invoke(*args: str) -> Result:
        return await asyncio.to_thread(runner.invoke, cli_app, list(args))

    yield invoke


# --- the alert's buttons -----------------------------------------------------------------------


async def test_keep_stopped_then_cleared_only_on_confirm(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        st = await red_flagged(h)
        rid, flagged = st.rid, st.state
        ref = f"{rid}.{st.version}"
        assert st.alert.buttons[-1][0][0] == tc.BTN_MESSAGE_RUNNER
        assert labels(st.alert) == [
            tc.BTN_ACK,
            tc.BTN_KEEP_STOPPED,
            *(cleared_label(shipped_rules, flagged, o) for o in RED_FLAG_OPTIONS),
        ]
        for _, data in (b for row in st.alert.buttons for b in row):
            if data == f"v1|kt|{rid}|m":  # Message runner: writing lifts nothing
                continue
            assert data.startswith(("v1|k|" + ref + "|", "v1|kr|" + ref + "|")), data
            assert len(data.encode()) <= 64
        # Nothing that would silently lift the stop, or mean nothing on it.
        assert not {"Hold", "Regress one level", "Pause", "Clear to continue"} & set(
            labels(st.alert)
        )

        # Keep stopped: still a red flag, recorded as Sam's, and the runner is told in words.
        runner_seen = len(h.messages(ANNA))
        coach_seen = len(h.messages(COACH))
        await h.press(tc.BTN_KEEP_STOPPED, user=COACH, message=st.alert)
        assert answers_to(h, COACH)[-1].text == tc.TOAST_KEPT
        kept, kept_version = await program(h, rid)
        assert kept.status is Status.RED_FLAG and kept.level == flagged.level
        assert kept.flag_ack == f"coach:{st.sam.id}"
        newest = (await decisions(h, rid))[0]
        assert newest.actor == f"coach:{st.sam.id}"
        assert any(a["rule"] == "coach-kept-stop" for a in newest.actions), newest.actions
        told_coach = sent(h, COACH)[coach_seen:]
        assert any(
            "still stopped" in t and f"/clear {rid}" in t and "coach-kept-stop" in t
            for t in told_coach
        ), told_coach
        await settle(h)
        told = sent(h, ANNA)[runner_seen:]
        assert any("Your coach" in t and "kept" in t for t in told), told
        # The alert now carries the new version, and no Acknowledge (it is acknowledged).
        alert = h.message(st.alert.message_id, COACH)
        assert labels(alert)[0] == tc.BTN_KEEP_STOPPED
        assert all(
            f"|{rid}.{kept_version}|" in d
            for row in alert.buttons
            for label, d in row
            if label != tc.BTN_MESSAGE_RUNNER
        )

        # "Cleared: …" asks first: nothing changes until Confirm.
        choice = cleared_label(shipped_rules, flagged, "rf-down-1")
        await h.press(choice, user=COACH, message=alert)
        assert answers_to(h, COACH)[-1].text == tc.TOAST_CONFIRM
        assert await program(h, rid) == (kept, kept_version)
        confirm = h.last_with_buttons(COACH)
        level = landing(shipped_rules, flagged, 1)
        assert confirm.text.startswith(
            tc.CONFIRM_RESUME_AT.format(
                name="Anna", id=rid, level=level, rest="3 rest days", option="rf-down-1"
            )
        )
        # The confirmation says what it lifts: a red flag, not just a resume.
        assert "This lifts the red flag" in confirm.text
        assert labels(confirm) == [tc.BTN_CONFIRM, tc.BTN_CANCEL]

        # Cancel: nothing changes, and it says so.
        await h.press(tc.BTN_CANCEL, user=COACH, message=confirm)
        assert answers_to(h, COACH)[-1].text == tc.TOAST_CANCELLED
        assert await program(h, rid) == (kept, kept_version)
        assert h.last(COACH).text == tc.DID_CANCEL.format(name="Anna", id=rid, status="red flag")

        # Another coach pressing Confirm (forged under a message of their own): refused.
        await h.say("/runners", user=OTHER_COACH)
        kim_msg = h.last(OTHER_COACH)
        confirm_data = f"v1|ky|{rid}.{kept_version}|rf-down-1"
        await h.press_data(confirm_data, kim_msg.message_id, OTHER_COACH)
        refused = answers_to(h, OTHER_COACH)[-1]
        assert (refused.text, refused.show_alert) == (tc.NO_SUCH_RUNNER, True)
        assert await program(h, rid) == (kept, kept_version)
        # A forged option the rules do not know: nothing changes either.
        bogus = f"v1|ky|{rid}.{kept_version}|rf-bogus"
        await h.press_data(bogus, alert.message_id, COACH)
        assert answers_to(h, COACH)[-1].text == tc.ALREADY_HANDLED
        assert await program(h, rid) == (kept, kept_version)

        # Cleared again, then Confirm: active one level down, after 3 days without running.
        await h.press(choice, user=COACH, message=alert)
        confirm = h.last_with_buttons(COACH)
        runner_seen = len(h.messages(ANNA))
        await h.press(tc.BTN_CONFIRM, user=COACH, message=confirm)
        assert answers_to(h, COACH)[-1].text == tc.TOAST_CLEARED
        resumed, resumed_version = await program(h, rid)
        assert resumed.status is Status.ACTIVE
        phase = shipped_rules.protocols[resumed.protocol_id].phase(resumed.phase_id)
        assert level_label(shipped_rules, resumed.protocol_id, phase.levels[resumed.level].id) == (
            level
        )
        today = local_date(h.clock.at, TZ)
        assert resumed.impact_free_until == today + timedelta(days=3)
        assert resumed.flag_since is None
        newest = (await decisions(h, rid))[0]
        assert newest.actor == f"coach:{st.sam.id}"
        assert any(a["rule"] == "rf-down-1" and a["act"] == "resume" for a in newest.actions)
        assert h.last(COACH).text == tc.DID_RESUME_AT.format(
            name="Anna",
            id=rid,
            level=level,
            rest="3 rest days",
            rules=", ".join(dict.fromkeys(a["rule"] for a in newest.actions)),
        )
        assert not h.message(confirm.message_id, COACH).buttons
        await settle(h)
        told = sent(h, ANNA)[runner_seen:]
        assert any("Your coach" in t and "run again" in t for t in told), told

        # A second Confirm (the same message, an old version): already handled, no change.
        await h.press_data(f"v1|ky|{rid}.{kept_version}|rf-down-1", confirm.message_id, COACH)
        last = answers_to(h, COACH)[-1]
        assert (last.text, last.show_alert) == (tc.ALREADY_HANDLED, True)
        assert (await program(h, rid))[1] == resumed_version

        # No run session before the rest days are over.
        nxt = resumed.next
        assert nxt is not None
        assert nxt.prescription.kind is not SessionKind.RUN or nxt.day > today + timedelta(days=3)
        seen = len(h.messages(ANNA))
        await h.advance(timedelta(days=3, hours=12) - timedelta(hours=h.clock.at.hour))
        jogs = [t for t in sent(h, ANNA)[seen:] if "Today's session: jog" in t]
        assert not jogs, jogs


async def test_acknowledge_is_recorded_and_calls_off_the_reminder(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        st = await red_flagged(h, climb=False)
        rid = st.rid
        reminder = [
            r
            for r in await agenda_rows(h, runner_id=rid, kind=MessageKind.COACH_ALERT.value)
            if r.key.startswith("alert:again:")
        ]
        assert len(reminder) == 1 and reminder[0].status == AgendaStatus.PENDING.value

        await h.press(tc.BTN_ACK, user=COACH, message=st.alert)
        assert answers_to(h, COACH)[-1].text == tc.TOAST_ACKNOWLEDGED
        acked, _ = await program(h, rid)
        assert acked.status is Status.RED_FLAG
        assert acked.flag_ack == f"coach:{st.sam.id}"
        newest = (await decisions(h, rid))[0]
        assert newest.actor == f"coach:{st.sam.id}" and newest.event == "CoachAction"
        assert any(a["rule"] == "alert-acknowledged" for a in newest.actions), newest.actions
        assert "Acknowledged: recorded as yours" in (h.last(COACH).text or "")
        assert "alert-acknowledged" in (h.last(COACH).text or "")
        (row,) = [
            r
            for r in await agenda_rows(h, runner_id=rid, kind=MessageKind.COACH_ALERT.value)
            if r.key == reminder[0].key
        ]
        assert row.status == AgendaStatus.CANCELLED.value

        # /runner shows the stop and who acknowledged it, when.
        await h.say(f"/runner {rid}", user=COACH)
        detail = next(t for t in reversed(sent(h, COACH)) if t.startswith("🛑 Anna"))
        assert "Stopped since" in detail and "acknowledged by Coach Sam on" in detail, detail

        # Twelve hours on: no reminder.
        seen = len(h.messages(COACH))
        await h.advance(timedelta(hours=13))
        assert not [t for t in sent(h, COACH)[seen:] if "reminder" in t]


async def test_unacknowledged_red_flag_is_reminded_then_doctor_fails(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hours = shipped_rules.symptoms.actions.red_flag.remind_coach_after_hours
    async with (
        running_bot(shipped_rules, db_url, START) as h,
        operator_cli(db_url, tmp_path, monkeypatch) as boneload,
    ):
        st = await red_flagged(h, climb=False)
        rid = st.rid
        await h.say(f"/runner {rid}", user=COACH)
        detail = next(t for t in reversed(sent(h, COACH)) if t.startswith("🛑 Anna"))
        assert "not acknowledged" in detail, detail
        waiting = await admin.waiting_for_clinician(
            db_url, now=h.clock.at, remind_after_hours=hours
        )
        assert [(w.runner_id, w.overdue) for w in waiting] == [(rid, False)]

        seen = len(h.messages(COACH))
        await h.advance(timedelta(hours=hours, minutes=1))
        again = [m for m in h.messages(COACH)[seen:] if "reminder" in (m.text or "")]
        assert len(again) == 1, sent(h, COACH)[seen:]
        title = tc.ALERT_REMINDER.format(title=tc.ALERT_TITLES["red_flag"], hours=f"{hours} hours")
        assert (again[0].text or "").startswith(f"{title}: Anna (#{rid})"), again[0].text
        assert tc.BTN_ACK in labels(again[0])
        waiting = await admin.waiting_for_clinician(
            db_url, now=h.clock.at, remind_after_hours=hours
        )
        assert [(w.runner_id, w.overdue) for w in waiting] == [(rid, True)]

        doctor = await boneload("doctor")
        assert doctor.exit_code == 1, doctor.output
        assert f"runner #{rid}" in doctor.output and "nobody acknowledged" in doctor.output
        assert "Anna" not in doctor.output  # ids only

        # The operator acknowledges it: recorded with their name; doctor is healthy again.
        ack = await boneload("ack", str(rid), "--by", "Dr Jones")
        assert ack.exit_code == 0, ack.output
        assert "operator:Dr Jones" in ack.output
        acked, _ = await program(h, rid)
        assert acked.status is Status.RED_FLAG and acked.flag_ack == "operator:Dr Jones"
        newest = (await decisions(h, rid))[0]
        assert newest.actor == "operator:Dr Jones"
        again = await boneload("ack", str(rid), "--by", "Dr Jones")
        assert again.exit_code == 0 and "already acknowledged" in again.output
        # (The ticker's own health is judged on the wall clock, which this test's clock is not:
        # what matters here is that the clinical problem is gone.)
        doctor = await boneload("doctor", "--json")
        report = json.loads(doctor.output)
        assert report["unacknowledged_stops"] == [], report
        assert not any("acknowledged" in p for p in report.get("problems", [])), report


# --- coach commands on a stopped runner --------------------------------------------------------


async def test_coach_commands_keep_a_stop_and_clear_asks_which_way_back(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        st = await red_flagged(h)
        rid = st.rid
        for command in ("hold", "regress", "advance", "cresume", "cpause"):
            await h.say(f"/{command} {rid}", user=COACH)
            reply = h.last(COACH).text or ""
            assert "still stopped" in reply and f"use /clear {rid} to resume" in reply, reply
            assert not reply.startswith("Done"), reply
            assert (await program(h, rid))[0].status is Status.RED_FLAG, command

        stopped, version = await program(h, rid)
        await h.say(f"/clear {rid}", user=COACH)
        choose = h.last(COACH)
        assert (choose.text or "").startswith(f"Anna (#{rid}) is stopped (red flag) since")
        assert await program(h, rid) == (stopped, version)
        choice = cleared_label(shipped_rules, stopped, "rf-same")
        assert choice in labels(choose)
        await h.press(choice, user=COACH, message=choose)
        assert await program(h, rid) == (stopped, version)
        await h.press(tc.BTN_CONFIRM, user=COACH, message=h.last_with_buttons(COACH))
        resumed, _ = await program(h, rid)
        assert resumed.status is Status.ACTIVE and resumed.level == stopped.level
        assert (h.last(COACH).text or "").startswith("Cleared: Anna")


# --- a runner's own word, and a coach linked later -----------------------------------------------


async def test_a_self_claimed_clearance_asks_the_coach_and_only_cleared_unlocks(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        # Nia says yes to every "has a clinician cleared you" question at onboarding.
        await onboard(h, NIA, name="Nia", code=await invite(h), site=HIGH_SITE)
        nia = await runner_id(h, NIA)
        await settle(h)

        def claim_alert() -> Any:
            return next(
                (
                    m
                    for m in reversed(h.messages(COACH))
                    if m.buttons and "reports that a clinician has cleared" in (m.text or "")
                ),
                None,
            )

        await advance_until(h, lambda: claim_alert() is not None, limit=timedelta(days=40))
        alert = claim_alert()
        assert labels(alert) == [tc.BTN_CLEARED, tc.BTN_NOT_YET]
        assert f"Nia (#{nia})" in alert.text and "runner-claim-is-a-request" in alert.text
        waiting, _ = await program(h, nia)
        assert waiting.gate is not None and waiting.gate.awaiting_clearance
        locked = waiting.gate.phase_id
        assert waiting.phase_id != locked

        # Time passes: still locked. The program moved on meanwhile (sessions), so a press on
        # the old alert changes nothing, and its buttons come back at the current version.
        await h.advance(timedelta(days=3))
        assert (await program(h, nia))[0].phase_id == waiting.phase_id
        await h.press(tc.BTN_NOT_YET, user=COACH, message=alert)
        last = answers_to(h, COACH)[-1]
        assert (last.text, last.show_alert) == (tc.REFRESHED, True)
        refreshed = h.message(alert.message_id, COACH)
        assert labels(refreshed) == [tc.BTN_CLEARED, tc.BTN_NOT_YET]
        await h.press(tc.BTN_NOT_YET, user=COACH, message=refreshed)
        assert answers_to(h, COACH)[-1].text == tc.NOT_YET_NOTED.format(id=nia)
        assert (await program(h, nia))[0].phase_id == waiting.phase_id

        await h.press(tc.BTN_CLEARED, user=COACH, message=refreshed)
        assert answers_to(h, COACH)[-1].text == tc.DONE_BUTTON.format(verb="clear")
        cleared, _ = await program(h, nia)
        assert cleared.phase_id == locked
        newest = (await decisions(h, nia))[0]
        assert newest.actor.startswith("coach:")


async def test_a_coach_linked_later_receives_the_waiting_red_flag(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        running_bot(shipped_rules, db_url, START) as h,
        operator_cli(db_url, tmp_path, monkeypatch) as boneload,
    ):
        await onboard(h, ORLA, name="Orla")  # no invite: no coach
        orla = await runner_id(h, ORLA)
        # Her own symptom report (the /pain check) with night pain: a red flag nobody receives.
        report = SymptomsReported({"pain_now": 3, "pain_night": True})
        await rsvc.apply_event(h.deps, orla, report, actor="runner")
        await settle(h)
        assert (await program(h, orla))[0].status is Status.RED_FLAG
        alerts = await agenda_rows(h, runner_id=orla, kind=MessageKind.COACH_ALERT.value)
        assert alerts and {a.status for a in alerts} == {AgendaStatus.DROPPED.value}
        assert not [t for t in sent(h, COACH) if "Orla" in t]
        # The operator sees who waits for a clinician with no coach to ask: by id, no name.
        for command in ("doctor", "agenda"):
            res = await boneload(command)
            assert "waiting for a clinician with no coach" in res.output, res.output
            assert f"runner #{orla}: red_flag" in res.output and "Orla" not in res.output

        # She opens Coach Sam's invite: Sam now gets the red flag, with its buttons.
        await h.say(f"/start {await invite(h)}", user=ORLA, first_name="Orla")
        await settle(h)
        alert = h.last_with_buttons(COACH)
        assert (alert.text or "").startswith(f"🛑 RED FLAG: Orla (#{orla})"), alert.text
        assert "open-alerts-to-new-coach" in (alert.text or "")
        assert labels(alert)[:2] == [tc.BTN_ACK, tc.BTN_KEEP_STOPPED]
        newest = (await decisions(h, orla))[0]
        assert newest.event == "CoachLinked"
        res = await boneload("agenda")
        assert f"runner #{orla}" not in res.output, res.output


# --- the operator ------------------------------------------------------------------------------


async def test_operator_clear_and_its_refusals(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        running_bot(shipped_rules, db_url, START) as h,
        operator_cli(db_url, tmp_path, monkeypatch) as boneload,
    ):
        st = await red_flagged(h)
        rid = st.rid
        await onboard(h, ORLA, name="Orla")  # active, no coach, nothing to clear
        orla = await runner_id(h, ORLA)

        refusals = {
            ("clear", "999999", "--by", "Dr Jones"): "no runner #999999",
            ("ack", "999999", "--by", "Dr Jones"): "no runner #999999",
            ("clear", str(orla), "--by", "Dr Jones"): "nothing to clear",
            ("ack", str(orla), "--by", "Dr Jones"): "nothing to acknowledge",
            ("clear", str(rid), "--by", "Dr Jones", "--option", "nope"): (
                "valid: " + ", ".join(RED_FLAG_OPTIONS)
            ),
            ("clear", str(rid), "--by", " "): "--by",
        }
        before = await program(h, rid)
        for args, why in refusals.items():
            res = await boneload(*args)
            assert res.exit_code == 1, (args, res.output)
            lines = [line for line in res.output.splitlines() if line.strip()]
            assert len(lines) == 1 and why in lines[0], (args, res.output)
        missing_by = await boneload("clear", str(rid))
        assert missing_by.exit_code == 2  # a usage error, as typer reports every one
        assert await program(h, rid) == before

        res = await boneload("clear", str(rid), "--by", "Dr Jones", "--option", "rf-down-2")
        assert res.exit_code == 0, res.output
        assert "rf-down-2" in res.output and "operator:Dr Jones" in res.output
        resumed, _ = await program(h, rid)
        assert resumed.status is Status.ACTIVE
        # The CLI runs on the wall clock, not the test's: 7 days without running from today.
        today = local_date(datetime.now(UTC), TZ)
        assert resumed.impact_free_until in (today + timedelta(days=d) for d in (6, 7))
        newest = (await decisions(h, rid))[0]
        assert newest.actor == "operator:Dr Jones"
        assert any(a["rule"] == "rf-down-2" for a in newest.actions)
        # The runner is told who decided: due on the CLI's wall clock, so read from the agenda.
        notices = await agenda_rows(h, runner_id=rid, kind=MessageKind.RUNNER_NOTICE.value)
        told = [n.payload for n in notices if n.payload.get("code") == "coach_cleared_stop"]
        assert [(p["by"], p["rest_days"]) for p in told] == [("operator", 7)], told

        again = await boneload("clear", str(rid), "--by", "Dr Jones")
        assert again.exit_code == 1 and "nothing to clear" in again.output
