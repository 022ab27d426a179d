"""Issue 11 over HTTP: a coach tailors their runner from Telegram (/runner -> Tailor, /tailor):
a button dialog of fields and allowed values, kept in the dialog row; the runner is told in plain
words; /status and the coach's /runner view show the overlay with its version and who set it;
the decisions under it name the tailoring rule; another coach's runner, stale buttons and forged
out-of-range values change nothing. The operator tailors from the CLI; export includes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts_coach as tc
from bot.conversation.callbacks import Kind, cb
from bot.program.loader import Rules
from bot.store.models import OverlayVersion
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import (
    START,
    decisions,
    into_run_walk,
    invite,
    onboard,
    program,
    report_sessions,
    runner_id,
    sent,
    settle,
)
from tests.e2e.test_safety_coach import operator_cli

ANNA = 1601


def answers_to(h: Harness, user: int) -> list[str | None]:
    return [a.text for a in h.standin.answered_callbacks if a.user_id == user]


async def versions(h: Harness, rid: int) -> list[OverlayVersion]:
    async with h.deps.sessionmaker() as s:
        rows = await s.execute(
            select(OverlayVersion)
            .where(OverlayVersion.runner_id == rid)
            .order_by(OverlayVersion.version)
        )
        return list(rows.scalars())


async def test_a_coach_tailors_from_telegram_end_to_end(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await into_run_walk(h, anna)

        # /runner shows the Tailor button; it opens the menu in place.
        await h.say(f"/runner {anna}", user=COACH)
        view = next(m for m in reversed(h.messages(COACH)) if m.buttons)
        assert tc.BTN_TAILOR in [b[0] for row in view.buttons for b in row]
        await h.press(tc.BTN_TAILOR, user=COACH, message=view)
        menu = h.message(view.message_id, COACH)
        assert (menu.text or "").startswith("🛠 Tailoring Anna")
        assert tc.TAILOR_NONE in (menu.text or "")
        for row in menu.buttons:
            for _, data in row:
                assert len(data.encode()) <= 64 and data.startswith("v1|ko|")

        # Pain limit -> 1: one turn, versioned, the runner told in plain words.
        await h.press(tc.TAILOR_LABELS["pain_threshold"], user=COACH, message=menu)
        picking = h.message(view.message_id, COACH)
        assert "Pain limit" in (picking.text or "")
        labels = [b[0] for row in picking.buttons for b in row]
        assert labels[:4] == ["0", "1", "2", "3"]  # tailoring.yaml's bounds, nothing beyond
        await h.press("1", user=COACH, message=picking)
        assert answers_to(h, COACH)[-1] == tc.TAILOR_SAVED.format(version=1)
        await settle(h)
        told = [t for t in sent(h, ANNA) if t.startswith("🛠")]
        assert told and "pain up to 1/10 during a session still counts as mild" in told[-1]
        assert "coach-overlay" not in told[-1]  # runners read reasons, not rule ids
        state, _ = await program(h, anna)
        assert state.overlay is not None and state.overlay.pain_threshold == 1
        assert state.overlay.by == f"coach:{(await coach_id(h))}"
        rows = await versions(h, anna)
        assert [(v.version, v.overlay["pain_threshold"]) for v in rows] == [(1, 1)]
        newest = (await decisions(h, anna))[0]
        assert newest.event == "OverlaySet" and "coach-overlay" in newest.rules

        # A stale button: the old value menu, after the save moved the dialog on.
        before = answers_to(h, COACH)
        await h.press_data(cb(Kind.TAILOR, anna, "v.pt.2"), view.message_id, COACH)
        assert answers_to(h, COACH)[len(before) :] == [tc.TAILOR_STALE]
        # A forged out-of-range value on an open field: refused, nothing changes.
        menu = h.message(view.message_id, COACH)
        await h.press(tc.TAILOR_LABELS["hold_sessions"], user=COACH, message=menu)
        await h.press_data(cb(Kind.TAILOR, anna, "v.hs.99"), view.message_id, COACH)
        assert (answers_to(h, COACH)[-1] or "").startswith("Not changed")
        assert len(await versions(h, anna)) == 1

        # Training days by toggles: Tue off, saved as version 2.
        await h.press(tc.BTN_TAILOR_BACK, user=COACH, message=h.message(view.message_id, COACH))
        await h.press(
            tc.TAILOR_LABELS["weekdays"], user=COACH, message=h.message(view.message_id, COACH)
        )
        await h.press("✅ Tue", user=COACH, message=h.message(view.message_id, COACH))
        await h.press(tc.BTN_SAVE_DAYS, user=COACH, message=h.message(view.message_id, COACH))
        state, _ = await program(h, anna)
        assert state.overlay is not None and state.overlay.version == 2
        assert state.overlay.weekdays is not None and 1 not in state.overlay.weekdays

        # The runner's /status and the coach's /runner show it, with version and author.
        await h.say("/status", user=ANNA)
        status = h.last(ANNA).text or ""
        assert "🛠 Tailored by your coach" in status and "change 2" in status
        # /settings says the coach's days decide the plan, not only the runner's own days.
        await h.say("/settings", user=ANNA)
        assert "Training days set by your coach:" in (h.last(ANNA).text or "")
        await h.say(f"/runner {anna}", user=COACH)
        detail = next(m for m in reversed(h.messages(COACH)) if m.buttons).text or ""
        assert "🛠 Tailored (change 2" in detail and "coach-overlay" in detail

        # Under the tailored threshold, 2/10 during a run steps back, naming the overlay.
        await report_sessions(h, anna, 7, [2], tick=True)
        await settle(h)
        regress = [
            a for rec in await decisions(h, anna) for a in rec.actions if a["act"] == "regress"
        ]
        assert regress and regress[0]["detail"]["because"] == ["coach-overlay"]
        stepped = [
            r for r in await decisions(h, anna) if any(a["act"] == "regress" for a in r.actions)
        ]
        assert "coach-overlay" in stepped[0].rules.split()


async def coach_id(h: Harness) -> int:
    from bot.services import coaches

    found = await coaches.find_coach(h.deps, COACH)
    assert found is not None
    return found.id


async def test_another_coach_cannot_tailor_and_tailor_needs_a_runner(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        await h.say(f"/tailor {anna}", user=OTHER_COACH)
        assert h.last(OTHER_COACH).text == tc.NO_SUCH_RUNNER
        await h.say("/tailor", user=COACH)
        assert h.last(COACH).text == tc.USAGE_TAILOR
        # Coach Sam's menu data, forged by Coach Kim on a message of hers: not theirs.
        await h.say(f"/tailor {anna}", user=COACH)
        theirs = h.last(OTHER_COACH).message_id
        await h.press_data(cb(Kind.TAILOR, anna, "f.pt"), theirs, OTHER_COACH)
        await h.press_data(cb(Kind.TAILOR, anna, "v.pt.1"), theirs, OTHER_COACH)
        assert answers_to(h, OTHER_COACH)[-1] == tc.NO_SUCH_RUNNER
        await h.say("/tailor 1", user=ANNA)  # a runner is not a coach
        assert h.last(ANNA).text == tc.NOT_A_COACH
        state, _ = await program(h, anna)
        assert state.overlay is None


async def test_the_operator_tailors_from_the_cli_and_export_includes_it(
    shipped_rules: Rules, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        running_bot(shipped_rules, db_url, START) as h,
        operator_cli(db_url, tmp_path, monkeypatch) as boneload,
    ):
        await onboard(h, ANNA, name="Anna", code=await invite(h))
        anna = await runner_id(h, ANNA)
        res = await boneload(
            "tailor",
            str(anna),
            "--by",
            "Dr Jones",
            "--hold-sessions",
            "3",
            "--weekdays",
            "mon,wed,fri",
        )
        assert res.exit_code == 0, res.output
        assert "version 1" in res.output and "operator:Dr Jones" in res.output
        bad = await boneload("tailor", str(anna), "--by", "Dr Jones", "--pain-threshold", "5")
        assert bad.exit_code == 1 and "pain_threshold 5 is outside 0..3" in bad.output
        shown = await boneload("tailor", str(anna), "--show")
        assert shown.exit_code == 0, shown.output
        data = json.loads(shown.stdout)
        assert data["overlay"]["hold_sessions"] == 3
        assert [v["by"] for v in data["versions"]] == ["operator:Dr Jones"]
        res = await boneload("export", str(anna))
        assert res.exit_code == 0, res.output
        exported = json.loads(res.stdout)
        assert exported["overlay_versions"][0]["overlay"]["weekdays"] == [0, 2, 4]
