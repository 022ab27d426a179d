"""Table-driven decisions: DOMAIN.md's published examples, as runner, coach or clinician see them.

DOMAIN.md §3.3 (the ladder and its plateaus), §4.4 (the 24-hour decision table), §4.5 (red flags),
§1.3 (clearance for high-risk sites), §6/§7 (rest days, deloads, off weeks).
"""

from __future__ import annotations

from datetime import time, timedelta
from itertools import groupby, pairwise

import pytest
from program_helpers import (
    D0,
    Recorder,
    Runner,
    acts,
    all_clearance_keys,
    clear_followup,
    messages,
)

from bot.program.calendar import local_date, local_instant
from bot.program.decision import Act, Decision, MessageKind
from bot.program.engine import BadEvent, decide
from bot.program.events import (
    CoachAction,
    CoachVerb,
    Enrolled,
    FollowupAnswered,
    GateAnswered,
    RunnerResumed,
    SessionMissed,
    SessionReported,
    SettingsChanged,
    TimePassed,
)
from bot.program.loader import Rules
from bot.program.recheck import Verdict, recheck
from bot.program.rules import PhaseKind, SessionKind
from bot.program.simulate import Script, SimProfile
from bot.program.state import Outcome, Status

LOW = "posteromedial-tibia"

# --- the ladder with all-clear answers (DOMAIN §3.3) -----------------------------------------


@pytest.mark.parametrize(
    ("site_id", "days"),
    [(LOW, 110), ("navicular", 190), ("pelvis", 110), ("femoral-neck-tension", 190)],
)
def test_all_clear_climbs_one_level_after_each_hold_and_never_faster(
    rules: Rules, site_id: str, days: int
) -> None:
    rec = Recorder(rules, SimProfile(site_id, start=D0, days=days)).go()
    proto = rules.protocol_for(rules.site(site_id))
    rw = next(p for p in proto.phases if p.kind is PhaseKind.RUN_WALK)
    cont = next(p for p in proto.phases if p.kind is PhaseKind.CONTINUOUS)
    ladder = [*rw.levels, *cont.levels[:3]]  # the last continuous level also holds for 28 days
    runs = rec.runs()
    groups = [(k, list(g)) for k, g in groupby(runs, key=lambda r: r.level_id)]
    assert [k for k, _ in groups[: len(ladder)]] == [lv.id for lv in ladder]
    for lv, (_, sessions) in zip(ladder, groups, strict=False):
        # Never faster than the hold; slower only where a deload week (a plateau on purpose,
        # reference A) covered the level: then the step up waits for the week after it.
        deloads = sum(s.deload for s in sessions)
        extra = len(sessions) - lv.hold_sessions
        assert extra >= 0, f"{lv.id}: {len(sessions)} sessions"
        assert extra == 0 or (deloads and extra <= deloads + 1), f"{lv.id}: {len(sessions)}"
        for s in sessions:
            if s.deload:
                assert s.walk_s == lv.walk_s and s.run_s * s.repeats < lv.run_total_s
            else:
                assert (s.run_s, s.walk_s, s.repeats) == (lv.run_s, lv.walk_s, lv.repeats)
    assert any(s.deload for s in runs), "a build-phase deload week while climbing"
    progress = [a for a in rec.all_actions() if a[0] is Act.PROGRESS]
    assert progress and all(rule == "progress-after-hold" for _, rule in progress)
    run_days = [r.day for r in runs]
    assert all((b - a).days >= 2 for a, b in pairwise(run_days))


def test_a_clear_session_before_the_hold_is_met_holds(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2, clear=0)
    _, fu = r.run()
    assert fu is not None
    assert acts(fu, Act.HOLD) == [(Act.HOLD, "progress-after-hold")]
    assert not acts(fu, Act.PROGRESS)
    assert r.level_id == "rw-l2" and r.state.clear_at_level == 1
    _, fu = r.run()
    assert fu is not None and acts(fu, Act.PROGRESS) == [(Act.PROGRESS, "progress-after-hold")]
    assert r.level_id == "rw-l3" and r.state.clear_at_level == 0


# --- the 24-hour decision table (DOMAIN §4.4) ------------------------------------------------

