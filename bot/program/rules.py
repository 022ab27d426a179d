"""Typed models of the clinical rules in `rules/*.yaml`.

A clinician edits YAML; these models are what the engine reads. Every object that can justify a
decision carries an `id`, and the engine names those ids in each decision it makes. Models forbid
unknown keys so that a typo in a file is reported instead of silently ignored.

The files (one model each):
- `sites.yaml`      -> SitesFile      injury sites, their risk class, trabecular and hip flags
- `questions.yaml`  -> QuestionsFile  every question the bot may ask (after a session, follow-up,
                                      gates)
- `symptoms.yaml`   -> SymptomsFile   how answers are classified and what each class does
- `scheduling.yaml` -> SchedulingFile calendar constraints, follow-up timing, quiet hours,
                                      maintenance
- `habits.yaml`     -> HabitsFile     habit prompts and the optional energy-availability screen
- `protocols/*.yaml`-> Protocol       phases, gates, session templates, run/walk levels
"""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RULE_ID = r"^[a-z0-9][a-z0-9_-]*$"
RuleId = Annotated[str, Field(pattern=RULE_ID, min_length=1, max_length=48)]
SECONDS = Annotated[int, Field(ge=0, le=4 * 3600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Risk(StrEnum):
    HIGH = "high"
    LOW = "low"


class Severity(StrEnum):
    """Ordered from harmless to urgent; the worst matching classification wins."""

    CLEAR = "clear"
    MILD = "mild"
    REGRESS = "regress"
    RED_FLAG = "red_flag"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CLEAR: 0, Severity.MILD: 1, Severity.REGRESS: 2, Severity.RED_FLAG: 3}


class PhaseKind(StrEnum):
    PROTECTION = "protection"
    CROSS_TRAINING = "cross_training"
    WALKING = "walking"  # pain-free walking before any running (W&M/Cannon phase I)
    STRENGTH = "strength"
    PLYOMETRIC = "plyometric"  # hops and jumps counted in foot contacts (W&M/Cannon phase II)
    RUN_WALK = "run_walk"
    CONTINUOUS = "continuous"
    MAINTENANCE = "maintenance"


class SessionKind(StrEnum):
    CROSS_TRAIN = "cross_train"
    STRENGTH = "strength"
    WALK = "walk"
    PLYOMETRIC = "plyometric"
    RUN = "run"

    @property
    def is_impact(self) -> bool:
        return self is SessionKind.RUN


# --- sites.yaml ---------------------------------------------------------------------------------


class Typical(_Strict):
    """A typical time from diagnosis back to running, in weeks: always a range, never a
    promise (DOMAIN §1.2, §2); shown on /path with its source."""

    min_weeks: int = Field(ge=0, le=104)
    max_weeks: int = Field(ge=1, le=104)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _a_range(self) -> Typical:
        if self.max_weeks <= self.min_weeks:
            raise ValueError("max_weeks must be more than min_weeks: a range, never one number")
        return self


class Site(_Strict):
    id: RuleId
    name: str = Field(min_length=1, max_length=60)
    risk: Risk
    trabecular: bool = False
    hip: bool = Field(False, description="Hip/groin questions apply (femoral neck, femoral head).")
    hop_tests: bool = Field(True, description="False where hopping could complete a fracture.")
    unsure: bool = Field(False, description="The 'not sure' entry; treated as high risk.")
    protocol: RuleId | None = Field(
        None, description="This site's own protocol; otherwise protocol_by_risk picks one."
    )
    imaging: RuleId | None = Field(
        None, description="The imaging grading system asked for this site (default: the default)."
    )
    notes: str = ""
    source: str = Field(min_length=1)
    typical: Typical | None = Field(
        None, description="Typical weeks from diagnosis back to running at this site."
    )

    @property
    def needs_clearance(self) -> bool:
        """High-risk, trabecular and unknown sites need a clinician at every gate (DOMAIN 1.3)."""
        return self.risk is Risk.HIGH or self.trabecular or self.unsure


class ImagingGrade(_Strict):
    """One grade of an imaging system, and what it does to the program (DOMAIN §2)."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,4}$")]
    label: str = Field(min_length=1, max_length=60)
    min_days_before_run: int = Field(
        0, ge=0, le=365, description="No run/walk before this many days after diagnosis."
    )
    needs_clearance: bool = Field(
        False, description="A clinician clears every gate, whatever the site's risk."
    )
    typical: str = Field("", max_length=80, description="Typical time away, as a range.")
    typical_weeks: Typical | None = Field(
        None, description="Typical weeks back to running with this grade (wins over the site's)."
    )
    source: str = ""


class ImagingSystem(_Strict):
    id: RuleId
    name: str = Field(min_length=1, max_length=60)
    default: bool = False
    grades: list[ImagingGrade] = Field(min_length=1)
    source: str = ""

    def grade(self, grade_id: str) -> ImagingGrade | None:
        return next((g for g in self.grades if g.id == grade_id), None)


class SitesFile(_Strict):
    version: Literal[1] = 1
    protocol_by_risk: dict[Risk, RuleId]
    imaging_systems: list[ImagingSystem] = Field(default_factory=list)
    typical: Typical | None = Field(
        None, description="Typical weeks back to running for sites without their own range."
    )
    sites: list[Site] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_complete(self) -> SitesFile:
        _require_unique([s.id for s in self.sites], "sites")
        _require_unique([i.id for i in self.imaging_systems], "imaging_systems")
        for system in self.imaging_systems:
            _require_unique([g.id for g in system.grades], f"grades of {system.id}")
        if self.imaging_systems and sum(i.default for i in self.imaging_systems) != 1:
            raise ValueError("exactly one imaging system must be marked default: true")
        known = {i.id for i in self.imaging_systems}
        for s in self.sites:
            if s.imaging is not None and s.imaging not in known:
                raise ValueError(f"site {s.id!r}: unknown imaging system {s.imaging!r}")
        missing = set(Risk) - set(self.protocol_by_risk)
        if missing:
            raise ValueError(f"protocol_by_risk lacks {sorted(missing)}")
        if not any(s.unsure for s in self.sites):
            raise ValueError("one site must be marked unsure: true (the 'not sure' answer)")
        for s in self.sites:
            if s.unsure and s.risk is not Risk.HIGH:
                raise ValueError(f"site {s.id!r} is unsure and must be risk: high until cleared")
        return self


# --- questions.yaml -----------------------------------------------------------------------------


class QuestionStage(StrEnum):
    POST_SESSION = "post_session"
    FOLLOWUP = "followup"
    GATE = "gate"
    HABIT = "habit"
    SCREENING = "screening"


class Question(_Strict):
    id: RuleId
    stage: QuestionStage
    kind: Literal["scale", "yes_no"]
    text: str = Field(min_length=1, max_length=300)
    label: str = Field(
        "",
        max_length=60,
        description="The question in a few words, as a coach reads its answer: 'pain at night' "
        "in 'pain at night: yes' (else the question's text).",
    )
    min: int = 0
    max: int = 10
    hip_only: bool = False
    low_label: str = ""
    high_label: str = ""
    opt_in: bool = Field(False, description="Asked only to runners who opted in (menstrual items).")
    hop_test: bool = Field(False, description="Skipped for sites where hop tests are unsafe.")
    no_means: dict[RuleId, bool] = Field(
        default_factory=dict,
        description="Gate questions: the symptom answers a 'no' amounts to (judged like a check).",
    )
    source: str = ""

    @model_validator(mode="after")
    def _range(self) -> Question:
        if self.kind == "scale" and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.no_means and (self.stage is not QuestionStage.GATE or self.kind != "yes_no"):
            raise ValueError("no_means belongs to yes/no gate questions")
        return self


class QuestionsFile(_Strict):
    version: Literal[1] = 1
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> QuestionsFile:
        _require_unique([q.id for q in self.questions], "questions")
        return self


# --- symptoms.yaml ------------------------------------------------------------------------------


class Condition(_Strict):
    """One test on one answer. Exactly one of at_least / at_most / equals."""

    question: RuleId
    at_least: int | None = None
    at_most: int | None = None
    equals: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [x for x in (self.at_least, self.at_most, self.equals) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at_least, at_most, equals")
        return self

    def holds(self, value: int | bool) -> bool:
        if self.equals is not None:
            return bool(value) is self.equals
        if self.at_least is not None:
            return int(value) >= self.at_least
        assert self.at_most is not None
        return int(value) <= self.at_most


class Classification(_Strict):
    """If all conditions hold, the answer set is at least `severity`."""

    id: RuleId
    severity: Severity
    when: list[Condition] = Field(min_length=1)
    says: str = Field("", description="Why, in the runner's words, used in explanations.")
    source: str = ""


class ProgressRule(_Strict):
    id: RuleId
    levels: int = Field(
        1, ge=1, le=1, description="At most one level per clear check (DOMAIN 3.3)."
    )
    source: str = ""


class HoldRule(_Strict):
    id: RuleId
    counts_toward_hold: bool = False
    source: str = ""


class RegressRule(_Strict):
    id: RuleId
    levels: int = Field(ge=0, le=3)
    rest_days: int = Field(ge=0, le=14)
    source: str = ""


class ResumeOption(_Strict):
    """One way back after a stop, which a clinician may choose when clearing the runner."""

    id: Annotated[str, Field(pattern=RULE_ID, min_length=1, max_length=16)]
    levels_down: int = Field(ge=0, le=3, description="Run levels below the one stopped at.")
    rest_days: int = Field(ge=0, le=28, description="Days without running before the first run.")
    default: bool = False
    source: str = ""


def _one_default(options: list[ResumeOption]) -> list[ResumeOption]:
    _require_unique([o.id for o in options], "resume options")
    if sum(o.default for o in options) != 1:
        raise ValueError("exactly one resume option must be marked default: true")
    return options


EscalateThen = Literal["stop", "notify"]


class EscalateWhen(_Strict):
    """One way a regression escalates: K regressions within D days, or "still painful after
    stepping back" (a regression at or below the level of the last one, before the runner
    climbed past it). Exactly one of the two."""

    id: RuleId | None = Field(
        None, description="This trigger's own rule id (else the escalate rule's id)."
    )
    regressions: int | None = Field(None, ge=1, le=10)
    within_days: int | None = Field(None, ge=1, le=120)
    regress_at_or_below_last: bool = Field(
        False,
        description="Escalate on a regression at or below the level of the previous regression "
        "before the runner has climbed past it.",
    )
    then: EscalateThen | None = Field(
        None, description="stop: pause running for review; notify: alert the coach only."
    )
    source: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> EscalateWhen:
        counted = self.regressions is not None or self.within_days is not None
        if counted and (self.regressions is None or self.within_days is None):
            raise ValueError("give regressions and within_days together")
        if counted == self.regress_at_or_below_last:
            raise ValueError(
                "give either regressions + within_days, or regress_at_or_below_last: true"
            )
        return self


class EscalateRule(_Strict):
    """When regressions escalate, and how. Either the short form (`regressions`, `within_days`:
    stop after K regressions in D days) or a `when` list of triggers, any one of which fires;
    `then` says what a trigger without its own `then` does (default stop)."""

    id: RuleId
    regressions: int | None = Field(None, ge=1, le=10)
    within_days: int | None = Field(None, ge=1, le=120)
    when: list[EscalateWhen] | None = Field(None, min_length=1)
    then: EscalateThen = "stop"
    resume: list[ResumeOption] = Field(min_length=1)
    source: str = ""

    _resume = field_validator("resume")(_one_default)

    @model_validator(mode="after")
    def _one_form(self) -> EscalateRule:
        short = self.regressions is not None or self.within_days is not None
        if short and self.when is not None:
            raise ValueError("give either regressions + within_days or a when list, not both")
        if not short and self.when is None:
            raise ValueError("give regressions + within_days, or a when list")
        if short and (self.regressions is None or self.within_days is None):
            raise ValueError("give regressions and within_days together")
        if self.when is not None:
            _require_unique([w.id for w in self.when if w.id], "escalate when")
        return self

    @property
    def triggers(self) -> list[EscalateWhen]:
        """The `when` list, or the short form as its one trigger."""
        if self.when is not None:
            return self.when
        return [EscalateWhen(regressions=self.regressions, within_days=self.within_days)]

    @property
    def window_days(self) -> int:
        """How far back regressions are remembered: the longest counting window."""
        return max((w.within_days or 0 for w in self.triggers), default=0)

    @property
    def watches_step_back(self) -> bool:
        return any(w.regress_at_or_below_last for w in self.triggers)


class RedFlagRule(_Strict):
    id: RuleId
    remind_coach_after_hours: int = Field(
        12, ge=1, le=72, description="An unacknowledged alert goes to the coach again after this."
    )
    resume: list[ResumeOption] = Field(min_length=1)
    source: str = ""

    _resume = field_validator("resume")(_one_default)


class Watch(_Strict):
    """The red-flag check after sessions of the phases before running (DOMAIN §4.5)."""

    id: RuleId
    after_hours: int = Field(24, ge=4, le=48, description="Asked this long after the session.")
    min_days_apart: int = Field(2, ge=1, le=14, description="At most one check per this many days.")
    questions: dict[PhaseKind, list[RuleId]] = Field(
        description="Follow-up questions asked after a session in each kind of phase."
    )
    source: str = ""


class PlainRule(_Strict):
    id: RuleId
    source: str = ""


class Actions(_Strict):
    """What each class of answers does, and the ids of the engine's bookkeeping rules."""

    progress: ProgressRule
    hold: HoldRule
    regress: RegressRule
    escalate: EscalateRule
    red_flag: RedFlagRule
    partial: PlainRule
    missed: PlainRule
    stale: PlainRule
    enrol: PlainRule
    plan: PlainRule
    gate_not_yet: PlainRule
    clearance_needed: PlainRule
    coach: PlainRule
    runner_pause: PlainRule
    runner_resume_after_review: PlainRule
    unanswered_followup: PlainRule
    clearance_claimed: PlainRule
    coach_kept_stop: PlainRule
    acknowledged: PlainRule
    symptom_report: PlainRule
    coach_linked: PlainRule
    # Added after rules files were written: a file without them gets these ids.
    protocol_switch: PlainRule = PlainRule(
        id="coach-protocol-switch",
        source="A clinician's recorded choice of protocol; the runner's history is kept",
    )
    protocol_fallback: PlainRule = PlainRule(
        id="invite-protocol-not-allowed",
        source="DOMAIN §1.1: a protocol is only followed at a site of its risk class",
    )


