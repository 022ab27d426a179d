"""Stages by calendar time (`stage_days`) and the end of the ladder (`on_finish: discharge`),
shown with the W&M/Cannon protocol (rules/protocols/wm-cannon.yaml)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from program_helpers import D0, Recorder
from typer.testing import CliRunner

from bot import texts
from bot.cli import app
from bot.program.decision import Act, MessageKind
from bot.program.engine import decide
from bot.program.events import RunnerResumed
from bot.program.loader import Rules
from bot.program.recheck import Verdict, recheck
from bot.program.simulate import Script, SessionAnswers, SimProfile
from bot.program.state import Status
from bot.services.runners import stage_progress
from bot.telegram.render import notice

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
LOW = "posteromedial-tibia"
WM = "wm-cannon"


def simulate_json(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["simulate", "--json", "--rules", str(RULES), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def first_day(rows: list[dict[str, Any]], **want: Any) -> date:
    for row in rows:
        if all(row[k] == v for k, v in want.items()):
            return date.fromisoformat(row["date"])
    raise AssertionError(f"never {want}")


def test_simulate_wm_cannon_reaches_45_min_about_12_weeks_after_30_min_then_discharges() -> None:
    rows = simulate_json(
        "--protocol", WM, "--site", LOW, "--start", D0.isoformat(), "--days", "300"
    )
    at_30 = first_day(rows, level="wm-cont-30")
    at_45 = first_day(rows, level="wm-cont-45")
    # Three 28-day stages (30, 35, 40 min), each counted from its first session and passed at
    # the first clear follow-up after it: about 12 weeks (published: 12 weeks).
    assert 84 <= (at_45 - at_30).days <= 95
    off = first_day(rows, status="discharged")
    # The 45-min stage is two weeks (a build deload week may hold it a few days longer).
    assert 14 <= (off - at_45).days <= 24
    discharge = [d for r in rows for d in r["decisions"] if d["action"] == "discharge"]
    assert [d["rule"] for d in discharge] == ["wm-discharge"]
    after = [r for r in rows if date.fromisoformat(r["date"]) > off]
    assert after and all(r["session"]["kind"] == "rest" for r in after)
    assert all(r["status"] == "discharged" for r in after)


def wm_runner(rules: Rules, script: Script | None = None, days: int = 300) -> Recorder:
    profile = SimProfile(LOW, start=D0, days=days, protocol_id=WM)
    return Recorder(rules, profile, script).go()


def level_entered(rec: Recorder, level_id: str) -> date:
    return min(run.day for run in rec.runs() if run.level_id == level_id)


def test_a_mild_session_restarts_the_stage(rules: Rules) -> None:
    clear = wm_runner(rules, days=160)
    runs_at_30 = [r for r in clear.runs() if r.level_id == "wm-cont-30"]
    mild_day = runs_at_30[5].day  # about two weeks into the 28-day stage
    script = Script(sessions={mild_day.isoformat(): SessionAnswers(pain_during=2)})
    held = wm_runner(rules, script, days=160)
    restarted = [
        a
        for s in held.log
        for a in s.decision.actions
        if a.detail.get("reason") == "stage restarts"
    ]
    assert len(restarted) == 1
    # The stage starts again at the next session after the mild one: 28 more days from there.
    restart = min(r.day for r in held.runs() if r.level_id == "wm-cont-30" and r.day > mild_day)
    at_35 = level_entered(held, "wm-cont-35")
    assert (at_35 - restart).days >= 28
    assert at_35 > level_entered(clear, "wm-cont-35") + timedelta(days=10)


def test_discharge_leaves_no_scheduled_message_and_tells_runner_and_coach(rules: Rules) -> None:
    rec = wm_runner(rules)
    assert rec.state is not None and rec.state.status is Status.DISCHARGED
    assert rec.state.next is None and rec.state.open == ()
    assert rec.pending == {}, sorted(rec.pending)  # nothing is left on the agenda
    step = next(s for s in rec.log if any(a.act is Act.DISCHARGE for a in s.decision.actions))
    payloads = [m.payload for m in step.decision.messages]
    notice = [p for p in payloads if p.get("code") == "discharged"]
    assert notice and notice[0]["rules"] == ["wm-discharge"] and notice[0]["message"]
    alert = [p for p in payloads if p.get("reason") == "discharged"]
    assert alert and alert[0]["rules"] == ["wm-discharge"]


def broken_copy(tmp_path: Path, edit: Any) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    path = target / "protocols" / "wm-cannon.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return target


def rules_check(rules_dir: Path) -> Any:
    return CliRunner().invoke(app, ["rules", "check", str(rules_dir)])


def test_rules_check_names_a_stage_out_of_range(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["phases"][3]["levels"][0]["stage_days"] = 400

    result = rules_check(broken_copy(tmp_path, edit))
    assert result.exit_code == 1
    out = result.output
    assert "wm-cannon.yaml" in out and "stage_days" in out and "182" in out


def test_rules_check_names_a_discharge_without_a_message(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        del doc["on_finish"]["message"]

    result = rules_check(broken_copy(tmp_path, edit))
    assert result.exit_code == 1
    out = result.output
    assert "wm-cannon.yaml" in out and "on_finish" in out and "needs a message" in out


def test_rules_check_refuses_a_discharge_after_a_maintenance_phase(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    path = target / "protocols" / "low-risk.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["on_finish"] = {"id": "low-discharge", "then": "discharge", "message": "Well done."}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = rules_check(target)
    assert result.exit_code == 1
    assert "low-risk.yaml" in result.output and "drop the maintenance phase" in result.output


def test_a_discharged_runner_cannot_resume_and_status_says_discharged(rules: Rules) -> None:
    rec = wm_runner(rules)
    assert rec.state is not None
    now = rec.log[-1].at
    decision = decide(rec.state, RunnerResumed(), rules, now)
    assert decision.stale and decision.state.status is Status.DISCHARGED
    assert "discharged" in texts.STATUS_WORDS[Status.DISCHARGED.value]


def test_the_runner_reads_the_discharge_message_without_its_rule_id(rules: Rules) -> None:
    rec = wm_runner(rules)
    step = next(s for s in rec.log if any(a.act is Act.DISCHARGE for a in s.decision.actions))
    payload = next(m.payload for m in step.decision.messages if m.payload.get("code"))
    text = notice(payload, rec.state, rules)
    assert "finished the program" in text and "wm-discharge" not in text
    assert rules.protocols[WM].on_finish.message in text


def test_a_clear_session_inside_a_stage_tells_the_runner_the_day_of_the_stage(rules: Rules) -> None:
    rec = wm_runner(rules, days=160)
    holding = [
        (s, m.payload)
        for s in rec.log
        for m in s.decision.messages
        if m.payload.get("code") == "stage_holding"
    ]
    assert holding
    step, payload = holding[0]
    assert payload["days"] == 28 and 1 <= payload["day"] <= 28
    text = notice(payload, step.decision.state, rules)
    assert f"day {payload['day']} of a 28-day stage" in text and "progress-after-hold" not in text


def test_status_shows_the_day_of_the_stage(rules: Rules) -> None:
    rec = wm_runner(rules, days=160)
    state = next(
        s.decision.state
        for s in rec.log
        if s.decision.state.stage_since is not None
        and s.decision.state.stage_since >= s.decision.state.level_since
    )
    assert state.stage_since is not None
    today = state.stage_since + timedelta(days=9)
    assert stage_progress(state, 28, today).startswith("Stage: day 10 of 28")
    fresh = state.evolve(stage_since=None)
    assert "starts with your next session" in stage_progress(fresh, 28, today)


def test_discharge_calls_off_the_weekly_prompt_planned_with_the_last_session(rules: Rules) -> None:
    """The sleep check planned ahead with the last session must not reach a discharged runner."""
    rec = wm_runner(rules)
    step = next(s for s in rec.log if any(a.act is Act.DISCHARGE for a in s.decision.actions))
    planned_before = {
        m.key
        for s in rec.log[: rec.log.index(step)]
        for m in s.decision.messages
        if m.key.startswith("habit:sleep-check:") and m.due > step.at
    }
    assert planned_before, "the scenario should have a sleep check planned past the discharge"
    assert planned_before <= set(step.decision.cancel)


def test_a_habit_prompt_due_after_discharge_is_dropped_at_send_time(rules: Rules) -> None:
    rec = wm_runner(rules)
    assert rec.state is not None and rec.state.status is Status.DISCHARGED
    verdict, _ = recheck(
        rec.state, MessageKind.HABIT, {"habit": "deload-week-notice"}, rec.log[-1].at, rules
    )
    assert verdict is Verdict.DROP