# (id, outcome, pain during, rpe, follow-up answers, expected (act, rule), level after)
# Start: low-risk rw-l2 with one clear session already counted (hold 2): a clear one progresses.
FOLLOWUP_TABLE = [
    ("all-clear-progresses", Outcome.DONE, 0, 4, {}, (Act.PROGRESS, "progress-after-hold"), 3),
    ("mild-1-during-holds", Outcome.DONE, 1, 4, {}, (Act.HOLD, "mild-hold"), 2),
    ("mild-2-during-holds", Outcome.DONE, 2, 4, {}, (Act.HOLD, "mild-hold"), 2),
    ("hard-effort-holds", Outcome.DONE, 0, 8, {}, (Act.HOLD, "mild-hold"), 2),
    ("partial-session-holds", Outcome.PARTIAL, 0, 4, {}, (Act.HOLD, "mild-hold"), 2),
    ("pain-now-1-regresses", Outcome.DONE, 0, 4, {"pain_now": 1}, (Act.REGRESS, "pain-regress"), 1),
    ("mild-then-pain-now", Outcome.DONE, 2, 4, {"pain_now": 4}, (Act.REGRESS, "pain-regress"), 1),
    ("pain-during-3-regresses", Outcome.DONE, 3, 4, {}, (Act.REGRESS, "pain-regress"), 1),
    ("pain-during-6-regresses", Outcome.DONE, 6, 4, {}, (Act.REGRESS, "pain-regress"), 1),
    (
        "pain-during-3-and-24h-once",
        Outcome.DONE,
        3,
        4,
        {"pain_now": 3},
        (Act.REGRESS, "pain-regress"),
        1,
    ),
]


@pytest.mark.parametrize(
    ("outcome", "pain", "rpe", "followup", "expected", "level"),
    [pytest.param(*row[1:], id=row[0]) for row in FOLLOWUP_TABLE],
)
def test_24h_decision_table(
    rules: Rules,
    outcome: Outcome,
    pain: int,
    rpe: int,
    followup: dict[str, int],
    expected: tuple[Act, str],
    level: int,
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2, clear=1)
    report, fu = r.run(pain=pain, rpe=rpe, outcome=outcome, **followup)
    assert fu is not None, "every run opens a 24-hour follow-up"
    both = acts(report) + acts(fu)
    assert expected in both
    assert r.state.level == level
    assert r.state.status is Status.ACTIVE
    # One decision moves one level at most, and never twice for one session.
    assert len([a for a in both if a[0] in (Act.REGRESS, Act.PROGRESS)]) <= 1
    if expected[0] is Act.HOLD:
        assert r.state.clear_at_level == 1, "a mild answer does not count toward the plateau"
        notices = [m.payload for m in messages(fu, MessageKind.RUNNER_NOTICE)]
        assert any(n["code"] == "held" and "mild-hold" in n["rules"] for n in notices)


@pytest.mark.parametrize(
    ("pain", "followup"),
    [(0, {"pain_now": 1}), (0, {"pain_now": 5}), (3, {}), (5, {"pain_now": 2})],
    ids=["pain-now-1", "pain-now-5", "pain-during-3", "both"],
)
def test_regress_drops_one_level_with_two_days_without_a_run(
    rules: Rules, pain: int, followup: dict[str, int]
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 3)
    report, fu = r.run(pain=pain, **followup)
    regress = report if acts(report, Act.REGRESS) else fu
    assert regress is not None
    (action,) = [a for a in regress.actions if a.act is Act.REGRESS]
    assert action.rule == "pain-regress"
    assert (action.detail["from_level"], action.detail["to_level"]) == ("rw-l3", "rw-l2")
    assert action.detail["rest_days"] == 2
    decided_on = next(local_date(at, "UTC") for _, at, d in r.log if d is regress)
    assert r.state.impact_free_until == decided_on + timedelta(days=2)
    notice = [m.payload for m in messages(regress, MessageKind.RUNNER_NOTICE)]
    assert any(n["code"] == "regressed" and n["rest_days"] == 2 for n in notice)
    # The runner may cross-train in between, but runs again only after the 2 rest days.
    while r.state.next is not None and r.next_kind is not SessionKind.RUN:
        r.report()
    assert r.state.next is not None
    assert r.state.next.day >= decided_on + timedelta(days=3)
    assert r.state.next.prescription.level_id == "rw-l2"