class PainActions(_Strict):
    """A protocol's own actions; each one given replaces the shared rule of that name whole."""

    progress: ProgressRule | None = None
    hold: HoldRule | None = None
    regress: RegressRule | None = None
    escalate: EscalateRule | None = None


class PainRules(_Strict):
    """A protocol's own pain rules (e.g. the 0-pain rule: any pain sends the runner back).

    `classifications` replaces the shared mild / regress (and clear) rows of symptoms.yaml for
    runners on this protocol. The shared red flags ALWAYS apply as well and cannot be removed
    (clinical safety); a protocol may add red flags of its own. `actions` replaces the shared
    progress / hold / regress / escalate rules named in it."""

    classifications: list[Classification] | None = Field(None, min_length=1)
    actions: PainActions = Field(default_factory=PainActions)
    source: str = ""

    @model_validator(mode="after")
    def _unique(self) -> PainRules:
        if self.classifications is not None:
            _require_unique([c.id for c in self.classifications], "classifications")
        return self


class SymptomsFile(_Strict):
    version: Literal[1] = 1
    classifications: list[Classification] = Field(min_length=1)
    watch: Watch
    report_questions: list[RuleId] = Field(
        min_length=1, description="The check a runner opens with /pain, at any time."
    )
    actions: Actions

    @model_validator(mode="after")
    def _unique(self) -> SymptomsFile:
        _require_unique([c.id for c in self.classifications], "classifications")
        return self


