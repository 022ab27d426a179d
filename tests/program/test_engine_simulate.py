"""`simulate` output a clinician reads (and `--json` emits), the population summary, the codec."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from program_helpers import D0, Recorder, Runner

from bot.program.codec import state_from_dict, state_to_dict
from bot.program.loader import Rules
from bot.program.simulate import (
    Script,
    SessionAnswers,
    SimProfile,
    simulate,
    simulate_population,
)
from bot.program.state import Outcome

LOW = "posteromedial-tibia"


@pytest.mark.parametrize(("site_id", "days"), [(LOW, 60), ("navicular", 120)])
def test_simulate_rows_have_the_documented_shape(rules: Rules, site_id: str, days: int) -> None:
    rows = [r.as_dict() for r in simulate(rules, SimProfile(site_id, start=D0, days=days))]
    assert len(rows) == days
    assert [r["date"] for r in rows] == [(D0 + timedelta(days=i)).isoformat() for i in range(days)]
    kinds = set()
    for r in rows:
        assert {"date", "phase", "level", "session", "decisions"} <= set(r)
        assert r["phase"], "every day names its phase"
        s = r["session"]
        kinds.add(s["kind"])
        assert s["kind"] in {"rest", "run", "cross_train", "strength"}
        if s["kind"] == "run":
            assert {"run_s", "walk_s", "repeats"} <= set(s)
            assert s["run_s"] > 0 and s["repeats"] >= 1 and s["walk_s"] >= 0
            assert r["level"], "a run names its level"
        elif s["kind"] != "rest":
            assert s["minutes"] > 0 and s["description"]
        for d in r["decisions"]:
            assert {"action", "rule"} <= set(d)
            assert d["rule"] in rules.all_rule_ids()
    assert {"run", "rest", "cross_train"} <= kinds
    json.dumps(rows)  # what `--json` emits


def test_simulate_rows_show_answers_and_rule_ids_of_a_scripted_story(rules: Rules) -> None:
    base = [r for r in simulate(rules, SimProfile(LOW, start=D0, days=40))]
    run_days = [r.day for r in base if r.session["kind"] == "run"]
    mild, painful, flagged = run_days[1], run_days[3], run_days[6]
    script = Script(
        sessions={
            mild.isoformat(): SessionAnswers(pain_during=2),
            painful.isoformat(): SessionAnswers(followup={"pain_now": 2}),
            flagged.isoformat(): SessionAnswers(followup={"pain_night": True}),
        },
        coach={flagged + timedelta(days=5): "clear"},  # type: ignore[dict-item]
    )
    rows = {r.day: r.as_dict() for r in simulate(rules, SimProfile(LOW, start=D0, days=40), script)}
    assert rows[mild]["answers"]["pain_during"] == 2

    def rules_on(day: date) -> set[str]:
        return {d["rule"] for d in rows[day]["decisions"]}

    assert "mild-hold" in rules_on(mild + timedelta(days=1))
    assert "pain-regress" in rules_on(painful + timedelta(days=1))
    assert "red-flag-stop" in rules_on(flagged + timedelta(days=1))
    assert rows[flagged + timedelta(days=1)]["status"] == "red_flag"
    # Paused until the clinician's word: no session in between, sessions again after.
    for i in range(2, 5):
        assert rows[flagged + timedelta(days=i)]["session"]["kind"] == "rest"
    assert "coach-decision" in rules_on(flagged + timedelta(days=5))
    later = [rows[flagged + timedelta(days=i)]["session"]["kind"] for i in range(5, 10)]
    assert any(k != "rest" for k in later)


def test_simulated_skip_is_shown_and_slides(rules: Rules) -> None:
    base = simulate(rules, SimProfile(LOW, start=D0, days=30))
    day = next(r.day for r in base if r.session["kind"] == "run")
    script = Script(sessions={day.isoformat(): SessionAnswers(outcome=Outcome.SKIPPED)})
    rows = {r.day: r.as_dict() for r in simulate(rules, SimProfile(LOW, start=D0, days=30), script)}
    assert rows[day]["session"]["status"] == "skipped"
    assert "missed-slides" in {d["rule"] for d in rows[day]["decisions"]}
    assert rows[day + timedelta(days=1)]["session"]["kind"] == "run"


def test_population_summary_is_plausible_and_deterministic(rules: Rules) -> None:
    a = simulate_population(rules, 12, start=D0, seed=3)
    b = simulate_population(rules, 12, start=D0, seed=3)
    assert a == b
    assert a.runners == 12 and a.weeks == [4, 8, 12]
    counts = [a.reached[w] for w in a.weeks]
    assert counts == sorted(counts) and counts[-1] <= 12
    assert 0 <= a.red_flags <= 12 and 0 <= a.escalations <= 12


def test_population_in_two_processes_equals_one(rules: Rules) -> None:
    """The runners shared among worker processes give exactly the one-process result."""
    serial = simulate_population(rules, 16, start=D0, seed=5, jobs=1)
    seen: list[int] = []
    parallel = simulate_population(rules, 16, start=D0, seed=5, jobs=2, progress=seen.append)
    assert parallel == serial
    assert seen == sorted(seen) and seen[-1] == 16  # every share counted once


def test_population_with_another_thread_running_uses_fresh_processes_and_agrees(
    rules: Rules,
) -> None:
    """With a second thread alive the workers are not forked but started afresh: same counts."""
    import threading

    serial = simulate_population(rules, 6, start=D0, seed=5, jobs=1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert simulate_population(rules, 6, start=D0, seed=5, jobs=2) == serial
    finally:
        stop.set()
        other.join()


def test_population_result_does_not_depend_on_how_runners_are_shared(rules: Rules) -> None:
    whole = simulate_population(rules, 9, start=D0, seed=2, jobs=1)
    assert simulate_population(rules, 9, start=D0, seed=2, jobs=3) == whole
    assert simulate_population(rules, 9, start=D0, seed=4, jobs=1) != whole  # the seed matters


# --- the codec: what the database stores -------------------------------------------------------


def test_codec_round_trips_every_state_of_a_long_story(rules: Rules) -> None:
    base = simulate(rules, SimProfile("pelvis", start=D0, days=120))
    runs = [r.day for r in base if r.session["kind"] == "run"]
    script = Script(
        sessions={
            runs[2].isoformat(): SessionAnswers(pain_during=4),
            runs[5].isoformat(): SessionAnswers(outcome=Outcome.PARTIAL),
            runs[8].isoformat(): SessionAnswers(followup={"groin_pain": True}),
        },
        coach={runs[8] + timedelta(days=3): "resume"},  # type: ignore[dict-item]
    )
    rec = Recorder(
        rules, SimProfile("pelvis", start=D0, days=120, timezone="Europe/Berlin"), script
    ).go()
    for s in rec.log:
        st = s.decision.state
        assert state_from_dict(json.loads(json.dumps(state_to_dict(st)))) == st


def test_codec_reads_rows_written_before_open_sessions_knew_their_level(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 1)
    r.to_next_run()
    r.report()
    row = json.loads(json.dumps(state_to_dict(r.state)))
    for o in row["open"]:
        del o["level_id"]
    old = state_from_dict(row)
    assert old.open and old.open[0].level_id is None
    r.state = old
    r.followup()  # still decided, by the date rule alone
    assert r.state.clear_at_level == 1


def test_codec_rejects_an_unknown_version(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 1, pref=time(6, 45))
    row = state_to_dict(r.state)
    row["v"] = 99
    with pytest.raises(ValueError, match="version"):
        state_from_dict(row)


def test_simulate_population_cli_gives_the_same_counts_with_any_number_of_jobs() -> None:
    import json

    from typer.testing import CliRunner

    from bot.cli import app

    def counts(jobs: str) -> dict[str, object]:
        args = ["simulate", "--population", "8", "--seed", "3", "--json", "--jobs", jobs]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        found: dict[str, object] = json.loads(res.output)
        return found

    assert counts("2") == counts("1")
    assert counts("1")["runners"] == 8
