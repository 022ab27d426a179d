"""Issue 9's holes, one test each, as the engine sees them (the shell has its own e2e tests).

Each test here failed on the code before issue 9: a runner's onboarding "yes" cleared them, the
phases before running were not watched, femoral-neck (compression) ran the low-risk protocol, a
coach's Clear after a red flag resumed at the same level without rest, the imaging grade was
unused, nothing deloaded while building, Hold on a red flag lifted it.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from program_helpers import D0, Recorder, Runner, acts, messages

from bot.program.calendar import local_instant
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, MessageKind
from bot.program.engine import decide, followup_questions, resume_options
from bot.program.events import (
    ClearanceClaimed,
    CoachAction,
    CoachLinked,
    CoachVerb,
    Enrolled,
    FollowupAnswered,
    GateAnswered,
    SymptomsReported,
)
from bot.program.loader import Rules
from bot.program.rules import PhaseKind, SessionKind
from bot.program.simulate import Script, SimProfile
from bot.program.state import Status

LOW = "posteromedial-tibia"
SIX = time(6)


def _enrol(rules: Rules, site: str, days_ago: int, **kw: object) -> Runner:
    answers = {q.id: True for q in rules.questions.questions if q.stage.value == "gate"}
    ev = Enrolled(
        site,
        D0 - timedelta(days=days_ago),
        "UTC",
        time(7),
        frozenset(range(7)),
        gate_answers=answers,
        **kw,  # type: ignore[arg-type]
    )
    return Runner.enrolled(rules, ev, local_instant(D0, SIX, "UTC"))


# --- hole 1: a runner's own "yes, I was cleared" is a request, never a clearance ------------


def test_navicular_runner_who_says_yes_to_everything_waits_for_the_coach(rules: Rules) -> None:
    r = _enrol(rules, "navicular", 56, claimed=frozenset({"weight_bearing", "strength", "running"}))
    assert r.state.phase_id == "high-protection"
    assert r.state.clearances == frozenset()
    assert r.state.claims == {"weight_bearing", "strength", "running"}
    assert r.state.gate is not None and r.state.gate.awaiting_clearance
    (alert,) = messages(r.log[-1][2], MessageKind.COACH_ALERT)
    assert alert.payload["reason"] == "clearance_needed" and alert.payload["claimed"] is True
    assert "runner-claim-is-a-request" in alert.payload["rules"]
    # Three weeks of all-clear sessions: still protected, never a run.
    for _ in range(21):
        if r.state.next is None:
            break
        assert r.next_kind is not SessionKind.RUN
        r.report()
    assert r.state.phase_id == "high-protection"
    # Saying it again only asks again; the coach's word opens the gate.
    d = r.send(ClearanceClaimed(), r.now + timedelta(hours=1))
    assert [m.payload["reason"] for m in messages(d, MessageKind.COACH_ALERT)] == [
        "clearance_needed"
    ]
    assert r.state.phase_id == "high-protection" and r.state.clearances == frozenset()
    r.send(CoachAction(CoachVerb.CLEAR, 5), r.now + timedelta(hours=1))
    assert r.state.phase_id == "high-cross-training"
    assert r.state.clearances == {"weight_bearing"}


def test_a_claim_while_nothing_waits_is_stale(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 1)
    d = r.send(ClearanceClaimed())
    assert d.stale and (Act.STALE, "runner-claim-is-a-request") in acts(d)


def test_old_rows_read_their_self_given_clearances_back_as_requests(rules: Rules) -> None:
    r = Runner.at(rules, "navicular", "high-strength", 0)
    row = state_to_dict(r.state)
    row["v"] = 1
    for key in ("claims", "flag_since", "flag_ack", "loading_since", "watched_on"):
        del row[key]
    old = state_from_dict(row)
    assert old.clearances == frozenset()
    assert old.claims == r.state.clearances


# --- hole 3: every loading phase is watched ---------------------------------------------------


@pytest.mark.parametrize(
    ("site", "phase", "question"),
    [
        ("navicular", "high-protection", "pain_night"),
        ("navicular", "high-cross-training", "limping"),
        (LOW, "low-strength", "bone_tender"),
        ("femoral-neck-compression", "pwb-protection", "groin_pain"),
    ],
)
def test_a_red_flag_before_running_stops_and_alerts(
    rules: Rules, site: str, phase: str, question: str
) -> None:
    r = Runner.at(rules, site, phase, 0)
    assert r.state.next is not None and r.next_kind is not SessionKind.RUN
    seq = r.state.next.seq
    d = r.report()
    (check,) = messages(d, MessageKind.FOLLOWUP)
    assert check.due == r.now + timedelta(hours=24), "asked the next day"
    asked = followup_questions(r.state, seq, rules)
    assert question in asked and "pain_during" not in asked
    # The check is short: the phase's red-flag questions only, at most every other day.
    d = r.report()
    assert not messages(d, MessageKind.FOLLOWUP)
    d = r.send(FollowupAnswered(seq, {question: True}), r.now + timedelta(hours=20))
    assert r.state.status is Status.RED_FLAG
    reasons = [m.payload["reason"] for m in messages(d, MessageKind.COACH_ALERT)]
    assert reasons == ["red_flag", "red_flag"]  # now, and again in 12 h unless acknowledged
    assert r.state.next is None


def test_pain_on_pressing_the_bone_at_a_gate_is_a_red_flag_not_a_not_yet(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-strength", 0, since=D0 - timedelta(days=40))
    d = r.send(GateAnswered("low-run-walk", {"brisk_walk_30": True, "no_bone_tenderness": False}))
    assert r.state.status is Status.RED_FLAG
    assert (Act.RED_FLAG, "red-flag-stop") in acts(d)
    alert = next(m for m in messages(d, MessageKind.COACH_ALERT) if not m.payload.get("reminder"))
    assert "red-bone-tenderness" in alert.payload["rules"]
    assert alert.payload["answers"] == {"bone_tender": True}


def test_a_symptom_report_at_any_time_is_judged_like_a_check(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    d = r.send(SymptomsReported({"pain_now": 0, "pain_rest": False}))
    assert r.state.status is Status.ACTIVE
    assert [m.payload["code"] for m in messages(d, MessageKind.RUNNER_NOTICE)] == ["symptoms_clear"]
    d = r.send(SymptomsReported({"pain_now": 3}))
    assert (Act.REGRESS, "pain-regress") in acts(d) and r.level_id == "rw-l1"
    d = r.send(SymptomsReported({"limping": True}))
    assert r.state.status is Status.RED_FLAG and (Act.RED_FLAG, "red-flag-stop") in acts(d)


# --- hole 9: a red-flag answer acts at once, whatever else is unanswered ----------------------


def test_the_first_red_flag_answer_alone_stops(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.to_next_run()
    seq = r.state.next.seq  # type: ignore[union-attr]
    r.report()
    d = r.send(FollowupAnswered(seq, {"pain_night": True}), r.now + timedelta(hours=24))
    assert r.state.status is Status.RED_FLAG
    assert any(m.payload["reason"] == "red_flag" for m in messages(d, MessageKind.COACH_ALERT))


# --- hole 4: femoral neck, compression side: protected weight-bearing, no hops ---------------


def test_femoral_neck_compression_gets_protected_weight_bearing(rules: Rules) -> None:
    site = rules.site("femoral-neck-compression")
    proto = rules.protocol_for(site)
    assert proto.id == "protected-weight-bearing"
    assert proto.phases[0].kind is PhaseKind.PROTECTION
    assert proto.phases[1].gate.min_days_since_diagnosis >= 28, "DOMAIN §1.3: 4-6 weeks"
    for ph in proto.phases:
        for tpl in (ph.impact, ph.cross):
            assert tpl is None or not tpl.hops
        for q in ph.gate.questions:
            assert not rules.question_by_id[q].hop_test
    rec = Recorder(rules, SimProfile(site.id, start=D0, days=140)).go()
    first_run = rec.runs()[0].day
    assert (first_run - D0).days >= 42 + 14 + 21, "protection, cross-training, strength first"


@pytest.mark.parametrize("site_id", ["femoral-neck-tension", "femoral-head", "pelvis", "sacrum"])
def test_every_hip_and_trabecular_site_is_protected_and_watched(rules: Rules, site_id: str) -> None:
    site = rules.site(site_id)
    proto = rules.protocol_for(site)
    assert site.needs_clearance or not site.trabecular
    for ph in proto.phases:
        for tpl in (ph.impact, ph.cross):
            assert site.hop_tests or tpl is None or not tpl.hops
    rec = Recorder(rules, SimProfile(site.id, start=D0, days=60)).go()
    assert any(a == (Act.RECORD, "watch-every-phase") for a in rec.all_actions())


# --- hole 5 / 10: the way back after a red flag is the rules' and the clinician's -------------


def test_clear_after_a_red_flag_rests_and_steps_down_by_default(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 3)
    r.run(pain_night=True)
    options = resume_options(r.state, rules)
    assert [o.id for o in options] == ["rf-down-1", "rf-down-2", "rf-same"]
    r.send(CoachAction(CoachVerb.CLEAR, 9), r.now + timedelta(hours=2))
    assert r.state.status is Status.ACTIVE and r.level_id == "rw-l2"
    cleared_on = r.today
    assert r.state.impact_free_until == cleared_on + timedelta(days=3)
    r.to_next_run()
    assert r.state.next is not None and r.state.next.day > cleared_on + timedelta(days=3)


def test_a_coach_linked_later_receives_the_waiting_red_flag(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    d = r.send(CoachLinked(4), r.now + timedelta(days=2))
    (alert,) = messages(d, MessageKind.COACH_ALERT)
    assert alert.payload["reason"] == "red_flag" and alert.due == r.now
    assert r.state.status is Status.RED_FLAG


# --- hole 6: the imaging grade counts ------------------------------------------------------


def test_a_high_grade_delays_running_and_needs_a_clinician_even_at_a_low_risk_site(
    rules: Rules,
) -> None:
    grade = rules.imaging_grade("fredericson", "4")
    assert grade is not None and grade.needs_clearance and grade.min_days_before_run == 84
    plain = Recorder(rules, SimProfile(LOW, start=D0, days=120)).go()
    graded = Recorder(
        rules,
        SimProfile(LOW, start=D0, days=150),
        Script(withhold_clearance=["running"]),
        engine=_with_grade("fredericson", "4"),
    ).go()
    assert plain.runs() and not graded.runs(), "grade 4: no run until a clinician clears it"
    cleared = Recorder(
        rules, SimProfile(LOW, start=D0, days=150), engine=_with_grade("fredericson", "4")
    ).go()
    assert (cleared.runs()[0].day - D0).days >= 84
    assert (plain.runs()[0].day - D0).days < 84


def _with_grade(system: str, grade: str):  # type: ignore[no-untyped-def]
    """`decide`, with the simulated runner's onboarding reporting this imaging grade."""

    def engine(state, event, rules, now):  # type: ignore[no-untyped-def]
        if isinstance(event, Enrolled):
            event = Enrolled(
                event.site_id,
                event.diagnosis_date,
                event.timezone,
                event.preferred_time,
                event.available_days,
                imaging_system=system,
                imaging_grade=grade,
                claimed=event.claimed,
                gate_answers=event.gate_answers,
            )
        return decide(state, event, rules, now)

    return engine


