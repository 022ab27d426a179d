"""A clinician switches a runner's protocol mid-program (machine/switch.py), and an invite's
protocol is followed only where the site allows it (machine/enrolment.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_helpers import D0, Runner
from typer.testing import CliRunner

from bot.cli import app
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, MessageKind
from bot.program.engine import BadEvent, decide, protocol_choices
from bot.program.events import CoachAction, CoachVerb, Enrolled, ProtocolSwitched
from bot.program.loader import Rules
from bot.program.state import PendingGate, Status

LOW_SITE = "posteromedial-tibia"
HIGH_SITE = "anterior-tibia"
SWITCH = "coach-protocol-switch"


def _switch(r: Runner, protocol_id: str, coach_id: int = 7, by: str | None = None):  # type: ignore[no-untyped-def]
    return r.send(ProtocolSwitched(protocol_id, coach_id, by), r.now + timedelta(hours=1))


def test_a_switch_lands_on_the_same_kind_of_phase_at_the_nearest_level_not_harder(
    rules: Rules,
) -> None:
    r = Runner.at(rules, LOW_SITE, "low-run-walk", 3, regressions=(D0 - timedelta(days=3),))
    before = r.state
    d = _switch(r, "brigham-walk-jog")
    s = d.state
    assert (s.protocol_id, s.phase_id) == ("brigham-walk-jog", "bwj-low-run-walk")
    # rw-l3 is 6 x 3 min run / 2 min walk: bwj-wj-3 (5 x 3 min) is not harder, bwj-wj-4 (4 min
    # blocks) is.
    assert rules.protocols[s.protocol_id].phases[2].levels[s.level].id == "bwj-wj-3"
    assert s.regressions == before.regressions and s.clearances == before.clearances
    assert s.sessions_total == before.sessions_total and s.seq >= before.seq
    assert s.phase_since == before.phase_since  # same kind of phase: its days still count
    switch = [a for a in d.actions if a.rule == SWITCH]
    assert switch and switch[0].act is Act.SWITCH_PROTOCOL
    assert switch[0].detail["from_protocol"] == "low-risk"
    assert switch[0].detail["from_level"] == "rw-l3"
    assert switch[0].detail["level"] == "bwj-wj-3"
    notices = [m for m in d.messages if m.kind is MessageKind.RUNNER_NOTICE]
    assert [m.payload["code"] for m in notices] == ["protocol_switched"]
    alerts = [m for m in d.messages if m.kind is MessageKind.COACH_ALERT]
    assert [m.payload["reason"] for m in alerts] == ["protocol_switched"]
    assert alerts[0].payload["rules"] == [SWITCH]
    assert s.next is not None and s.next.prescription.phase_id in {"bwj-low-run-walk", ""} | {
        p.id for p in rules.protocols["brigham-walk-jog"].phases
    }
    # The state round-trips through the database codec on the new protocol.
    assert state_from_dict(state_to_dict(s)) == s


def test_a_phase_kind_the_new_protocol_lacks_maps_to_its_last_earlier_phase(rules: Rules) -> None:
    # Maintenance: W&M/Cannon has none (it discharges after continuous running): its
    # continuous phase, an earlier kind.
    r = Runner.at(rules, LOW_SITE, "low-maintenance")
    assert _switch(r, "wm-cannon").state.phase_id == "wm-continuous"
    # Cross-training: functional-progression starts later (walking): refused, nothing changed.
    r = Runner.at(rules, LOW_SITE, "low-cross-training")
    before = r.state
    with pytest.raises(BadEvent, match="starts at walking"):
        _switch(r, "functional-progression")
    assert r.state is before
    # Strength to strength.
    r = Runner.at(rules, LOW_SITE, "low-strength")
    assert _switch(r, "functional-progression").state.phase_id == "fp-strength"


def test_a_protocol_not_for_the_site_is_refused(rules: Rules) -> None:
    r = Runner.at(rules, HIGH_SITE, "high-run-walk", 2)
    with pytest.raises(BadEvent, match="not one for site"):
        _switch(r, "low-risk")
    with pytest.raises(BadEvent, match="not one for site"):
        _switch(r, "no-such-protocol")


def test_switching_to_the_same_protocol_changes_nothing(rules: Rules) -> None:
    r = Runner.at(rules, LOW_SITE, "low-run-walk", 2)
    before = r.state
    d = _switch(r, "low-risk")
    assert d.state is before and not d.messages and not d.cancel
    assert [(a.act, a.rule) for a in d.actions] == [(Act.RECORD, SWITCH)]


def test_a_pending_clearance_is_still_pending_after_a_switch(rules: Rules) -> None:
    gate = PendingGate("low-run-walk", D0, answers_ok=True, awaiting_clearance=True)
    r = Runner.at(rules, LOW_SITE, "low-strength", clearances=frozenset(), gate=gate)
    s = _switch(r, "zero-pain-low-risk").state
    assert s.phase_id == "zp-low-strength"
    assert s.gate is not None and s.gate.awaiting_clearance
    assert s.gate.phase_id == "zp-low-run-walk"
    assert s.clearances == frozenset()


_LOW_PHASES = [
    ("low-cross-training", 0),
    ("low-strength", 0),
    *[("low-run-walk", i) for i in range(7)],
    *[("low-continuous", i) for i in range(4)],
    ("low-maintenance", 0),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    where=st.sampled_from(_LOW_PHASES),
    status=st.sampled_from([Status.RED_FLAG, Status.ESCALATED]),
    target=st.sampled_from(["zero-pain-low-risk", "brigham-walk-jog", "functional-progression"]),
)
def test_a_switch_never_lifts_a_stop(
    rules: Rules, where: tuple[str, int], status: Status, target: str
) -> None:
    phase, level = where
    since = datetime(2026, 3, 1, 9, tzinfo=UTC)
    r = Runner.at(
        rules, LOW_SITE, phase, level, status=status, flag_since=since, flag_ack="coach:7"
    )
    assert r.state.status is status
    try:
        d = _switch(r, target)
    except BadEvent:
        return  # a protocol starting later than the runner's phase: refused, nothing changed
    s = d.state
    assert s.status is status and s.flag_since == since and s.flag_ack == "coach:7"
    assert s.next is None  # still no sessions
    # And only a clinician's clear lifts it afterwards, on the new protocol's ladder.
    cleared = r.send(CoachAction(CoachVerb.CLEAR, 7), r.now + timedelta(hours=1)).state
    assert cleared.status is Status.ACTIVE


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    where=st.sampled_from(_LOW_PHASES), target=st.sampled_from(["zero-pain-low-risk", "low-risk"])
)
def test_a_switch_is_never_a_harder_run(rules: Rules, where: tuple[str, int], target: str) -> None:
    r = Runner.at(rules, LOW_SITE, *where)
    old = rules.protocols["low-risk"].phase(where[0])
    s = _switch(r, target).state
    new = rules.protocols[target].phase(s.phase_id)
    assert new.kind is old.kind
    if old.runs:
        a, b = old.levels[where[1]], new.levels[s.level]
        assert b.run_total_s <= a.run_total_s and b.continuous_s <= a.continuous_s


def _enrolled(site: str, invite_protocol: str | None) -> Enrolled:
    return Enrolled(
        site_id=site,
        diagnosis_date=date(2026, 1, 5),
        timezone="UTC",
        preferred_time=time(7, 0),
        available_days=frozenset(range(7)),
        invite_protocol_id=invite_protocol,
    )


def test_an_invites_protocol_is_followed_where_the_site_allows_it(rules: Rules) -> None:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert "zero-pain-low-risk" in {p.id for p in protocol_choices(rules, rules.site(LOW_SITE))}
    d = decide(None, _enrolled(LOW_SITE, "zero-pain-low-risk"), rules, now)
    assert d.state.protocol_id == "zero-pain-low-risk"
    assert not [m for m in d.messages if m.kind is MessageKind.COACH_ALERT]


def test_an_invites_protocol_not_for_the_site_falls_back_and_the_coach_is_told(
    rules: Rules,
) -> None:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    d = decide(None, _enrolled(HIGH_SITE, "low-risk"), rules, now)
    assert d.state.protocol_id == rules.protocol_for(rules.site(HIGH_SITE)).id == "high-risk"
    alerts = [m for m in d.messages if m.kind is MessageKind.COACH_ALERT]
    fallback = [m for m in alerts if m.payload["reason"] == "protocol_fallback"]
    assert fallback and fallback[0].payload["asked"] == "low-risk"
    assert fallback[0].payload["protocol"] == "high-risk"
    assert fallback[0].payload["rules"] == ["invite-protocol-not-allowed"]
    assert (Act.RECORD, "invite-protocol-not-allowed") in [(a.act, a.rule) for a in d.actions]


# --- simulate --json: a scripted switch -------------------------------------------------------


def _simulate(tmp_path: Path, script: str, *extra: str) -> Any:
    answers = tmp_path / "answers.yaml"
    answers.write_text(script)
    args = ["simulate", "--days", "60", "--json", "--answers", str(answers), *extra]
    return CliRunner().invoke(app, args)


def test_simulate_switches_mid_program_and_keeps_the_climb(tmp_path: Path) -> None:
    res = _simulate(tmp_path, "protocol:\n  2026-02-02: zero-pain-low-risk\n")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    day = next(r for r in rows if r["date"] == "2026-02-02")
    switched = [d for d in day["decisions"] if d["action"] == "switch_protocol"]
    assert [d["rule"] for d in switched] == [SWITCH]
    before = next(r for r in rows if r["date"] == "2026-02-01")
    assert (before["phase"], before["level"]) == ("low-run-walk", "rw-l3")
    # Same kind of phase, same rung (the ladders match): the climb goes on from there.
    assert (day["phase"], day["level"]) == ("zp-low-run-walk", "zp-rw-l3")
    later = [r["level"] for r in rows if r["date"] > "2026-02-02" and r["level"]]
    assert later and all(lv.startswith("zp-") for lv in later)


def test_simulate_refuses_a_scripted_switch_the_site_does_not_allow(tmp_path: Path) -> None:
    res = _simulate(tmp_path, "protocol:\n  2026-02-02: high-risk\n")
    assert res.exit_code == 1
    assert "not one for site 'posteromedial-tibia'" in " ".join(res.output.split())


def test_a_follow_up_open_at_the_switch_is_judged_on_the_new_protocol(rules: Rules) -> None:
    r = Runner.at(rules, LOW_SITE, "low-run-walk", 3)
    r.to_next_run()
    r.report(pain=0)
    assert r.state.open
    _switch(r, "zero-pain-low-risk")
    d = r.followup(pain_now=1)  # any pain at 24 h: the 0-pain rule steps back a level
    assert r.state.protocol_id == "zero-pain-low-risk"
    assert r.state.phase_id == "zp-low-run-walk" and r.state.level == 2
    assert "zp-regress" in d.rules


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(_LOW_PHASES))
def test_switching_to_the_same_protocol_changes_nothing_anywhere(
    rules: Rules, where: tuple[str, int]
) -> None:
    r = Runner.at(rules, LOW_SITE, *where)
    before = r.state
    d = _switch(r, "low-risk")
    assert d.state is before and not d.messages and not d.cancel and not d.stale