def test_two_regressions_in_14_days_escalate_and_stop_sessions(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 3)
    _, first = r.run(pain_now=2)
    assert first is not None and acts(first, Act.REGRESS) and not acts(first, Act.ESCALATE)
    _, second = r.run(pain_now=2)
    assert second is not None
    assert (Act.REGRESS, "pain-regress") in acts(second)
    assert (Act.ESCALATE, "repeat-regress-escalate") in acts(second)
    assert (r.state.regressions[1] - r.state.regressions[0]).days <= 14
    assert r.state.status is Status.ESCALATED
    assert r.state.next is None
    alerts = [m for m in messages(second, MessageKind.COACH_ALERT) if not m.payload.get("reminder")]
    assert len(alerts) == 1
    alert = alerts[0].payload
    assert alert["reason"] == "escalated"
    assert "repeat-regress-escalate" in alert["rules"] and "pain-regress" in alert["rules"]
    assert alerts[0].due == r.now, "the coach hears at once"
    _assert_reminder_in_12h(r, second, "escalated")
    assert any(
        m.payload["code"] == "escalated" for m in messages(second, MessageKind.RUNNER_NOTICE)
    )
    assert not messages(second, MessageKind.SESSION_REMINDER)
    # No more sessions: three weeks of time passing plan nothing.
    for i in range(1, 22):
        d = r.send(TimePassed(), r.local(r.today + timedelta(days=1), time(6)))
        assert not messages(d, MessageKind.SESSION_REMINDER), f"day {i}"
        assert r.state.next is None


def test_regressions_more_than_14_days_apart_do_not_escalate(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 6)
    r.run(pain_now=2)
    first = r.state.regressions[0]
    while r.today < first + timedelta(days=15):
        r.run()
    _, fu = r.run(pain_now=2)
    assert fu is not None and acts(fu, Act.REGRESS) and not acts(fu, Act.ESCALATE)
    assert r.state.status is Status.ACTIVE
    assert r.state.regressions == (r.today,)


# --- red flags (DOMAIN §4.5) -------------------------------------------------------------------

RED_FLAGS = [
    (LOW, "pain_rest", "red-rest-pain"),
    (LOW, "pain_night", "red-night-pain"),
    (LOW, "pain_walking", "red-daily-pain"),
    (LOW, "limping", "red-limp"),
    (LOW, "swelling", "red-swelling"),
    (LOW, "bone_tender", "red-bone-tenderness"),
    ("femoral-neck-compression", "groin_pain", "red-hip-groin"),
    ("pelvis", "groin_pain", "red-hip-groin"),
    ("femoral-neck-tension", "pain_night", "red-night-pain"),
]


def _assert_reminder_in_12h(r: Runner, decision: Decision, reason: str) -> None:
    """An urgent alert comes again 12 hours later unless a clinician acts on it first."""
    again = [m for m in messages(decision, MessageKind.COACH_ALERT) if m.payload.get("reminder")]
    assert len(again) == 1 and again[0].payload["reason"] == reason
    assert again[0].due == r.now + timedelta(hours=12)
    assert r.state.flag_since == r.now and r.state.flag_ack is None


def _assert_red_flag_decision(r: Runner, d_rules: str, decision: Decision | None) -> None:
    assert decision is not None
    assert r.state.status is Status.RED_FLAG
    assert (Act.RED_FLAG, "red-flag-stop") in acts(decision)
    _assert_reminder_in_12h(r, decision, "red_flag")
    alerts = [
        m for m in messages(decision, MessageKind.COACH_ALERT) if not m.payload.get("reminder")
    ]
    assert len(alerts) == 1
    p = alerts[0].payload
    assert p["reason"] == "red_flag" and p["urgent"] is True
    assert d_rules in p["rules"] and "red-flag-stop" in p["rules"]
    assert alerts[0].due == r.now
    notices = messages(decision, MessageKind.RUNNER_NOTICE)
    assert any(n.payload["code"] == "red_flag" and d_rules in n.payload["rules"] for n in notices)
    assert not messages(decision, MessageKind.SESSION_REMINDER)
    assert not messages(decision, MessageKind.FOLLOWUP)
    assert r.state.next is None and r.state.open == ()


