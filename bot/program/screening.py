"""The energy-availability screen: which questions to ask and whether the answers escalate.

It never diagnoses: enough "yes" answers only recommend a clinician or dietitian review, and
the coach hears of it only when the runner agreed to share (DOMAIN.md §6.3).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.program.loader import Rules
from bot.program.rules import Question, Site


def offered_at_enrolment(site: Site, rules: Rules) -> bool:
    s = rules.habits.screening
    return s.enabled and s.offer_when_trabecular and site.trabecular


def questions(rules: Rules, *, opt_in: bool) -> list[Question]:
    """The screen's questions; opt-in items (menstrual history) only for runners who chose them."""
    qs = [rules.question_by_id[q] for q in rules.habits.screening.questions]
    return [q for q in qs if opt_in or not q.opt_in]


def escalates(answers: Mapping[str, bool], rules: Rules) -> bool:
    return (
        sum(1 for v in answers.values() if v is True)
        >= rules.habits.screening.escalate_when_yes_at_least
    )
