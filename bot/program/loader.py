"""Load `rules/` into one validated `Rules` bundle, or explain precisely what is wrong.

The only I/O in `bot.program` lives here: reading the YAML files. Every problem becomes a
`RuleProblem(file, path, reason)` such as
`protocols/low-risk.yaml: phases[3].levels[2].walk_s: Input should be greater than or equal to 0`,
including cross-file problems (a protocol naming a question that questions.yaml lacks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.program.calendar import runs_that_fit
from bot.program.rules import (
    Classification,
    EscalateRule,
    HabitsFile,
    ImagingGrade,
    ImagingSystem,
    PhaseKind,
    Protocol,
    Question,
    QuestionsFile,
    QuestionStage,
    Risk,
    SchedulingFile,
    Site,
    SitesFile,
    SymptomsFile,
    TailoringFile,
)
from bot.program.tables import RuleTables

M = TypeVar("M", bound=BaseModel)

FILES: dict[str, type[BaseModel]] = {
    "sites.yaml": SitesFile,
    "questions.yaml": QuestionsFile,
    "symptoms.yaml": SymptomsFile,
    "scheduling.yaml": SchedulingFile,
    "habits.yaml": HabitsFile,
}
PROTOCOL_DIR = "protocols"
# Optional: without it a coach tailors within the model's default bounds.
TAILORING_FILE = "tailoring.yaml"
ALL_DAYS = frozenset(range(7))  # rules check asks what fits in any week, all days available


@dataclass(frozen=True, slots=True)
class RuleProblem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.reason}"


class RulesError(Exception):
    """The rules directory is unusable; `problems` lists every reason found."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def site_risk(site: Site) -> Risk:
    """The risk a site's protocol is chosen for: 'not sure' counts as high."""
    return Risk.HIGH if site.unsure else site.risk


@dataclass(frozen=True)
class Rules:
    """Everything the engine needs, validated together. Immutable and cheap to share."""

    sites: SitesFile
    questions: QuestionsFile
    symptoms: SymptomsFile
    scheduling: SchedulingFile
    habits: HabitsFile
    protocols: dict[str, Protocol]
    tailoring: TailoringFile = field(default_factory=TailoringFile)

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites.sites}

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions.questions}

    @cached_property
    def tables(self) -> RuleTables:
        """Lookups the engine derives from these rules, built once on first use (tables.py).

        Rules are immutable: change one with `dataclasses.replace`, which makes new tables."""
        return RuleTables(
            protocols=self.protocols,
            sites=self.sites.sites,
            question_by_id=self.question_by_id,
            symptoms=self.symptoms,
            scheduling=self.scheduling,
            habits=self.habits,
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to a worker process): the rule files only. The lookups derived from them
        (the cached properties above) are made again where the copy is used."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def site(self, site_id: str) -> Site:
        return self.site_by_id[site_id]

    def protocol_for(self, site: Site) -> Protocol:
        if site.protocol is not None:
            return self.protocols[site.protocol]
        return self.protocols[self.sites.protocol_by_risk[site_risk(site)]]

    def imaging_system_for(self, site: Site) -> ImagingSystem | None:
        """The grading system onboarding offers for this site (None: the rules define none)."""
        systems = self.sites.imaging_systems
        wanted = site.imaging
        return next((i for i in systems if i.id == wanted or (wanted is None and i.default)), None)

    def imaging_grade(self, system_id: str | None, grade_id: str | None) -> ImagingGrade | None:
        """A runner's grade, or None when unknown (or recorded under a system no longer here)."""
        if system_id is None or grade_id is None:
            return None
        system = next((i for i in self.sites.imaging_systems if i.id == system_id), None)
        return system.grade(grade_id) if system is not None else None

    def questions_for(self, stage: QuestionStage, site: Site) -> list[Question]:
        return [
            q
            for q in self.questions.questions
            if q.stage is stage and (site.hip or not q.hip_only) and not q.opt_in
        ]

    def all_rule_ids(self) -> set[str]:
        return set(_rule_ids(self))