# --- hole 7: deload weeks while building -----------------------------------------------------


def test_every_fourth_week_of_running_is_a_deload_week(rules: Rules) -> None:
    rec = Recorder(rules, SimProfile(LOW, start=D0, days=110)).go()
    runs = rec.runs()
    first = runs[0].day
    for s in runs:
        week = (s.day - first).days // 7 + 1
        if s.phase_id.endswith("maintenance"):
            continue
        assert s.deload is (week % 4 == 0), (s.day, week)
    assert any(a == (Act.HOLD, "build-deload-every-4th-week") for a in rec.all_actions())


# --- `boneload simulate` with the clinician withholding running ------------------------------


def _needs_running_clearance(rules: Rules, site_id: str) -> bool:
    from bot.program.engine import needs_clearance

    site = rules.site(site_id)
    proto = rules.protocol_for(site)
    run_walk = next(ph for ph in proto.phases if ph.kind is PhaseKind.RUN_WALK)
    return needs_clearance(run_walk.gate, site, None)


def test_simulate_cli_withholding_running_shows_no_run_walk_for_any_site_that_needs_it(
    rules: Rules, tmp_path: object
) -> None:
    """From the command line, as a clinician previews it: the simulated runner answers yes to
    everything (a clinician cleared me, every gate) and no run/walk day appears."""
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from bot.cli import app

    answers = Path(str(tmp_path)) / "answers.yaml"
    answers.write_text("withhold_clearance: [running]\n", encoding="utf-8")
    sites = [s.id for s in rules.sites.sites if _needs_running_clearance(rules, s.id)]
    assert {"navicular", "femoral-neck-compression", "pelvis", "sacrum", "not-sure"} <= set(sites)
    for site_id in sites:
        res = CliRunner().invoke(
            app,
            ["simulate", "--site", site_id, "--days", "200", "--answers", str(answers), "--json"],
        )
        assert res.exit_code == 0, res.output
        rows = json.loads(res.output)
        days = rows if isinstance(rows, list) else rows["days"]
        assert not [r for r in days if r["session"].get("kind") == "run"], site_id
        assert any("await_clearance" in json.dumps(r["decisions"]) for r in days), site_id


def test_a_red_flag_stored_before_stops_had_a_start_is_still_cleared_by_the_coach(
    rules: Rules,
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    row = state_to_dict(r.state)
    row["v"] = 1
    for key in ("claims", "flag_since", "flag_ack", "loading_since", "watched_on"):
        del row[key]
    r.state = state_from_dict(row)
    assert r.state.status is Status.RED_FLAG and r.state.flag_since is None
    r.send(CoachAction(CoachVerb.ACKNOWLEDGE, 3), r.now + timedelta(hours=1))
    assert r.state.flag_ack == "coach:3"
    r.send(CoachAction(CoachVerb.CLEAR, 3), r.now + timedelta(hours=1))
    assert r.state.status is Status.ACTIVE