# --- scheduling.yaml ----------------------------------------------------------------------------


def _parse_hhmm(v: object) -> object:
    if isinstance(v, str) and re.fullmatch(r"\d{1,2}:\d{2}", v):
        h, m = v.split(":")
        return time(int(h), int(m))
    if isinstance(v, int):  # YAML 1.1 reads 07:00 as sexagesimal 420
        return time(v // 60, v % 60)
    return v


class QuietHours(_Strict):
    start: time
    end: time

    _hhmm = field_validator("start", "end", mode="before")(_parse_hhmm)


class Maintenance(_Strict):
    deload_every_weeks: int = Field(ge=2, le=12)
    deload_volume_factor: float = Field(gt=0, lt=1)
    off_week_every_weeks: int = Field(ge=4, le=52)
    id_deload: RuleId
    id_off_week: RuleId
    source: str = ""


class BuildDeload(_Strict):
    """Deload weeks while building back up (run/walk and continuous), before maintenance."""

    enabled: bool = True
    deload_every_weeks: int = Field(ge=2, le=12)
    deload_volume_factor: float = Field(gt=0, lt=1)
    id_deload: RuleId
    source: str = ""


class SchedulingFile(_Strict):
    version: Literal[1] = 1
    id_no_consecutive_runs: RuleId
    id_rest_day: RuleId
    id_cross_offset: RuleId
    min_days_between_runs: int = Field(2, ge=2, le=7, description="2 = never on consecutive days.")
    max_training_days_in_7: int = Field(6, ge=1, le=6, description="<= 6 keeps a rest day in 7.")
    followup_after_hours: int = Field(24, ge=12, le=48)
    checkin_nudge_after_hours: int = Field(3, ge=1, le=12)
    followup_nudge_after_hours: int = Field(6, ge=1, le=24)
    gate_recheck_days: int = Field(3, ge=1, le=14)
    snooze_after_hours: int = Field(
        2, ge=1, le=6, description="'Later today' re-sends a reminder this much later."
    )
    min_continuous_s_for_intensity: int = Field(1800, ge=600)
    quiet_hours: QuietHours
    build: BuildDeload
    maintenance: Maintenance
    source: str = ""


# --- habits.yaml --------------------------------------------------------------------------------


class Habit(_Strict):
    id: RuleId
    trigger: Literal["after_session", "weekly", "deload_week", "off_week"]
    after_kinds: list[SessionKind] = Field(default_factory=list)
    weekday: int | None = Field(None, ge=0, le=6, description="0 = Monday, for weekly habits.")
    text: str = Field(min_length=1, max_length=500)
    question: RuleId | None = None
    source: str = ""


class Screening(_Strict):
    """Energy-availability screen: only ever escalates to the coach, and only with consent."""

    id: RuleId
    enabled: bool = True
    offer_when_trabecular: bool = True
    questions: list[RuleId] = Field(min_length=1)
    escalate_when_yes_at_least: int = Field(ge=1)
    source: str = ""


class HabitsFile(_Strict):
    version: Literal[1] = 1
    habits: list[Habit] = Field(default_factory=list)
    screening: Screening

    @model_validator(mode="after")
    def _unique(self) -> HabitsFile:
        _require_unique([h.id for h in self.habits], "habits")
        return self


# --- protocols/*.yaml ---------------------------------------------------------------------------


class Level(_Strict):
    """One rung of a run ladder. Continuous running is run_s with walk_s 0 and repeats 1.

    The intervals are run then walk, `repeats` times; `walk_first` swaps each block to walk then
    run ("walk 5 / jog 1"). `total_min` gives the intervals' length instead of `repeats` (repeats
    are then the whole blocks that fit). Warm-up and cool-down walks frame the intervals.
    """

    id: RuleId
    run_s: SECONDS = Field(gt=0)
    walk_s: SECONDS
    repeats: int = Field(
        1, ge=1, le=20, description="Blocks per session; required unless total_min is given."
    )
    total_min: int | None = Field(
        None, ge=1, le=180, description="Minutes of intervals; repeats = whole blocks that fit."
    )
    walk_first: bool = Field(False, description="Each block is walk then run (walk 5 / jog 1).")
    warmup_walk_min: int = Field(0, ge=0, le=30, description="Walk this long before the blocks.")
    cooldown_walk_min: int = Field(0, ge=0, le=30, description="Walk this long after the blocks.")
    hold_sessions: int = Field(2, ge=1, le=10)
    hold_days: int = Field(0, ge=0, le=60)
    stage_days: int | None = Field(
        None,
        ge=1,
        le=182,
        description=(
            "This level is a stage of N calendar days: the runner steps up at the first counted "
            "clear follow-up on or after day N, counted from the first session at the level. A "
            "mild or painful session restarts the stage (the clock starts again at the next "
            "session). Besides hold_sessions and hold_days, which still apply."
        ),
    )
    max_per_week: int = Field(3, ge=1, le=4)
    per_week: int | None = Field(
        None,
        ge=1,
        le=4,
        description="Target runs per calendar week (Mon-Sun), spread out; at most max_per_week.",
    )
    intensity: bool = False
    rpe_max: int = Field(5, ge=1, le=10)

    @model_validator(mode="after")
    def _shape(self) -> Level:
        given = self.model_fields_set
        if self.per_week is not None and self.per_week > self.max_per_week:
            raise ValueError(
                f"per_week ({self.per_week}) is above max_per_week ({self.max_per_week})"
            )
        if self.walk_first and not self.walk_s:
            raise ValueError("walk_first needs walk_s above 0 (there is no walk to put first)")
        if self.total_min is None:
            if "repeats" not in given:
                raise ValueError("give repeats or total_min")
            return self
        if "repeats" in given:
            raise ValueError("give repeats or total_min, not both")
        if not self.walk_s:
            raise ValueError("total_min is for run/walk blocks; continuous running sets run_s")
        block_s = self.run_s + self.walk_s
        blocks, left_s = divmod(self.total_min * 60, block_s)
        if blocks < 1:
            raise ValueError(
                f"total_min ({self.total_min}) is shorter than one block of run_s + walk_s "
                f"({block_s // 60}:{block_s % 60:02d})"
            )
        if left_s:
            raise ValueError(
                f"total_min ({self.total_min}) is not a whole number of "
                f"{block_s // 60}:{block_s % 60:02d} blocks"
            )
        if blocks > 20:
            raise ValueError(f"total_min ({self.total_min}) makes {blocks} blocks; at most 20")
        # The model is frozen; the derived count is set once, here, while validating.
        object.__setattr__(self, "repeats", blocks)
        return self

    @property
    def run_total_s(self) -> int:
        return self.run_s * self.repeats

    @property
    def continuous_s(self) -> int:
        """Longest stretch of unbroken running in a session."""
        return self.run_s if self.walk_s else self.run_s * self.repeats


class Exercise(_Strict):
    """One exercise of a strength (or plyometric) session, shown to the runner line by line."""

    name: str = Field(min_length=1, max_length=60)
    sets: int = Field(ge=1, le=10)
    reps: int = Field(ge=1, le=100)
    per_side: bool = Field(False, description="The reps are for each leg (or side).")
    hold_s: int | None = Field(None, ge=1, le=300, description="Hold each rep this many seconds.")


class SessionTemplate(_Strict):
    kind: SessionKind
    description: str = Field(min_length=1, max_length=300)
    minutes: int = Field(ge=5, le=180)
    hops: bool = Field(
        False, description="The session includes hops or plyometrics (never for no-hop sites)."
    )
    steps: int | None = Field(
        None, ge=500, le=30000, description="A walk session's step count, shown with its minutes."
    )
    contacts: int | None = Field(
        None,
        ge=10,
        le=1000,
        description="Foot contacts in a plyometric session (W&M/Cannon phase II: 470 per leg).",
    )
    min_hours_apart: int | None = Field(
        None,
        ge=6,
        le=96,
        description="Plyometric bouts at least this many hours apart (above 24: whole days).",
    )
    exercises: list[Exercise] = Field(
        default_factory=list, max_length=20, description="The session's exercises, in order."
    )
    progression: str = Field(
        "", max_length=200, description="How the session grows, in words (shown to the runner)."
    )

    @model_validator(mode="after")
    def _fields_for_kind(self) -> SessionTemplate:
        if self.steps is not None and self.kind is not SessionKind.WALK:
            raise ValueError("steps is for walk sessions")
        plyometric = self.kind is SessionKind.PLYOMETRIC
        if not plyometric and (self.contacts is not None or self.min_hours_apart is not None):
            raise ValueError("contacts and min_hours_apart are for plyometric sessions")
        if plyometric and self.contacts is None:
            raise ValueError("a plyometric session needs its contacts (foot contacts per session)")
        if self.exercises and self.kind in (SessionKind.RUN, SessionKind.WALK):
            raise ValueError("exercises are for strength, plyometric or cross-training sessions")
        return self

    @property
    def has_hops(self) -> bool:
        """Hops of any kind: a plyometric session always has them."""
        return self.hops or self.kind is SessionKind.PLYOMETRIC


class Gate(_Strict):
    """What must be true to enter a phase."""

    id: RuleId
    min_days_since_diagnosis: int = Field(0, ge=0)
    questions: list[RuleId] = Field(default_factory=list)
    clearance: Literal["never", "site", "always"] = "site"
    clearance_key: RuleId | None = None
    on_enrolment: bool = Field(
        True, description="May this gate be passed on the enrolment answers alone?"
    )
    source: str = ""

    @model_validator(mode="after")
    def _key(self) -> Gate:
        if self.clearance != "never" and not self.clearance_key:
            raise ValueError("a gate that may need clearance must name its clearance_key")
        return self


class Phase(_Strict):
    id: RuleId
    kind: PhaseKind
    name: str = Field(min_length=1, max_length=60)
    gate: Gate
    min_days: int = Field(0, ge=0, le=365, description="Days in phase before the next gate.")
    impact: SessionTemplate | None = None
    cross: SessionTemplate | None = None
    levels: list[Level] = Field(default_factory=list)
    intro: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Phase:
        runs = self.kind in (PhaseKind.RUN_WALK, PhaseKind.CONTINUOUS, PhaseKind.MAINTENANCE)
        if runs and not self.levels:
            raise ValueError(f"a {self.kind.value} phase needs at least one level")
        if not runs and self.levels:
            raise ValueError(f"a {self.kind.value} phase has no run levels")
        if not runs and self.cross is None and self.impact is None:
            raise ValueError("give this phase at least one session template (cross or impact)")
        if self.impact is not None and self.impact.kind is SessionKind.RUN and not runs:
            raise ValueError("run sessions belong to run_walk/continuous/maintenance phases")
        if self.cross is not None and self.cross.kind is SessionKind.RUN:
            raise ValueError("cross-training sessions cannot be runs")
        own = {PhaseKind.WALKING: SessionKind.WALK, PhaseKind.PLYOMETRIC: SessionKind.PLYOMETRIC}
        for slot, tpl in (("impact", self.impact), ("cross", self.cross)):
            for phase_kind, session_kind in own.items():
                if tpl is not None and tpl.kind is session_kind and self.kind is not phase_kind:
                    raise ValueError(
                        f"{slot}: {session_kind.value} sessions belong to {phase_kind.value} phases"
                    )
        if self.kind in own and (self.impact is None or self.impact.kind is not own[self.kind]):
            raise ValueError(
                f"a {self.kind.value} phase needs an impact session of kind {own[self.kind].value}"
            )
        _require_unique([lv.id for lv in self.levels], "levels")
        return self

    @property
    def runs(self) -> bool:
        return bool(self.levels)


class OnFinish(_Strict):
    """What happens after the last phase's top level is passed."""

    id: RuleId = "finish"
    then: Literal["maintenance", "discharge"] = Field(
        "maintenance",
        description="maintenance: stay at the top level (today's behaviour); discharge: the "
        "program ends, nothing more is scheduled and the coach is told.",
    )
    message: str = Field("", max_length=500, description="What the runner reads at discharge.")
    source: str = ""

    @model_validator(mode="after")
    def _message(self) -> OnFinish:
        if self.then == "discharge" and not self.message.strip():
            raise ValueError("a discharge needs a message for the runner")
        if self.then == "maintenance" and self.message:
            raise ValueError("a message is read only at discharge (then: discharge)")
        return self


class Protocol(_Strict):
    id: RuleId
    name: str
    for_risk: Risk
    description: str = ""
    sources: list[str] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=2)
    pain_rules: PainRules | None = Field(
        None, description="This protocol's own symptom classification and actions."
    )
    on_finish: OnFinish = Field(default_factory=OnFinish)

    @property
    def discharges(self) -> bool:
        return self.on_finish.then == "discharge"

    @model_validator(mode="after")
    def _order(self) -> Protocol:
        _require_unique([p.id for p in self.phases], "phases")
        order = list(PhaseKind)
        kinds = [order.index(p.kind) for p in self.phases]
        if kinds != sorted(kinds):
            raise ValueError(
                "phases must follow protection, cross_training, walking, strength, plyometric, "
                "run_walk, continuous, maintenance"
            )
        if PhaseKind.RUN_WALK not in {p.kind for p in self.phases}:
            raise ValueError("a protocol needs a run_walk phase")
        if self.discharges and self.phases[-1].kind is PhaseKind.MAINTENANCE:
            raise ValueError(
                "on_finish: discharge ends the program after the last run level; drop the "
                "maintenance phase or use then: maintenance"
            )
        return self

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def index(self, phase_id: str) -> int:
        for i, p in enumerate(self.phases):
            if p.id == phase_id:
                return i
        raise KeyError(phase_id)