@pytest.mark.parametrize(("site_id", "question", "rule"), RED_FLAGS)
def test_red_flag_answer_pauses_alerts_and_stops_reminders(
    rules: Rules, site_id: str, question: str, rule: str
) -> None:
    proto = rules.protocol_for(rules.site(site_id))
    phase = next(p.id for p in proto.phases if p.kind is PhaseKind.RUN_WALK)
    r = Runner.at(rules, site_id, phase, 1)
    assert question in clear_followup(rules, site_id), "the site is asked this question"
    r.to_next_run()
    r.report()
    planned = r.state.next
    assert planned is not None
    fu = r.followup(**{question: True})
    _assert_red_flag_decision(r, rule, fu)
    assert f"reminder:{planned.seq}" in fu.cancel
    # Even if the old reminder was already stored, it is not sent.
    verdict, _ = recheck(r.state, MessageKind.SESSION_REMINDER, {"seq": planned.seq}, r.now, rules)
    assert verdict is Verdict.DROP
    for _ in range(14):
        d = r.send(TimePassed(), r.local(r.today + timedelta(days=1), time(6)))
        assert not messages(d, MessageKind.SESSION_REMINDER)
    assert r.state.status is Status.RED_FLAG


def test_groin_question_is_asked_only_for_hip_sites(rules: Rules) -> None:
    assert "groin_pain" not in clear_followup(rules, LOW)
    assert "groin_pain" in clear_followup(rules, "femoral-neck-tension")


def test_severe_pain_during_is_a_red_flag_at_once(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 1)
    r.to_next_run()
    d = r.report(pain=7)
    _assert_red_flag_decision(r, "red-severe-pain-during", d)


# (verb, resume option, status after, level after, rest days: start is rw-l2). Only Clear lifts a
# red flag, along a way back the rules allow (rf-down-1 by default: 3 rest days, one level down);
# every other verb keeps the runner stopped and says so (issue 9, hole 10).
COACH_AFTER_RED = [
    (CoachVerb.CLEAR, None, Status.ACTIVE, 1, 3),
    (CoachVerb.CLEAR, "rf-down-1", Status.ACTIVE, 1, 3),
    (CoachVerb.CLEAR, "rf-down-2", Status.ACTIVE, 0, 7),
    (CoachVerb.CLEAR, "rf-same", Status.ACTIVE, 2, 3),
    (CoachVerb.HOLD, None, Status.RED_FLAG, 2, 0),
    (CoachVerb.REGRESS, None, Status.RED_FLAG, 1, 0),
    (CoachVerb.RESUME, None, Status.RED_FLAG, 2, 0),
    (CoachVerb.ADVANCE, None, Status.RED_FLAG, 2, 0),
    (CoachVerb.PAUSE, None, Status.RED_FLAG, 2, 0),  # a pause never downgrades a red flag
]