def _fmt_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _parse(path: Path, rel: str, model: type[M], problems: list[RuleProblem]) -> M | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(RuleProblem(rel, "", "file is missing"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(RuleProblem(rel, "", f"cannot be read: {exc}"))
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(RuleProblem(rel, where, f"not valid YAML: {reason}"))
        return None
    if not isinstance(data, dict):
        problems.append(RuleProblem(rel, "", "must be a mapping of keys to values"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if p not in ("function-after",))
            problems.append(RuleProblem(rel, _fmt_loc(loc), _reason(err)))
        return None


def _reason(err: Any) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (typo?)"
    return msg


def load_rules(directory: str | Path) -> Rules:
    """Read and validate every rules file; raise RulesError listing all problems found."""
    root = Path(directory)
    problems: list[RuleProblem] = []
    if not root.is_dir():
        raise RulesError([RuleProblem(str(root), "", "rules directory not found")])
    parsed: dict[str, Any] = {}
    for name, model in FILES.items():
        parsed[name] = _parse(root / name, name, model, problems)
    tailoring: TailoringFile | None = TailoringFile()
    if (root / TAILORING_FILE).exists():
        tailoring = _parse(root / TAILORING_FILE, TAILORING_FILE, TailoringFile, problems)
    protocols: dict[str, Protocol] = {}
    proto_files: dict[str, str] = {}
    pdir = root / PROTOCOL_DIR
    files = sorted(pdir.glob("*.yaml")) if pdir.is_dir() else []
    if not files:
        problems.append(RuleProblem(f"{PROTOCOL_DIR}/", "", "no protocol files (*.yaml) found"))
    for f in files:
        rel = f"{PROTOCOL_DIR}/{f.name}"
        proto = _parse(f, rel, Protocol, problems)
        if proto is None:
            continue
        if proto.id in protocols:
            problems.append(
                RuleProblem(
                    rel,
                    "id",
                    f"duplicate protocol id {proto.id!r} (also in {proto_files[proto.id]})",
                )
            )
            continue
        if f.stem != proto.id:
            problems.append(RuleProblem(rel, "id", f"must equal the file name {f.stem!r}"))
        protocols[proto.id] = proto
        proto_files[proto.id] = rel
    if problems:
        raise RulesError(problems)
    rules = Rules(
        sites=parsed["sites.yaml"],
        questions=parsed["questions.yaml"],
        symptoms=parsed["symptoms.yaml"],
        scheduling=parsed["scheduling.yaml"],
        habits=parsed["habits.yaml"],
        protocols=protocols,
        tailoring=tailoring or TailoringFile(),
    )
    problems.extend(_cross_check(rules, proto_files))
    if problems:
        raise RulesError(problems)
    return rules


def _cross_check(rules: Rules, proto_files: dict[str, str]) -> list[RuleProblem]:
    """What no single file can know: references between files and global id uniqueness."""
    out: list[RuleProblem] = []
    qs = rules.question_by_id
    for risk, pid in rules.sites.protocol_by_risk.items():
        if pid not in rules.protocols:
            known = ", ".join(sorted(rules.protocols))
            out.append(
                RuleProblem(
                    "sites.yaml",
                    f"protocol_by_risk.{risk.value}",
                    f"unknown protocol {pid!r} (known: {known})",
                )
            )
        elif rules.protocols[pid].for_risk is not risk:
            out.append(
                RuleProblem(
                    "sites.yaml",
                    f"protocol_by_risk.{risk.value}",
                    f"protocol {pid!r} is written for risk {rules.protocols[pid].for_risk.value}",
                )
            )
    for i, site in enumerate(rules.sites.sites):
        if site.protocol is None:
            continue
        path = f"sites[{i}].protocol"
        proto = rules.protocols.get(site.protocol)
        if proto is None:
            out.append(RuleProblem("sites.yaml", path, f"unknown protocol {site.protocol!r}"))
        elif proto.for_risk is not site_risk(site):
            # A low-risk protocol (no protected phase, fewer clearances) on a high-risk site is
            # a clinical hazard, and the reverse is a sign the wrong file was named.
            out.append(
                RuleProblem(
                    "sites.yaml",
                    path,
                    f"protocol {site.protocol!r} is written for risk {proto.for_risk.value}, "
                    f"but site {site.id!r} is {site_risk(site).value} risk",
                )
            )
    for site in rules.sites.sites:
        proto = _protocol_or_none(rules, site)
        if proto is None or site.hop_tests:
            continue
        for j, ph in enumerate(proto.phases):
            for slot in ("impact", "cross"):
                tpl = getattr(ph, slot)
                if tpl is not None and tpl.has_hops:
                    field = "hops" if tpl.hops else "kind"  # a plyometric session is all hops
                    out.append(
                        RuleProblem(
                            proto_files[proto.id],
                            f"phases[{j}].{slot}.{field}",
                            f"site {site.id!r} must never hop (hop_tests: false) but follows "
                            "this protocol: give the site its own protocol (sites.yaml protocol:)",
                        )
                    )
    out.extend(_check_symptom_questions(rules))
    out.extend(_check_classifications(rules.symptoms.classifications, "symptoms.yaml", "", qs))
    for pid, proto in rules.protocols.items():
        rel = proto_files[pid]
        for i, ph in enumerate(proto.phases):
            for j, qid in enumerate(ph.gate.questions):
                path = f"phases[{i}].gate.questions[{j}]"
                q = qs.get(qid)
                if q is None:
                    out.append(RuleProblem(rel, path, f"unknown question {qid!r}"))
                elif q.stage is not QuestionStage.GATE or q.kind != "yes_no":
                    out.append(RuleProblem(rel, path, f"{qid!r} is not a yes/no gate question"))
            for j, lv in enumerate(ph.levels):
                fits = runs_that_fit(1, 7, rules.scheduling.min_days_between_runs, ALL_DAYS)
                if lv.per_week is not None and lv.per_week > fits:
                    out.append(
                        RuleProblem(
                            rel,
                            f"phases[{i}].levels[{j}].per_week",
                            f"{lv.per_week} runs cannot fit in a Monday-Sunday week with runs "
                            f"{rules.scheduling.min_days_between_runs} days apart "
                            f"(scheduling.yaml min_days_between_runs; at most {fits})",
                        )
                    )
                if lv.intensity and not _reached_continuous(proto, i, j, rules):
                    out.append(
                        RuleProblem(
                            rel,
                            f"phases[{i}].levels[{j}].intensity",
                            "speed work only after "
                            f"{rules.scheduling.min_continuous_s_for_intensity // 60} minutes of "
                            "continuous running at an earlier level",
                        )
                    )
        if proto.pain_rules is not None and proto.pain_rules.classifications is not None:
            rows = proto.pain_rules.classifications
            out.extend(_check_classifications(rows, rel, "pain_rules.", qs))
        if proto.phases[0].gate.questions:
            out.append(
                RuleProblem(rel, "phases[0].gate.questions", "the first phase cannot ask a gate")
            )
    for i, h in enumerate(rules.habits.habits):
        if h.question and h.question not in qs:
            out.append(
                RuleProblem(
                    "habits.yaml", f"habits[{i}].question", f"unknown question {h.question!r}"
                )
            )
        if h.trigger == "weekly" and h.weekday is None:
            out.append(RuleProblem("habits.yaml", f"habits[{i}].weekday", "weekly habits need one"))
    for j, qid in enumerate(rules.habits.screening.questions):
        q = qs.get(qid)
        if q is None or q.stage is not QuestionStage.SCREENING:
            out.append(
                RuleProblem(
                    "habits.yaml",
                    f"screening.questions[{j}]",
                    f"{qid!r} is not a screening question",
                )
            )
    out.extend(_check_protocol_choice(rules, proto_files))
    seen: dict[str, str] = {}
    for rid, where in _rule_ids_with_place(rules, proto_files):
        if rid in seen and seen[rid] != where:
            out.append(RuleProblem(where, "", f"rule id {rid!r} is also used in {seen[rid]}"))
        seen.setdefault(rid, where)
    out.extend(_check_tailoring(rules))
    return out


def _check_tailoring(rules: Rules) -> list[RuleProblem]:
    """A coach tailors within the rules, never past them: runs stay at least the scheduling
    file's days apart, and a start rung exists on every protocol's ladder."""
    out: list[RuleProblem] = []
    t = rules.tailoring
    gap = rules.scheduling.min_days_between_runs
    if t.rest_days_between_runs.min + 1 < gap:
        out.append(
            RuleProblem(
                TAILORING_FILE,
                "rest_days_between_runs.min",
                f"{t.rest_days_between_runs.min} rest day(s) puts runs closer than "
                f"scheduling.yaml min_days_between_runs ({gap} days apart): at least {gap - 1}",
            )
        )
    for pid, proto in sorted(rules.protocols.items()):
        rungs = sum(len(p.levels) for p in proto.phases if p.runs)
        if rungs and t.start_level.max_rung > rungs:
            out.append(
                RuleProblem(
                    TAILORING_FILE,
                    "start_level.max_rung",
                    f"{t.start_level.max_rung} is past the run ladder of protocol {pid!r} "
                    f"({rungs} rungs)",
                )
            )
    return out


def _check_protocol_choice(rules: Rules, proto_files: dict[str, str]) -> list[RuleProblem]:
    """A protocol a coach picks (an invite's, a switch's) is one some site may follow; and the
    decision log tells each engine action apart (a switch is not recorded as another act)."""
    out: list[RuleProblem] = []
    for pid, proto in rules.protocols.items():
        hops = protocol_hops(proto)
        if not any(
            site_risk(site) is proto.for_risk and (site.hop_tests or not hops)
            for site in rules.sites.sites
        ):
            why = " (sites that allow hops)" if hops else ""
            out.append(
                RuleProblem(
                    proto_files[pid],
                    "for_risk",
                    f"no site may follow this protocol: none in sites.yaml is "
                    f"{proto.for_risk.value} risk{why}, so no invite or switch can choose it",
                )
            )
    acts = rules.symptoms.actions
    named: dict[str, str] = {}
    for name in type(acts).model_fields:
        rid = getattr(acts, name).id
        if rid in named:
            out.append(
                RuleProblem(
                    "symptoms.yaml",
                    f"actions.{name}.id",
                    f"rule id {rid!r} is also actions.{named[rid]}: the decision log could not "
                    "tell the two apart",
                )
            )
        named.setdefault(rid, name)
    return out


def protocol_hops(proto: Protocol) -> bool:
    """Hops in any session template, or a plyometric phase (never for a no-hop site)."""
    return any(
        ph.kind is PhaseKind.PLYOMETRIC or (t is not None and t.has_hops)
        for ph in proto.phases
        for t in (ph.impact, ph.cross)
    )


def _check_classifications(
    rows: list[Classification], file: str, prefix: str, qs: dict[str, Question]
) -> list[RuleProblem]:
    """Each condition names a post-session or follow-up question and tests it by its kind."""
    out: list[RuleProblem] = []
    for i, c in enumerate(rows):
        for j, cond in enumerate(c.when):
            q = qs.get(cond.question)
            path = f"{prefix}classifications[{i}].when[{j}].question"
            if q is None:
                out.append(RuleProblem(file, path, f"unknown question {cond.question!r}"))
            elif q.stage not in (QuestionStage.POST_SESSION, QuestionStage.FOLLOWUP):
                out.append(RuleProblem(file, path, f"question {q.id!r} is a {q.stage} question"))
            elif (cond.equals is not None) != (q.kind == "yes_no"):
                out.append(
                    RuleProblem(
                        file,
                        path,
                        f"question {q.id!r} is {q.kind}: use "
                        + ("equals" if q.kind == "yes_no" else "at_least/at_most"),
                    )
                )
    return out


def _protocol_or_none(rules: Rules, site: Site) -> Protocol | None:
    try:
        return rules.protocol_for(site)
    except KeyError:
        return None  # reported above as an unknown protocol


def _check_symptom_questions(rules: Rules) -> list[RuleProblem]:
    """The watch check, /pain and gate 'no' answers must name follow-up questions."""
    qs = rules.question_by_id
    out: list[RuleProblem] = []
    where: list[tuple[str, str, str]] = []
    watch = rules.symptoms.watch
    for kind, ids in watch.questions.items():
        if kind in (PhaseKind.RUN_WALK, PhaseKind.CONTINUOUS, PhaseKind.MAINTENANCE):
            out.append(
                RuleProblem(
                    "symptoms.yaml",
                    f"watch.questions.{kind.value}",
                    "run phases already have the 24-hour follow-up",
                )
            )
        path = f"watch.questions.{kind.value}"
        where += [("symptoms.yaml", f"{path}[{j}]", q) for j, q in enumerate(ids)]
    where += [
        ("symptoms.yaml", f"report_questions[{j}]", q)
        for j, q in enumerate(rules.symptoms.report_questions)
    ]
    for i, q in enumerate(rules.questions.questions):
        where += [("questions.yaml", f"questions[{i}].no_means.{k}", k) for k in q.no_means]
    for file, path, qid in where:
        found = qs.get(qid)
        if found is None:
            out.append(RuleProblem(file, path, f"unknown question {qid!r}"))
        elif found.stage is not QuestionStage.FOLLOWUP:
            out.append(RuleProblem(file, path, f"{qid!r} is not a follow-up question"))
    return out


def _reached_continuous(proto: Protocol, phase_i: int, level_j: int, rules: Rules) -> bool:
    need = rules.scheduling.min_continuous_s_for_intensity
    for i, ph in enumerate(proto.phases[: phase_i + 1]):
        for j, lv in enumerate(ph.levels):
            if (i, j) >= (phase_i, level_j):
                return False
            if lv.continuous_s >= need:
                return True
    return False


def _rule_ids_with_place(rules: Rules, proto_files: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    out += [(c.id, "symptoms.yaml") for c in rules.symptoms.classifications]
    acts = rules.symptoms.actions
    out += [(getattr(acts, f).id, "symptoms.yaml") for f in type(acts).model_fields]
    sch = rules.scheduling
    out += [
        (sch.id_no_consecutive_runs, "scheduling.yaml"),
        (sch.id_rest_day, "scheduling.yaml"),
        (sch.id_cross_offset, "scheduling.yaml"),
        (sch.maintenance.id_deload, "scheduling.yaml"),
        (sch.maintenance.id_off_week, "scheduling.yaml"),
        (sch.build.id_deload, "scheduling.yaml"),
        (rules.symptoms.watch.id, "symptoms.yaml"),
    ]
    out += [(o.id, "symptoms.yaml") for o in (*acts.red_flag.resume, *acts.escalate.resume)]
    out += [(w.id, "symptoms.yaml") for w in acts.escalate.when or () if w.id]
    out += [(h.id, "habits.yaml") for h in rules.habits.habits]
    out.append((rules.habits.screening.id, "habits.yaml"))
    out.append((rules.tailoring.id, TAILORING_FILE))
    for pid, proto in rules.protocols.items():
        where = proto_files.get(pid, pid)
        out += [(ph.gate.id, where) for ph in proto.phases]
        out += [(rid, where) for rid in _pain_rule_ids(proto)]
        if proto.discharges:
            out.append((proto.on_finish.id, where))
    return out


def _pain_rule_ids(proto: Protocol) -> list[str]:
    """The rule ids a protocol's own pain rules add (classifications, actions, their options)."""
    pain = proto.pain_rules
    if pain is None:
        return []
    ids = [c.id for c in pain.classifications or ()]
    for _, rule in pain.actions:
        if rule is None:
            continue
        ids.append(rule.id)
        if isinstance(rule, EscalateRule):
            ids += [o.id for o in rule.resume] + [w.id for w in rule.when or () if w.id]
    return ids


def _rule_ids(rules: Rules) -> list[str]:
    return [rid for rid, _ in _rule_ids_with_place(rules, {})]


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each file kind, for editors (yaml-language-server) to help clinicians."""
    out = {name: model.model_json_schema() for name, model in FILES.items()}
    out[TAILORING_FILE] = TailoringFile.model_json_schema()
    out[f"{PROTOCOL_DIR}/*.yaml"] = Protocol.model_json_schema()
    return out


def write_json_schemas(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        stem = name.replace("/*.yaml", "").replace(".yaml", "")
        p = target / f"{stem}.schema.json"
        p.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(p)
    return written