def _require_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dup:
        raise ValueError(f"duplicate {what} id(s): {', '.join(dup)}")


# --- tailoring.yaml -----------------------------------------------------------------------------


class IntBounds(_Strict):
    """The whole numbers a coach may choose for one tailored field, `min` to `max` inclusive."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> IntBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be above max ({self.max})")
        return self

    def allows(self, value: int) -> bool:
        return self.min <= value <= self.max


class HoldSessionsBounds(IntBounds):
    min: int = Field(1, ge=1, le=20)
    max: int = Field(6, ge=1, le=20)


class HoldDaysBounds(IntBounds):
    min: int = Field(0, ge=0, le=60)
    max: int = Field(14, ge=0, le=60)


class RestDaysBounds(IntBounds):
    """Rest days between two runs: 1 = every other day (never two runs on consecutive days)."""

    min: int = Field(1, ge=1, le=6)
    max: int = Field(3, ge=1, le=6)


class PainThresholdBounds(IntBounds):
    """The highest pain during a session (0-10) still counted clear or mild; above it regresses.
    Never above 3: more than 3/10 during loading is not a mild symptom (DOMAIN §4.3)."""

    min: int = Field(0, ge=0, le=3)
    max: int = Field(3, ge=0, le=3)
    says: str = Field(
        "pain above {threshold}/10 during the session (the limit your coach set)",
        min_length=1,
        max_length=200,
        description="Why, in the runner's words; {threshold} is the tailored threshold.",
    )


class StartLevelBounds(_Strict):
    """How far up a protocol's run ladder a coach may start a runner (1 = its first rung)."""

    max_rung: int = Field(4, ge=1, le=50)


