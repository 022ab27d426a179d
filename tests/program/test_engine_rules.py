"""The rules files: the shipped ones load and say what DOMAIN.md says; broken ones are explained.

A clinician edits YAML. What they must be able to rely on: every site of DOMAIN.md §1.1 is there
with its risk class and trabecular flag, the run/walk ladder starts where reference A starts, and a
mistake in any file comes back as `file: path: reason` (all of them at once, no traceback).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.program.loader import RuleProblem, Rules, RulesError, load_rules
from bot.program.rules import PhaseKind, Risk

# --- the shipped rules ------------------------------------------------------------------------

# DOMAIN.md §1.1: (site id, risk, trabecular). Femoral neck compression side: "usually treated as
# LOW/intermediate"; pelvis and sacrum LOW mechanically but trabecular (the second flag).
DOMAIN_SITES = [
    ("femoral-neck-tension", Risk.HIGH, True),
    ("femoral-neck-compression", Risk.LOW, True),
    ("anterior-tibia", Risk.HIGH, False),
    ("medial-malleolus", Risk.HIGH, False),
    ("talus", Risk.HIGH, False),
    ("navicular", Risk.HIGH, False),
    ("fifth-metatarsal-proximal", Risk.HIGH, False),
    ("second-metatarsal-base", Risk.HIGH, False),
    ("sesamoids", Risk.HIGH, False),
    ("patella", Risk.HIGH, False),
    ("femoral-head", Risk.HIGH, False),
    ("posteromedial-tibia", Risk.LOW, False),
    ("fibula", Risk.LOW, False),
    ("femoral-shaft", Risk.LOW, False),
    ("pelvis", Risk.LOW, True),
    ("sacrum", Risk.LOW, True),
    ("calcaneus", Risk.LOW, False),
    ("metatarsal-shaft", Risk.LOW, False),
]


def test_shipped_rules_load(rules: Rules) -> None:
    assert {"low-risk", "high-risk", "protected-weight-bearing", "zero-pain-low-risk"} <= set(
        rules.protocols
    )
    assert rules.sites.protocol_by_risk == {Risk.HIGH: "high-risk", Risk.LOW: "low-risk"}


@pytest.mark.parametrize(("site_id", "risk", "trabecular"), DOMAIN_SITES)
def test_domain_site_present_with_its_flags(
    rules: Rules, site_id: str, risk: Risk, trabecular: bool
) -> None:
    site = rules.site(site_id)
    assert site.risk is risk
    assert site.trabecular is trabecular
    assert site.source
    assert rules.protocol_for(site).for_risk is risk
    # High-risk and trabecular sites need a clinician at every gate (DOMAIN §1.3).
    assert site.needs_clearance is (risk is Risk.HIGH or trabecular)


def test_femoral_neck_is_never_hop_tested_and_gets_the_groin_question(rules: Rules) -> None:
    for sid in ("femoral-neck-tension", "femoral-neck-compression"):
        site = rules.site(sid)
        assert site.hip and not site.hop_tests


def test_not_sure_is_high_risk(rules: Rules) -> None:
    unsure = [s for s in rules.sites.sites if s.unsure]
    assert len(unsure) == 1
    site = unsure[0]
    assert site.risk is Risk.HIGH
    assert site.needs_clearance
    assert rules.protocol_for(site).id == "high-risk"


@pytest.mark.parametrize("protocol_id", ["low-risk", "high-risk", "protected-weight-bearing"])
def test_run_walk_ladder_starts_near_60s_jog_with_3_to_7_min_walk(
    rules: Rules, protocol_id: str
) -> None:
    proto = rules.protocols[protocol_id]
    run_walk = [p for p in proto.phases if p.kind is PhaseKind.RUN_WALK]
    assert len(run_walk) == 1
    first = run_walk[0].levels[0]
    assert 45 <= first.run_s <= 75
    assert 180 <= first.walk_s <= 420


@pytest.mark.parametrize(
    ("protocol_id", "hold"), [("low-risk", 2), ("high-risk", 3), ("protected-weight-bearing", 3)]
)
def test_ladder_is_a_stair_step_with_plateaus(rules: Rules, protocol_id: str, hold: int) -> None:
    """DOMAIN §3.3: run time per session never drops, each level is held; duration before speed."""
    proto = rules.protocols[protocol_id]
    levels = [lv for p in proto.phases if p.kind is not PhaseKind.MAINTENANCE for lv in p.levels]
    totals = [lv.run_total_s for lv in levels]
    assert totals == sorted(totals)
    rw = next(p for p in proto.phases if p.kind is PhaseKind.RUN_WALK)
    assert all(lv.hold_sessions == hold for lv in rw.levels)
    assert all(lv.max_per_week <= 4 for lv in levels)
    assert not any(lv.intensity for lv in levels)  # speed only in maintenance
    cont = next(p for p in proto.phases if p.kind is PhaseKind.CONTINUOUS)
    assert cont.levels[0].continuous_s == 30 * 60


def test_high_risk_protocol_starts_non_weight_bearing(rules: Rules) -> None:
    proto = rules.protocols["high-risk"]
    assert proto.phases[0].kind is PhaseKind.PROTECTION
    assert rules.protocols["low-risk"].phases[0].kind is not PhaseKind.PROTECTION


def test_every_rule_id_is_unique(rules: Rules) -> None:
    assert len(rules.all_rule_ids()) > 20


# --- malformed copies of the rules dir ------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _edit(rel: str, change: Callable[[Any], None]) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        data = _yaml(root / rel)
        change(data)
        _write(root / rel, data)

    return mutate


def _set(obj: Any, path: list[Any], value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def _rename_key(obj: dict[str, Any], old: str, new: str) -> None:
    obj[new] = obj.pop(old)


def _bad_syntax(root: Path) -> None:
    p = root / "scheduling.yaml"
    lines = p.read_text(encoding="utf-8").splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("gate_recheck_days"))
    lines[i] = "gate_recheck_days: [3"  # an unclosed flow sequence
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _swap_first_phases(data: Any) -> None:
    data["phases"][0], data["phases"][1] = data["phases"][1], data["phases"][0]


def _missing(rel: str) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        (root / rel).unlink()

    return mutate


# (mutation, expected file, expected path (exact, or None to skip), words in the reason)
MUTATIONS: list[tuple[str, Callable[[Path], None], str, str | None, tuple[str, ...]]] = [
    (
        "negative-walk",
        _edit(
            "protocols/low-risk.yaml",
            lambda d: _set(d, ["phases", 2, "levels", 0, "walk_s"], -30),
        ),
        "protocols/low-risk.yaml",
        "phases[2].levels[0].walk_s",
        ("greater than or equal to 0",),
    ),
    (
        "unknown-key-typo",
        _edit(
            "protocols/low-risk.yaml",
            lambda d: _rename_key(d["phases"][2]["levels"][1], "hold_sessions", "hold_sesions"),
        ),
        "protocols/low-risk.yaml",
        "phases[2].levels[1].hold_sesions",
        ("unknown key",),
    ),
    (
        "bad-yaml-syntax",
        _bad_syntax,
        "scheduling.yaml",
        None,  # checked below: "line N, column M"
        ("not valid YAML",),
    ),
    (
        "gate-names-unknown-question",
        _edit(
            "protocols/high-risk.yaml",
            lambda d: d["phases"][3]["gate"]["questions"].append("brisk_walk_45"),
        ),
        "protocols/high-risk.yaml",
        "phases[3].gate.questions[4]",
        ("unknown question", "brisk_walk_45"),
    ),
    (
        "classification-names-unknown-question",
        _edit(
            "symptoms.yaml",
            lambda d: _set(d, ["classifications", 1, "when", 0, "question"], "night_pain"),
        ),
        "symptoms.yaml",
        "classifications[1].when[0].question",
        ("unknown question", "night_pain"),
    ),
    (
        "duplicate-rule-id-across-files",
        _edit("habits.yaml", lambda d: _set(d, ["habits", 0, "id"], "mild-hold")),
        "habits.yaml",
        "",
        ("mild-hold", "symptoms.yaml"),
    ),
    (
        "missing-file",
        _missing("scheduling.yaml"),
        "scheduling.yaml",
        "",
        ("missing",),
    ),
    (
        "phases-out-of-order",
        _edit("protocols/low-risk.yaml", _swap_first_phases),
        "protocols/low-risk.yaml",
        None,
        ("phases must follow",),
    ),
    (
        "intensity-before-30-min-continuous",
        _edit(
            "protocols/low-risk.yaml",
            lambda d: _set(d, ["phases", 2, "levels", 4, "intensity"], True),
        ),
        "protocols/low-risk.yaml",
        "phases[2].levels[4].intensity",
        ("speed work only after 30 minutes",),
    ),
    (
        "protocol-by-risk-unknown-protocol",
        _edit("sites.yaml", lambda d: _set(d, ["protocol_by_risk", "low"], "low-risc")),
        "sites.yaml",
        "protocol_by_risk.low",
        ("unknown protocol", "low-risc"),
    ),
    (
        "negative-rest-days",
        _edit("symptoms.yaml", lambda d: _set(d, ["actions", "regress", "rest_days"], -1)),
        "symptoms.yaml",
        "actions.regress.rest_days",
        ("greater than or equal to 0",),
    ),
    (
        "consecutive-run-days-allowed",
        _edit("scheduling.yaml", lambda d: _set(d, ["min_days_between_runs"], 1)),
        "scheduling.yaml",
        "min_days_between_runs",
        ("greater than or equal to 2",),
    ),
    (
        "no-rest-day-in-7",
        _edit("scheduling.yaml", lambda d: _set(d, ["max_training_days_in_7"], 7)),
        "scheduling.yaml",
        "max_training_days_in_7",
        ("less than or equal to 6",),
    ),
    (
        "unsure-site-not-high-risk",
        _edit(
            "sites.yaml",
            lambda d: _set(d, ["sites", len(d["sites"]) - 1, "risk"], "low"),
        ),
        "sites.yaml",
        None,
        ("unsure", "risk: high"),
    ),
    (
        "gate-question-is-not-a-gate-question",
        _edit(
            "protocols/low-risk.yaml",
            lambda d: _set(d, ["phases", 1, "gate", "questions", 0], "pain_now"),
        ),
        "protocols/low-risk.yaml",
        "phases[1].gate.questions[0]",
        ("not a yes/no gate question",),
    ),
    (
        "empty-file",
        lambda root: (root / "habits.yaml").write_text("", encoding="utf-8"),
        "habits.yaml",
        "",
        ("mapping",),
    ),
    # --- issue 9: what keeps the clinical promise is checked too ---
    (
        "no-hop-site-on-a-protocol-with-hops",
        _edit("sites.yaml", lambda d: _site(d, "femoral-neck-compression").pop("protocol")),
        "protocols/low-risk.yaml",
        "phases[1].impact.hops",
        ("femoral-neck-compression", "must never hop"),
    ),
    (
        "site-names-unknown-protocol",
        _edit("sites.yaml", lambda d: _site(d, "pelvis").update(protocol="pelvis-special")),
        "sites.yaml",
        None,
        ("unknown protocol", "pelvis-special"),
    ),
    (
        "watch-names-unknown-question",
        _edit("symptoms.yaml", lambda d: d["watch"]["questions"]["strength"].append("pain_ever")),
        "symptoms.yaml",
        "watch.questions.strength[8]",
        ("unknown question", "pain_ever"),
    ),
    (
        "watch-asks-a-gate-question",
        _edit("symptoms.yaml", lambda d: _set(d, ["report_questions", 0], "rest_pain_free")),
        "symptoms.yaml",
        "report_questions[0]",
        ("not a follow-up question",),
    ),
    (
        "red-flag-resume-without-a-default",
        _edit(
            "symptoms.yaml",
            lambda d: _set(d, ["actions", "red_flag", "resume", 0, "default"], False),
        ),
        "symptoms.yaml",
        "actions.red_flag.resume",
        ("exactly one resume option",),
    ),
    (
        "resume-rests-too-long",
        _edit(
            "symptoms.yaml",
            lambda d: _set(d, ["actions", "escalate", "resume", 0, "rest_days"], 60),
        ),
        "symptoms.yaml",
        "actions.escalate.resume[0].rest_days",
        ("less than or equal to 28",),
    ),
    (
        "two-default-imaging-systems",
        _edit("sites.yaml", lambda d: _set(d, ["imaging_systems", 0, "default"], True)),
        "sites.yaml",
        None,
        ("exactly one imaging system",),
    ),
    (
        "no-means-on-a-followup-question",
        _edit(
            "questions.yaml",
            lambda d: _set(d, ["questions", 2, "no_means"], {"pain_rest": True}),
        ),
        "questions.yaml",
        None,
        ("no_means belongs to yes/no gate questions",),
    ),
    (
        "build-deload-every-week",
        _edit("scheduling.yaml", lambda d: _set(d, ["build", "deload_every_weeks"], 1)),
        "scheduling.yaml",
        "build.deload_every_weeks",
        ("greater than or equal to 2",),
    ),
]


def _site(data: Any, site_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["sites"] if s["id"] == site_id)
    return found


@pytest.fixture
def rules_copy(tmp_path: Path, rules_dir: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(rules_dir, target)
    return target


def _problems(root: Path) -> list[RuleProblem]:
    with pytest.raises(RulesError) as info:
        load_rules(root)
    err = info.value
    assert err.problems, "a RulesError always lists its problems"
    # The message is the problems, one per line, each `file: path: reason`.
    assert str(err).splitlines() == [str(p) for p in err.problems]
    return err.problems


@pytest.mark.parametrize(
    ("mutate", "file", "path", "words"),
    [pytest.param(*m[1:], id=m[0]) for m in MUTATIONS],
)
def test_malformed_rules_name_file_path_and_reason(
    rules_copy: Path,
    mutate: Callable[[Path], None],
    file: str,
    path: str | None,
    words: tuple[str, ...],
) -> None:
    mutate(rules_copy)
    problems = _problems(rules_copy)
    matching = [p for p in problems if p.file == file and (path is None or p.path == path)]
    assert matching, f"no problem for {file}: {path} in {[str(p) for p in problems]}"
    p = matching[0]
    for w in words:
        assert w in p.reason, f"{w!r} not in {p.reason!r}"
    text = str(p)
    assert text.startswith(f"{file}: ")
    if p.path:
        assert text == f"{file}: {p.path}: {p.reason}"
    assert "Traceback" not in text


def test_bad_yaml_syntax_names_line_and_column(rules_copy: Path) -> None:
    _bad_syntax(rules_copy)
    lines = (rules_copy / "scheduling.yaml").read_text(encoding="utf-8").splitlines()
    bad_line = next(n for n, line in enumerate(lines, 1) if line.startswith("gate_recheck_days"))
    (p,) = [p for p in _problems(rules_copy) if p.file == "scheduling.yaml"]
    assert p.path.startswith("line ") and ", column " in p.path
    line = int(p.path.split()[1].rstrip(","))
    # PyYAML notices an unclosed sequence on the line after it, at the latest.
    assert bad_line <= line <= bad_line + 1


def test_every_problem_in_every_file_is_listed_at_once(rules_copy: Path) -> None:
    _edit(
        "protocols/low-risk.yaml",
        lambda d: _set(d, ["phases", 2, "levels", 0, "walk_s"], -30),
    )(rules_copy)
    _edit(
        "protocols/low-risk.yaml",
        lambda d: _set(d, ["phases", 2, "levels", 1, "repeats"], 0),
    )(rules_copy)
    _edit("symptoms.yaml", lambda d: _rename_key(d["actions"]["hold"], "id", "idd"))(rules_copy)
    _missing("habits.yaml")(rules_copy)
    found = {(p.file, p.path) for p in _problems(rules_copy)}
    assert ("protocols/low-risk.yaml", "phases[2].levels[0].walk_s") in found
    assert ("protocols/low-risk.yaml", "phases[2].levels[1].repeats") in found
    assert ("symptoms.yaml", "actions.hold.idd") in found
    assert ("symptoms.yaml", "actions.hold.id") in found  # the required key is now missing
    assert ("habits.yaml", "") in found


def test_every_cross_file_problem_is_listed_at_once(rules_copy: Path) -> None:
    _edit(
        "protocols/high-risk.yaml",
        lambda d: d["phases"][3]["gate"]["questions"].append("brisk_walk_45"),
    )(rules_copy)
    _edit(
        "symptoms.yaml",
        lambda d: _set(d, ["classifications", 1, "when", 0, "question"], "night_pain"),
    )(rules_copy)
    _edit("sites.yaml", lambda d: _set(d, ["protocol_by_risk", "low"], "low-risc"))(rules_copy)
    files = {p.file for p in _problems(rules_copy)}
    assert {"protocols/high-risk.yaml", "symptoms.yaml", "sites.yaml"} <= files


def test_duplicate_protocol_id_names_the_other_file(rules_copy: Path) -> None:
    shutil.copy(rules_copy / "protocols/low-risk.yaml", rules_copy / "protocols/low-risk-2.yaml")
    problems = _problems(rules_copy)
    dup = [p for p in problems if "duplicate protocol id" in p.reason]
    assert dup
    assert dup[0].file == "protocols/low-risk.yaml" or dup[0].file == "protocols/low-risk-2.yaml"
    assert "protocols/low-risk" in dup[0].reason  # where the first one lives, not "..."


def test_missing_rules_directory(tmp_path: Path) -> None:
    problems = _problems(tmp_path / "nowhere")
    assert "not found" in problems[0].reason


def test_no_protocol_files(rules_copy: Path) -> None:
    shutil.rmtree(rules_copy / "protocols")
    problems = _problems(rules_copy)
    assert any(p.file == "protocols/" for p in problems)


@pytest.mark.parametrize(
    "text",
    ["- just\n- a list\n", "sites: [\n", "\x00\x01", "version: 1\nsites: 3\n"],
    ids=["list", "unclosed", "binary", "wrong-type"],
)
def test_garbage_never_crashes(rules_copy: Path, text: str) -> None:
    (rules_copy / "sites.yaml").write_text(text, encoding="utf-8")
    problems = _problems(rules_copy)
    assert any(p.file == "sites.yaml" for p in problems)
