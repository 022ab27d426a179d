"""The road ahead (/path): the phases done, the current one and those to come, the plateaus of
the stair-step passed, and a typical range for the runner's injury, from the rules' published
data (DOMAIN §1.2, §2). Always a range with its source, never a promise: the body decides, and
every gate still applies.

Part of the engine: pure, no I/O, no clock (`today` comes in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.program.loader import Rules
from bot.program.rules import Typical
from bot.program.state import ProgramState

__all__ = ["Road", "road", "typical_range"]


@dataclass(frozen=True, slots=True)
class Road:
    done: tuple[str, ...]  # phase names, in order
    current: str
    ahead: tuple[str, ...]
    plateaus_passed: int  # run/walk levels held until the body showed it handled them
    plateaus_total: int
    typical: Typical | None  # None: no published range for this site or grade
    typical_from_grade: bool  # the range is the imaging grade's, not the site's
    weeks_since_diagnosis: int


def typical_range(state: ProgramState, rules: Rules) -> tuple[Typical | None, bool]:
    """The grade's range when a grade is known and has one (grade mattered more than site,
    Dobrindt 2012), else the site's, else the rules' general one. And whether it is the grade's."""
    p = state.profile
    grade = rules.imaging_grade(p.imaging_system, p.imaging_grade)
    if grade is not None and grade.typical_weeks is not None:
        return grade.typical_weeks, True
    site = rules.site_by_id.get(p.site_id)
    if site is not None and site.typical is not None:
        return site.typical, False
    return rules.sites.typical, False


def road(state: ProgramState, rules: Rules, today: date) -> Road:
    proto = rules.protocols[state.protocol_id]
    i = proto.index(state.phase_id)
    phases = proto.phases
    passed = sum(len(ph.levels) for ph in phases[:i]) + state.level
    typical, from_grade = typical_range(state, rules)
    return Road(
        done=tuple(ph.name for ph in phases[:i]),
        current=phases[i].name,
        ahead=tuple(ph.name for ph in phases[i + 1 :]),
        plateaus_passed=passed,
        plateaus_total=sum(len(ph.levels) for ph in phases),
        typical=typical,
        typical_from_grade=from_grade,
        weeks_since_diagnosis=max(0, (today - state.profile.diagnosis_date).days // 7),
    )