class WeekdayBounds(_Strict):
    """Training weekdays: any subset of the week with at least `min_days` days in it."""

    min_days: int = Field(2, ge=1, le=7)


class MaintenanceBounds(_Strict):
    """Maintenance volume: the factor a maintenance run's running time is scaled by."""

    factor_min: float = Field(0.5, gt=0, le=1.5)
    factor_max: float = Field(1.0, gt=0, le=1.5)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceBounds:
        if self.factor_min > self.factor_max:
            raise ValueError(
                f"factor_min ({self.factor_min}) must not be above factor_max ({self.factor_max})"
            )
        return self


class TailoringFile(_Strict):
    """What a coach may tailor for one runner (the coach's overlay), and within which bounds.

    Decisions taken because of a tailored field name `id` as their rule."""

    version: Literal[1] = 1
    id: RuleId = "coach-overlay"
    start_level: StartLevelBounds = StartLevelBounds()
    hold_sessions: HoldSessionsBounds = HoldSessionsBounds()
    hold_days: HoldDaysBounds = HoldDaysBounds()
    rest_days_between_runs: RestDaysBounds = RestDaysBounds()
    weekdays: WeekdayBounds = WeekdayBounds()
    pain_threshold: PainThresholdBounds = PainThresholdBounds()
    maintenance: MaintenanceBounds = MaintenanceBounds()
    source: str = ""
