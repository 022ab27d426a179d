"""Classify a set of symptom answers as clear / mild / regress / red flag, by the rules' table."""

from __future__ import annotations

from collections.abc import Mapping

from bot.program.loader import Rules
from bot.program.rules import Question, Severity


class InvalidAnswer(ValueError):
    """An answer the rules do not allow (unknown question, wrong type, out of range)."""


def check_answer(q: Question, value: int | bool) -> int | bool:
    """Return the value in the question's type or raise InvalidAnswer with the allowed range."""
    if q.kind == "yes_no":
        if not isinstance(value, bool):
            raise InvalidAnswer(f"{q.id}: answer yes or no")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswer(f"{q.id}: a whole number from {q.min} to {q.max}")
    if not q.min <= value <= q.max:
        raise InvalidAnswer(f"{q.id}: {value} is outside {q.min}–{q.max}")
    return value


def validate_answers(
    answers: Mapping[str, int | bool], rules: Rules
) -> dict[str, int | bool]:
    out: dict[str, int | bool] = {}
    for qid, value in answers.items():
        q = rules.question_by_id.get(qid)
        if q is None:
            raise InvalidAnswer(f"unknown question {qid!r}")
        out[qid] = check_answer(q, value)
    return out


def classify(answers: Mapping[str, int | bool], rules: Rules) -> tuple[Severity, tuple[str, ...]]:
    """The worst severity whose conditions all hold, and the ids of the rules that matched it."""
    worst = Severity.CLEAR
    ids: list[str] = []
    for c in rules.symptoms.classifications:
        if all(cond.question in answers and cond.holds(answers[cond.question]) for cond in c.when):
            if c.severity.rank > worst.rank:
                worst, ids = c.severity, [c.id]
            elif c.severity is worst and worst is not Severity.CLEAR:
                ids.append(c.id)
    return worst, tuple(ids)