@pytest.mark.parametrize(
    ("verb", "option", "status", "level", "rest_days"), COACH_AFTER_RED, ids=lambda v: str(v)
)
def test_coach_action_after_red_flag(
    rules: Rules, verb: CoachVerb, option: str | None, status: Status, level: int, rest_days: int
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    assert r.state.status is Status.RED_FLAG
    since = r.state.flag_since
    assert since is not None
    d = r.send(CoachAction(verb, coach_id=42, option=option), r.now + timedelta(days=3))
    assert r.state.status is status
    assert r.state.level == level
    assert f"alert:again:{since.isoformat()}" in d.cancel, "the clinician acted: no reminder"
    reminders = messages(d, MessageKind.SESSION_REMINDER)
    codes = [m.payload["code"] for m in messages(d, MessageKind.RUNNER_NOTICE)]
    if status is Status.ACTIVE:
        chosen = option or "rf-down-1"
        assert (Act.RESUME, chosen) in acts(d) and (Act.CLEARED, "coach-decision") in acts(d)
        assert codes == ["coach_cleared_stop"]
        assert r.state.flag_since is None and r.state.flag_ack is None
        assert r.state.impact_free_until == r.today + timedelta(days=rest_days)
        assert len(reminders) == 1 and r.state.next is not None
        if r.state.next.prescription.kind is SessionKind.RUN:
            assert r.state.next.day > r.today + timedelta(days=rest_days)
    else:
        assert (Act.RECORD, "coach-kept-stop") in acts(d)
        assert (Act.RESUME, "coach-decision") not in acts(d)
        assert "coach_kept_stop" in codes
        assert r.state.flag_ack == "coach:42", "keeping the stop is a clinician's review"
        assert not reminders and r.state.next is None


def test_an_unknown_resume_option_changes_nothing(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    with pytest.raises(BadEvent):
        decide(r.state, CoachAction(CoachVerb.CLEAR, 42, option="run-now"), rules, r.now)
    assert r.state.status is Status.RED_FLAG


def test_acknowledge_is_recorded_and_calls_off_the_reminder(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    since = r.state.flag_since
    assert since is not None
    d = r.send(CoachAction(CoachVerb.ACKNOWLEDGE, 7), r.now + timedelta(hours=1))
    assert r.state.status is Status.RED_FLAG and r.state.flag_ack == "coach:7"
    assert (Act.RECORD, "alert-acknowledged") in acts(d)
    assert f"alert:again:{since.isoformat()}" in d.cancel
    assert [m.payload["code"] for m in messages(d, MessageKind.RUNNER_NOTICE)] == [
        "coach_acknowledged"
    ]
    d = r.send(CoachAction(CoachVerb.CLEAR, 0, by="Dr Jones"), r.now + timedelta(hours=1))
    assert r.state.status is Status.ACTIVE
    notice = messages(d, MessageKind.RUNNER_NOTICE)[0].payload
    assert notice["code"] == "coach_cleared_stop" and notice["by"] == "operator"


def test_runner_cannot_lift_a_red_flag_alone(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(swelling=True)
    before = r.state
    d = r.send(RunnerResumed(), r.now + timedelta(days=1))
    assert d.stale and r.state == before
    assert acts(d) == [(Act.STALE, "runner-resume-after-review")]
    # "Yes, I've been seen and cleared" asks the coach and lifts nothing (issue 9, hole 2).
    d = r.send(RunnerResumed(clinician_reviewed=True), r.now + timedelta(days=1))
    assert r.state.status is Status.RED_FLAG and r.state.level == before.level
    assert not messages(d, MessageKind.SESSION_REMINDER)
    alerts = messages(d, MessageKind.COACH_ALERT)
    assert [a.payload["reason"] for a in alerts] == ["review_requested"]
    codes = [m.payload["code"] for m in messages(d, MessageKind.RUNNER_NOTICE)]
    assert codes == ["review_requested"]


# --- clearance for high-risk sites (DOMAIN §1.3) ------------------------------------------------


@pytest.mark.parametrize(
    ("site_id", "days"),
    [
        ("navicular", 170),
        ("femoral-neck-tension", 170),
        ("not-sure", 170),
        ("pelvis", 90),
        ("sacrum", 90),
        ("femoral-neck-compression", 90),
    ],
)
def test_clearance_sites_never_run_without_running_clearance(
    rules: Rules, site_id: str, days: int
) -> None:
    rec = Recorder(
        rules, SimProfile(site_id, start=D0, days=days), Script(withhold_clearance=["running"])
    ).go()
    assert rec.state is not None
    proto = rules.protocols[rec.state.protocol_id]
    assert not rec.runs()
    for s in rec.log:
        assert not proto.phase(s.decision.state.phase_id).runs
        assert "running" not in s.decision.state.clearances
    assert (Act.AWAIT_CLEARANCE, "clinician-clearance-required") in rec.all_actions()
    alerts = [
        m.payload
        for m in rec.all_messages()
        if m.kind is MessageKind.COACH_ALERT
        and m.payload["reason"] == "clearance_needed"
        and m.payload["clearance"] == "running"
    ]
    assert alerts
    assert all("clinician-clearance-required" in a["rules"] for a in alerts)
    assert len({a["next_phase"] for a in alerts}) == 1
    # The phase before running goes on (strength and cross-training), it just never turns to runs.
    assert proto.phase(rec.state.phase_id).kind is PhaseKind.STRENGTH
    # ...and once the clinician does clear running, it starts.
    ctrl = Recorder(rules, SimProfile(site_id, start=D0, days=days)).go()
    first = ctrl.runs()[0]
    assert first.level_id == proto.phases[proto.index(first.phase_id)].levels[0].id


def test_low_risk_site_needs_no_running_clearance(rules: Rules) -> None:
    rec = Recorder(
        rules, SimProfile(LOW, start=D0, days=40), Script(withhold_clearance=["running"])
    ).go()
    assert rec.runs()
    assert (Act.AWAIT_CLEARANCE, "clinician-clearance-required") not in rec.all_actions()


def test_onboarding_answers_never_pass_the_running_gate(rules: Rules) -> None:
    answers = {q.id: True for q in rules.questions.questions if q.stage.value == "gate"}
    for site in rules.sites.sites:
        d = decide(
            None,
            Enrolled(
                site.id,
                D0 - timedelta(days=365),
                "UTC",
                time(7),
                frozenset(range(7)),
                claimed=all_clearance_keys(rules),
                gate_answers=answers,
            ),
            rules,
            local_instant(D0, time(6), "UTC"),
        )
        proto = rules.protocols[d.state.protocol_id]
        assert not proto.phase(d.state.phase_id).runs, site.id
        assert d.state.clearances == frozenset(), "a runner's own yes clears nothing"
        if site.needs_clearance:
            # Ready on every answer and a year on: the coach is asked at the first gate that
            # needs a clinician, and the runner stays where they are until then.
            assert d.state.phase_id == proto.phases[0].id, site.id
            assert d.state.gate is not None and d.state.gate.awaiting_clearance
            asked = [m.payload for m in messages(d, MessageKind.COACH_ALERT)]
            assert [a["reason"] for a in asked] == ["clearance_needed"]
            assert asked[0]["claimed"] is True
        assert d.state.next is not None and d.state.next.prescription.kind is not SessionKind.RUN


# --- gates: "not yet" asks again later ---------------------------------------------------------


def _enrol_in_strength(rules: Rules) -> Runner:
    now = local_instant(D0, time(6), "UTC")
    d = decide(
        None,
        Enrolled(
            LOW,
            D0 - timedelta(days=30),
            "UTC",
            time(7),
            frozenset(range(7)),
            gate_answers={"rest_pain_free": True, "daily_pain_free": True},
        ),
        rules,
        now,
    )
    assert d.state.phase_id == "low-strength"
    r = Runner(rules, d.state, now)
    r.log.append((None, now, d))  # type: ignore[arg-type]
    return r


def test_gate_no_answer_asks_again_after_recheck_days(rules: Rules) -> None:
    r = _enrol_in_strength(rules)
    (gate_msg,) = messages(r.log[0][2], MessageKind.GATE_CHECK)
    due_day = D0 + timedelta(days=14)  # the strength phase's min_days
    assert gate_msg.due == r.local(due_day, time(7))
    answers = {q: True for q in ("brisk_walk_30", "no_bone_tenderness", "loading_tests")}
    answers["factors_addressed"] = False
    d = r.send(GateAnswered("low-run-walk", answers), gate_msg.due + timedelta(minutes=5))
    assert acts(d) == [(Act.GATE_NOT_YET, "gate-recheck-later")]
    assert r.state.phase_id == "low-strength"
    (again,) = messages(d, MessageKind.GATE_CHECK)
    recheck_days = rules.scheduling.gate_recheck_days
    assert again.due == r.local(due_day + timedelta(days=recheck_days), time(7))
    assert again.payload == {"phase": "low-run-walk"}
    assert any(m.payload["code"] == "gate_not_yet" for m in messages(d, MessageKind.RUNNER_NOTICE))
    answers["factors_addressed"] = True
    d = r.send(GateAnswered("low-run-walk", answers), again.due + timedelta(minutes=5))
    assert (Act.ADVANCE_PHASE, "gate-low-run-walk") in acts(d)
    assert r.state.phase_id == "low-run-walk" and r.state.level == 0


def test_gate_no_in_simulation_rechecks_every_few_days(rules: Rules) -> None:
    script = Script(gates={"low-run-walk": {"brisk_walk_30": False}})
    rec = Recorder(rules, SimProfile(LOW, start=D0, days=40), script).go()
    asked = [s.at for s in rec.log if isinstance(s.event, GateAnswered)]
    assert len(asked) >= 5
    gaps = {(b.date() - a.date()).days for a, b in pairwise(asked)}
    assert gaps == {rules.scheduling.gate_recheck_days}
    assert not rec.runs()


# --- missed and skipped sessions slide (rule missed-slides) -----------------------------------


@pytest.mark.parametrize(
    ("days", "expected_gap"),
    [(range(7), 1), ((0, 2, 4), 2), ((0, 3), 3), ((0, 1, 2, 3, 4), 1)],
    ids=["every-day", "mon-wed-fri", "mon-thu", "weekdays"],
)
def test_skipped_session_slides_to_next_allowed_day(
    rules: Rules, days: tuple[int, ...], expected_gap: int
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2, days=days)
    r.to_next_run()
    skipped = r.state.next
    assert skipped is not None and skipped.day.weekday() == 0
    d = r.report(Outcome.SKIPPED)
    assert (Act.MISSED, "missed-slides") in acts(d)
    nxt = r.state.next
    assert nxt is not None
    assert nxt.day == skipped.day + timedelta(days=expected_gap)
    assert nxt.prescription == skipped.prescription, "the same session, not a dropped one"
    assert r.state.clear_at_level == 0 and r.state.sessions_total == 0
    assert messages(d, MessageKind.SESSION_REMINDER)


@pytest.mark.parametrize("how", ["session-missed", "time-passed"])
def test_unreported_session_slides_when_its_day_is_over(rules: Rules, how: str) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2, days=(0, 2, 4))
    planned = r.state.next
    assert planned is not None and planned.day == D0
    ev = SessionMissed(planned.seq) if how == "session-missed" else TimePassed()
    d = r.send(ev, r.local(D0 + timedelta(days=1), time(0)))
    assert (Act.MISSED, "missed-slides") in acts(d)
    assert f"reminder:{planned.seq}" in d.cancel
    assert r.state.next is not None
    assert r.state.next.day == D0 + timedelta(days=2)
    assert r.state.next.prescription == planned.prescription


# --- stale input changes nothing -----------------------------------------------------------------


def test_stale_session_report_changes_nothing(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.to_next_run()
    before = r.state
    seq = before.next.seq  # type: ignore[union-attr]
    at = r.session_time()
    for ev in (
        SessionReported(seq + 1, Outcome.DONE, 0, 4),
        SessionReported(seq - 1, Outcome.DONE),
    ):
        d = r.send(ev, at)
        assert d.stale is True
        assert d.state == before
        assert acts(d) == [(Act.STALE, "stale-input-ignored")]
        assert d.messages == () and d.cancel == ()
    # Reported the day after: the session's day is over.
    d = r.send(SessionReported(seq, Outcome.DONE, 0, 4), at + timedelta(days=1))
    assert d.stale and d.state == before


def test_stale_followup_changes_nothing(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.to_next_run()
    r.report()
    seq = max(r.reported_at)
    before = r.state
    d = r.send(FollowupAnswered(seq + 7, clear_followup(rules, LOW)), r.now + timedelta(hours=24))
    assert d.stale and d.state == before and d.messages == ()
    assert acts(d) == [(Act.STALE, "stale-input-ignored")]
    r.followup(seq)
    after = r.state
    d = r.send(FollowupAnswered(seq, {"pain_night": True}), r.now + timedelta(minutes=1))
    assert d.stale and d.state == after, "a follow-up is answered once"


def test_gate_answer_for_a_phase_not_ahead_is_stale(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    before = r.state
    d = r.send(GateAnswered("low-maintenance", {}), r.now)
    assert d.stale and d.state == before


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "new_time", "new_tz"),
    [
        ("UTC", time(18, 30), None),
        ("Europe/Berlin", time(6, 15), None),
        ("Europe/Berlin", None, "America/New_York"),
        ("America/New_York", time(12, 0), "Asia/Kolkata"),
    ],
)
def test_settings_change_moves_the_reminder(
    rules: Rules, tz: str, new_time: time | None, new_tz: str | None
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2, tz=tz)
    planned = r.state.next
    assert planned is not None
    d = r.send(SettingsChanged(timezone=new_tz, preferred_time=new_time), r.now)
    (rem,) = messages(d, MessageKind.SESSION_REMINDER)
    zone = new_tz or tz
    at = new_time or time(7)
    nxt = r.state.next
    assert nxt is not None and rem.key == f"reminder:{nxt.seq}"
    assert rem.due == local_instant(nxt.day, at, zone)
    assert r.state.profile.preferred_time == at and r.state.profile.timezone == zone
    assert nxt.prescription == planned.prescription


def test_settings_change_of_available_days_moves_the_session(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    assert r.state.next is not None and r.state.next.day == D0  # Monday
    r.send(SettingsChanged(available_days=frozenset({2, 5})), r.now)
    assert r.state.next is not None and r.state.next.day == D0 + timedelta(days=2)


# --- maintenance: deload every 4th week, off week every 12th (DOMAIN §6.1) ---------------------


def test_maintenance_deload_every_4th_week_and_off_week_every_12th(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-maintenance", 0, maintenance_since=D0, since=D0)
    maint = rules.protocols["low-risk"].phase("low-maintenance").levels[0]
    factor = rules.scheduling.maintenance.deload_volume_factor
    seen: dict[int, list[tuple[SessionKind, int, bool]]] = {}
    plan_why: list[list[str]] = []
    while r.state.next is not None and r.state.next.day < D0 + timedelta(weeks=13):
        rx = r.state.next.prescription
        week = (r.state.next.day - D0).days // 7 + 1
        seen.setdefault(week, []).append((rx.kind, rx.run_s * rx.repeats, rx.deload))
        if rx.kind is SessionKind.RUN:
            _, fu = r.run()
            assert fu is not None
        else:
            r.report()
    for _, _, d in r.log:
        plan_why += [a.detail["why"] for a in d.actions if a.act is Act.PLAN]
    assert sorted(seen) == list(range(1, 14))
    for week, sessions in seen.items():
        runs = [s for s in sessions if s[0] is SessionKind.RUN]
        if week == 12:
            assert not runs, "an off week has no running"
            assert sessions, "...but keeps cross-training"
        elif week in (4, 8):
            assert len(runs) >= 2
            for _, total, deload in runs:
                assert deload
                assert total <= maint.run_total_s * factor + 60
        else:
            assert len(runs) >= 2
            assert all(not deload and total == maint.run_total_s for _, total, deload in runs)
        assert len(runs) <= maint.max_per_week
    assert any("deload-every-4th-week" in why for why in plan_why)


# --- bad input is refused before anything changes --------------------------------------------


def test_bad_events_are_refused(rules: Rules) -> None:
    from datetime import datetime

    from bot.program.engine import BadEvent, NotEnrolled
    from bot.program.symptoms import InvalidAnswer

    now = local_instant(D0, time(6), "UTC")
    enrol = Enrolled(LOW, D0, "UTC", time(7), frozenset({0, 2}))
    with pytest.raises(BadEvent, match="unknown site"):
        decide(None, Enrolled("shin", D0, "UTC", time(7), frozenset({0})), rules, now)
    with pytest.raises(BadEvent, match="available_days"):
        decide(None, Enrolled(LOW, D0, "UTC", time(7), frozenset()), rules, now)
    with pytest.raises(BadEvent, match="available_days"):
        decide(None, Enrolled(LOW, D0, "UTC", time(7), frozenset({7})), rules, now)
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(None, enrol, rules, datetime(2026, 3, 2, 6))
    with pytest.raises(NotEnrolled):
        decide(None, TimePassed(), rules, now)
    with pytest.raises(Exception, match="Mars/Olympus"):
        decide(None, Enrolled(LOW, D0, "Mars/Olympus", time(7), frozenset({0})), rules, now)
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.to_next_run()
    before = r.state
    seq = before.next.seq  # type: ignore[union-attr]
    with pytest.raises(InvalidAnswer, match="pain_during"):
        decide(before, SessionReported(seq, Outcome.DONE, 11, 4), rules, r.session_time())
    r.report()
    with pytest.raises(InvalidAnswer, match="pain_night"):
        decide(r.state, FollowupAnswered(seq, {"pain_night": 3}), rules, r.now)
    with pytest.raises(InvalidAnswer, match="unknown question"):
        decide(r.state, FollowupAnswered(seq, {"pain_at_noon": 0}), rules, r.now)
    with pytest.raises(BadEvent):
        decide(r.state, SettingsChanged(available_days=frozenset()), rules, r.now)
