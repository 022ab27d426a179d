"""A protocol's own pain rules (`pain_rules:`) and escalation as data (`escalate: when/then`).

The example is `rules/protocols/zero-pain-low-risk.yaml` (SportsFit's 0-pain rule, Sunny Coast's
one rest day, "still painful after stepping back" escalates, every step back told to the
clinician). It is no site's protocol by default, so these tests point `protocol_by_risk.low` at it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_helpers import RULES_DIR, Runner, acts, messages
from typer.testing import CliRunner

from bot.cli import app
from bot.program.calendar import local_date
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, Decision, MessageKind
from bot.program.loader import Rules, load_rules
from bot.program.rules import (
    Classification,
    Condition,
    EscalateRule,
    EscalateWhen,
    PainRules,
    QuestionStage,
    ResumeOption,
    Risk,
    Severity,
)
from bot.program.state import Status
from bot.program.symptoms import classify

LOW = "posteromedial-tibia"
ZP = "zero-pain-low-risk"


def _pick_zero_pain(rules: Rules) -> Rules:
    by_risk = {Risk.HIGH: "high-risk", Risk.LOW: ZP}
    return replace(rules, sites=rules.sites.model_copy(update={"protocol_by_risk": by_risk}))


@pytest.fixture(scope="module")
def zp_rules(rules: Rules) -> Rules:
    return _pick_zero_pain(rules)


def _with_escalate(rules: Rules, esc: EscalateRule) -> Rules:
    """The zero-pain protocol with another escalate rule (to look at one trigger alone)."""
    proto = rules.protocols[ZP]
    assert proto.pain_rules is not None
    actions = proto.pain_rules.actions.model_copy(update={"escalate": esc})
    pain = proto.pain_rules.model_copy(update={"actions": actions})
    protocols = {**rules.protocols, ZP: proto.model_copy(update={"pain_rules": pain})}
    return replace(rules, protocols=protocols)


RESUME = [ResumeOption(id="t-esc", levels_down=1, rest_days=1, default=True)]


def _runner(rules: Rules, level: int = 3) -> Runner:
    return Runner.at(rules, LOW, "zp-low-run-walk", level, clear=1)


def _regress_action(d: Decision) -> dict[str, object]:
    (action,) = [a for a in d.actions if a.act is Act.REGRESS]
    return {"rule": action.rule, **action.detail}


# --- per-protocol classification and actions ----------------------------------------------


def test_shipped_sites_do_not_follow_the_example_protocol(rules: Rules) -> None:
    assert ZP in rules.protocols
    assert all(rules.protocol_for(s).id != ZP for s in rules.sites.sites)


def test_any_pain_during_regresses_with_one_rest_day_where_the_default_holds(
    rules: Rules, zp_rules: Rules
) -> None:
    default = Runner.at(rules, LOW, "low-run-walk", 3, clear=1)
    _, fu = default.run(pain=1)
    assert fu is not None and (Act.HOLD, "mild-hold") in acts(fu)
    assert default.level_id == "rw-l3"

    r = _runner(zp_rules)
    report, _ = r.run(pain=1)
    regress = _regress_action(report)
    assert regress["rule"] == "zp-regress"
    assert regress["because"] == ["zp-any-pain-during"]
    assert (regress["from_level"], regress["to_level"]) == ("zp-rw-l3", "zp-rw-l2")
    assert regress["rest_days"] == 1
    decided_on = next(local_date(at, "UTC") for _, at, d in r.log if d is report)
    assert r.state.impact_free_until == decided_on + timedelta(days=1)
    notice = [m.payload for m in messages(report, MessageKind.RUNNER_NOTICE)]
    assert any(n["code"] == "regressed" and n["rest_days"] == 1 for n in notice)


def test_any_pain_at_24_hours_regresses(zp_rules: Rules) -> None:
    r = _runner(zp_rules)
    _, fu = r.run(pain_now=1)
    assert fu is not None and _regress_action(fu)["because"] == ["zp-any-pain-24h"]


def test_the_shared_red_flags_still_apply_under_a_protocol_override(zp_rules: Rules) -> None:
    r = _runner(zp_rules)
    _, fu = r.run(pain_night=True)
    assert fu is not None and (Act.RED_FLAG, "red-flag-stop") in acts(fu)
    report, _ = _runner(zp_rules).run(pain=8)  # severe pain during: a shared red flag
    assert (Act.RED_FLAG, "red-flag-stop") in acts(report)


def test_the_shared_table_is_unchanged_for_other_protocols(rules: Rules) -> None:
    answers = {"pain_during": 1}
    assert classify(answers, rules, "low-risk") == classify(answers, rules)
    assert classify(answers, rules)[0] is Severity.MILD
    assert classify(answers, rules, ZP) == (Severity.REGRESS, ("zp-any-pain-during",))


# --- escalation as data --------------------------------------------------------------------


def test_a_first_step_back_notifies_the_clinician_and_the_runner_keeps_going(
    zp_rules: Rules,
) -> None:
    r = _runner(zp_rules)
    report, _ = r.run(pain=2)
    assert r.state.status is Status.ACTIVE
    assert not acts(report, Act.ESCALATE)
    assert (Act.RECORD, "zp-tell-clinician") in acts(report)
    (alert,) = messages(report, MessageKind.COACH_ALERT)
    assert alert.payload["reason"] == "step_back_notice"
    assert alert.payload["rules"][:3] == ["zp-tell-clinician", "zp-escalate", "zp-regress"]
    assert not alert.payload.get("urgent") and not alert.payload.get("reminder")
    r.to_next_run()  # sessions go on, at the lower level
    assert r.state.next is not None and r.state.next.prescription.level_id == "zp-rw-l2"


def test_still_painful_after_stepping_back_stops_for_review(zp_rules: Rules) -> None:
    esc = EscalateRule(
        id="t-escalate",
        when=[EscalateWhen(id="t-still", regress_at_or_below_last=True)],
        resume=RESUME,
    )
    rules = _with_escalate(zp_rules, esc)
    r = _runner(rules)
    first, _ = r.run(pain=2)  # zp-rw-l3 -> zp-rw-l2
    assert not acts(first, Act.ESCALATE) and r.state.status is Status.ACTIVE
    assert r.state.last_regress_level == "zp-rw-l3"
    second, _ = r.run(pain=2)  # pain again at the lower level
    assert (Act.ESCALATE, "t-still") in acts(second)
    assert r.state.status is Status.ESCALATED
    alerts = [m for m in messages(second, MessageKind.COACH_ALERT) if not m.payload.get("reminder")]
    assert alerts[0].payload["reason"] == "escalated"
    assert alerts[0].payload["rules"][:3] == ["t-still", "t-escalate", "zp-regress"]
    assert [o.id for o in _resume_ids(r)] == ["t-esc"], "the protocol's own ways back"


def _resume_ids(r: Runner) -> list[ResumeOption]:
    from bot.program.engine import resume_options

    return resume_options(r.state, r.rules)


def test_climbing_past_the_level_of_the_last_regression_forgets_it(zp_rules: Rules) -> None:
    esc = EscalateRule(
        id="t-escalate", when=[EscalateWhen(regress_at_or_below_last=True)], resume=RESUME
    )
    r = _runner(_with_escalate(zp_rules, esc), level=1)
    r.run(pain=2)  # zp-rw-l1 -> zp-rw-l0
    assert r.state.last_regress_level == "zp-rw-l1"
    for _ in range(4):  # two clear sessions a level: back to l1, then past it to l2
        r.run()
    assert r.level_id == "zp-rw-l2"
    assert r.state.last_regress_level is None
    d, _ = r.run(pain=2)  # pain at l2: a first step back again, no escalation
    assert not acts(d, Act.ESCALATE) and r.state.status is Status.ACTIVE


def test_the_short_form_is_one_counting_trigger_that_stops() -> None:
    esc = EscalateRule(id="e", regressions=2, within_days=14, resume=RESUME)
    assert [(w.regressions, w.within_days, w.then) for w in esc.triggers] == [(2, 14, None)]
    assert esc.then == "stop" and esc.window_days == 14 and not esc.watches_step_back


def test_the_new_state_field_is_left_out_of_stored_rows_at_its_default(zp_rules: Rules) -> None:
    r = _runner(zp_rules)
    assert "last_regress_level" not in state_to_dict(r.state)
    r.run(pain=2)
    row = state_to_dict(r.state)
    assert row["last_regress_level"] == "zp-rw-l3"
    assert state_from_dict(json.loads(json.dumps(row))) == r.state


# --- simulate --json -----------------------------------------------------------------------


def _rules_dir(tmp_path: Path, low: str = ZP) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    sites = target / "sites.yaml"
    text = sites.read_text(encoding="utf-8")
    sites.write_text(text.replace("low: low-risk", f"low: {low}"), encoding="utf-8")
    return target


def _simulate(rules_dir: Path, answers: Path | None = None) -> list[dict[str, object]]:
    args = ["simulate", "--rules", str(rules_dir), "--days", "70", "--json"]
    if answers is not None:
        args += ["--answers", str(answers)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows: list[dict[str, object]] = json.loads(res.output)
    return rows


def test_simulate_json_shows_the_protocols_pain_rule(tmp_path: Path) -> None:
    zp_dir = _rules_dir(tmp_path)
    plain = _simulate(zp_dir)
    runs = [str(r["date"]) for r in plain if r["session"]["kind"] == "run"]  # type: ignore[index]
    assert len(runs) >= 3
    painful = runs[1]

    def script(pain: int) -> Path:
        path = tmp_path / f"answers-{pain}.yaml"
        path.write_text(yaml.safe_dump({"sessions": {painful: {"pain_during": pain}}}))
        return path

    def rules_on(rows: list[dict[str, object]], day: str) -> list[dict[str, object]]:
        return next(r["decisions"] for r in rows if r["date"] == day)  # type: ignore[return-value]

    def rest_after(rows: list[dict[str, object]]) -> int:
        """Days from the painful run to the next one."""
        nxt = next(
            str(r["date"])
            for r in rows
            if str(r["date"]) > painful and r["session"]["kind"] == "run"  # type: ignore[index]
        )
        return (date.fromisoformat(nxt) - date.fromisoformat(painful)).days

    # The 0-pain protocol: pain 1/10 during steps back, told to the clinician, one rest day.
    zp = _simulate(zp_dir, script(1))
    (regress,) = [d for d in rules_on(zp, painful) if d["action"] == "regress"]
    assert regress["rule"] == "zp-regress" and regress["because"] == ["zp-any-pain-during"]
    assert (regress["from_level"], regress["to_level"]) == ("zp-rw-l0", "zp-rw-l0")
    assert {"action": "record", "rule": "zp-tell-clinician"} in rules_on(zp, painful)
    assert next(r for r in zp if r["date"] == painful)["status"] == "active"
    assert rest_after(zp) == 2

    # The shared rules: 1/10 holds; 3/10 steps back with two rest days.
    shipped = _simulate(RULES_DIR, script(1))
    next_day = str(date.fromisoformat(painful) + timedelta(days=1))
    seen = {d["rule"] for day in (painful, next_day) for d in rules_on(shipped, day)}
    assert "mild-hold" in seen and "zp-regress" not in seen
    shipped = _simulate(RULES_DIR, script(3))
    assert any(d["rule"] == "pain-regress" for d in rules_on(shipped, painful))
    assert rest_after(shipped) == 3


# --- rules check ---------------------------------------------------------------------------


def _edit_zp(tmp_path: Path, edit: str, replacement: str) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    f = target / "protocols" / f"{ZP}.yaml"
    text = f.read_text(encoding="utf-8")
    assert edit in text
    f.write_text(text.replace(edit, replacement, 1), encoding="utf-8")
    return target


BAD = [
    (
        "{question: pain_during, at_least: 1}",
        "{question: pain_durring, at_least: 1}",
        "protocols/zero-pain-low-risk.yaml: pain_rules.classifications[0].when[0].question: "
        "unknown question 'pain_durring'",
    ),
    (
        "{question: pain_now, at_least: 1}",
        "{question: pain_night, at_least: 1}",
        "protocols/zero-pain-low-risk.yaml: pain_rules.classifications[1].when[0].question: "
        "question 'pain_night' is yes_no: use equals",
    ),
    (
        "    - id: zp-any-pain-during\n      severity: regress",
        "    - id: red-limp\n      severity: regress",
        "protocols/zero-pain-low-risk.yaml: rule id 'red-limp' is also used in symptoms.yaml",
    ),
    (
        "    - id: zp-any-pain-during\n      severity: regress",
        "    - id: zp-any-pain-during\n      severity: worse",
        "protocols/zero-pain-low-risk.yaml: pain_rules.classifications[0].severity: Input should "
        "be 'clear', 'mild', 'regress' or 'red_flag'",
    ),
    (
        "      id: zp-escalate\n",
        "      id: zp-escalate\n      regressions: 2\n      within_days: 14\n",
        "protocols/zero-pain-low-risk.yaml: pain_rules.actions.escalate: give either regressions "
        "+ within_days or a when list, not both",
    ),
    (
        "          regress_at_or_below_last: true\n",
        "          regress_at_or_below_last: true\n          regressions: 3\n"
        "          within_days: 7\n",
        "protocols/zero-pain-low-risk.yaml: pain_rules.actions.escalate.when[0]: give either "
        "regressions + within_days, or regress_at_or_below_last: true",
    ),
    (
        "          then: notify",
        "          then: page",
        "protocols/zero-pain-low-risk.yaml: pain_rules.actions.escalate.when[2].then: Input "
        "should be 'stop' or 'notify'",
    ),
    (
        '      rest_days: 1\n      source: "Sunny',
        '      rest_days: 30\n      source: "Sunny',
        "protocols/zero-pain-low-risk.yaml: pain_rules.actions.regress.rest_days: Input should "
        "be less than or equal to 14",
    ),
    (
        "  actions:\n    regress:",
        "  actions:\n    red_flag: {id: zp-red}\n    regress:",
        "protocols/zero-pain-low-risk.yaml: pain_rules.actions.red_flag: unknown key (typo?)",
    ),
]


@pytest.mark.parametrize(("edit", "replacement", "expected"), BAD)
def test_rules_check_names_file_path_and_reason(
    tmp_path: Path, edit: str, replacement: str, expected: str
) -> None:
    bad = _edit_zp(tmp_path, edit, replacement)
    res = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert res.exit_code == 1
    assert expected in " ".join(res.output.split()), res.output


def test_rules_check_accepts_a_protocol_no_site_uses(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["rules", "check", str(RULES_DIR)])
    assert res.exit_code == 0, res.output
    assert ZP in res.output


def test_a_misused_shared_escalate_rule_is_named_too(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    f = target / "symptoms.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("    within_days: 14\n", "", 1), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(target)])
    assert res.exit_code == 1
    assert "symptoms.yaml: actions.escalate: give regressions and within_days together" in " ".join(
        res.output.split()
    )


# --- a protocol never loses the shared red flags --------------------------------------------

_SCALES = ["pain_during", "pain_now", "rpe"]


@st.composite
def _override(draw: st.DrawFn) -> list[Classification]:
    n = draw(st.integers(1, 4))
    rows = []
    for i in range(n):
        q = draw(st.sampled_from(_SCALES))
        severity = draw(st.sampled_from([Severity.CLEAR, Severity.MILD, Severity.REGRESS]))
        bound = draw(st.integers(0, 10))
        rows.append(
            Classification(
                id=f"h-{i}", severity=severity, when=[Condition(question=q, at_least=bound)]
            )
        )
    return rows


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(override=_override(), data=st.data())
def test_a_protocol_override_never_removes_a_red_flag(
    rules: Rules, override: list[Classification], data: st.DataObject
) -> None:
    proto = rules.protocols["low-risk"].model_copy(
        update={"pain_rules": PainRules(classifications=override)}
    )
    changed = replace(rules, protocols={**rules.protocols, "low-risk": proto})
    answers: dict[str, int | bool] = {}
    for q in changed.questions.questions:
        if q.stage not in (QuestionStage.POST_SESSION, QuestionStage.FOLLOWUP):
            continue
        if q.kind == "yes_no":
            answers[q.id] = data.draw(st.booleans(), label=q.id)
        else:
            answers[q.id] = data.draw(st.integers(q.min, q.max), label=q.id)
    shared, because = classify(answers, changed)
    mine, mine_because = classify(answers, changed, "low-risk")
    if shared is Severity.RED_FLAG:
        assert mine is Severity.RED_FLAG and set(because) <= set(mine_because)
    assert mine.rank <= Severity.RED_FLAG.rank


def test_rules_loaded_again_judge_alike(tmp_path: Path) -> None:
    loaded = load_rules(_rules_dir(tmp_path))
    assert loaded.protocol_for(loaded.site(LOW)).id == ZP
    assert classify({"pain_during": 1}, loaded, ZP)[0] is Severity.REGRESS
