"""Classify a set of symptom answers as clear / mild / regress / red flag, by the rules' table."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from bot.program.loader import Rules
from bot.program.rules import Question, Severity
from bot.program.tables import PainTable, condition_holds

_Verdict = tuple[Severity, tuple[str, ...]]


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


def validate_answers(answers: Mapping[str, int | bool], rules: Rules) -> dict[str, int | bool]:
    out: dict[str, int | bool] = {}
    qs = rules.question_by_id
    for qid, value in answers.items():
        q = qs.get(qid)
        if q is None:
            raise InvalidAnswer(f"unknown question {qid!r}")
        # The common answers (a bool to a yes/no, an int in range) are accepted as they are;
        # anything else gets `check_answer`'s full verdict and message.
        kind = type(value)
        yes_no = q.kind == "yes_no"
        if (kind is bool and yes_no) or (kind is int and not yes_no and q.min <= value <= q.max):
            out[qid] = value
        else:
            out[qid] = check_answer(q, value)
    return out


def classify(
    answers: Mapping[str, int | bool], rules: Rules, protocol_id: str | None = None
) -> tuple[Severity, tuple[str, ...]]:
    """The worst severity whose conditions all hold, and the ids of the rules that matched it.

    With `protocol_id`, by that protocol's table (its `pain_rules`, the shared red flags always
    among them); without, by the shared table of symptoms.yaml."""
    items = tuple(answers.items())
    table = rules.tables.pain if protocol_id is None else rules.tables.protocols[protocol_id].pain
    try:
        return _classify_memo(table, items)
    except TypeError:  # an unhashable answer (never a valid one): nothing to remember it by
        return _classify(table, items)


def classify_with(table: PainTable, answers: Mapping[str, int | bool]) -> _Verdict:
    """`classify` by a given pain table (a tailored runner's, see tailored.py)."""
    items = tuple(answers.items())
    try:
        return _classify_memo(table, items)
    except TypeError:  # an unhashable answer (never a valid one)
        return _classify(table, items)


def _classify(table: PainTable, items: tuple[tuple[str, int | bool], ...]) -> _Verdict:
    answers = dict(items)
    worst, worst_rank = Severity.CLEAR, 0
    ids: list[str] = []
    for c in table.classifications:  # the symptom table in file order
        for qid, test, bound in c.conditions:
            if qid not in answers or not condition_holds(test, bound, answers[qid]):
                break
        else:  # every condition holds
            if c.rank > worst_rank:
                worst, worst_rank, ids = c.severity, c.rank, [c.id]
            elif c.severity is worst and worst is not Severity.CLEAR:
                ids.append(c.id)
    return worst, tuple(ids)


# Runners give the same few answer sets over and over, and a verdict depends on nothing else
# (answers equal as keys, like 1 and True, pass the same tests), so verdicts are remembered.
_classify_memo = lru_cache(maxsize=4096)(_classify)
