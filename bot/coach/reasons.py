"""Why a decision was made, as a coach reads it: each rule id with its reason in words.

Coaches read "severe pain during the session (red-severe-pain-during)": the reason a clinician
can judge, and the rule id to look up or discuss. The words come from the rules (a
classification's `says`, the counts of an escalate trigger); the templates from `texts_coach`.
A runner never reads these: their notices say the reason only (`bot.telegram.render`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.i18n import _
from bot.localised import texts
from bot.localised import texts_coach as tc
from bot.program.loader import Rules
from bot.program.rules import EscalateWhen, Question


def _trigger_words(w: EscalateWhen) -> str:
    if w.regress_at_or_below_last:
        return tc.WHY_STILL_PAINFUL
    n = w.regressions or 0
    return texts.plural(n, tc.WHY_STEP_BACKS_ONE, tc.WHY_STEP_BACKS, days=w.within_days)


def rule_words(rules: Rules, protocol_id: str) -> dict[str, str]:
    """Rule id -> its reason in words, for the runner's protocol (its own pain rules first)."""
    table = rules.tables.protocols.get(protocol_id)
    pain = table.pain if table is not None else rules.tables.pain
    acts = pain.actions
    shared = rules.symptoms.actions
    words: dict[str, str] = dict(rules.tables.pain.says)
    words.update(pain.says)
    for w in acts.escalate.triggers:
        words.setdefault(w.id or acts.escalate.id, _trigger_words(w))
    words.setdefault(acts.escalate.id, tc.WHY_ESCALATE)
    words[acts.regress.id] = tc.WHY_REGRESS.format(rest=texts.days(acts.regress.rest_days))
    words[shared.red_flag.id] = tc.WHY_RED_FLAG
    words[shared.clearance_needed.id] = tc.WHY_CLEARANCE
    words[shared.coach_linked.id] = tc.WHY_LINKED
    words[shared.runner_resume_after_review.id] = tc.WHY_REVIEW
    words[shared.clearance_claimed.id] = tc.WHY_CLAIM
    words[shared.protocol_switch.id] = tc.WHY_SWITCH
    words[shared.protocol_fallback.id] = tc.WHY_FALLBACK
    words[rules.habits.screening.id] = tc.WHY_SCREENING
    for system in rules.sites.imaging_systems:  # a grade that asks for a clinician at each gate
        for g in system.grades:
            words.setdefault(f"imaging:{g.id}", tc.WHY_IMAGING.format(grade=_(g.label)))
    # The runner's protocol first: an alert written before a switch may name the old one's.
    own = rules.protocols.get(protocol_id)
    for proto in (*([own] if own is not None else []), *rules.protocols.values()):
        words.setdefault(proto.on_finish.id, tc.WHY_DISCHARGE)
        for phase in proto.phases:
            words.setdefault(phase.gate.id, tc.WHY_GATE.format(phase=_(phase.name)))
    return words


def reasons(rules: Rules, protocol_id: str, rule_ids: Iterable[str]) -> str:
    """'severe pain during the session (red-severe-pain-during); …' (the id alone when the
    rules give it no words)."""
    words = rule_words(rules, protocol_id)
    parts = [
        tc.REASON.format(why=words[r], rule=r) if r in words else r for r in dict.fromkeys(rule_ids)
    ]
    return tc.REASON_SEP.join(parts) or tc.NONE


def answer(q: Question | None, qid: str, value: object) -> str:
    """'pain at night: yes', 'pain during the session: 8/10' (the question's label, else its
    text; an unknown question by its id)."""
    label = (q.label or q.text.rstrip("?")) if q is not None else qid
    if value is True:
        return tc.ANSWER.format(label=label, value=tc.YES_WORD)
    if value is False:
        return tc.ANSWER.format(label=label, value=tc.NO_WORD)
    if q is not None and q.kind == "scale":
        return tc.ANSWER_SCALE.format(label=label, value=value, max=q.max)
    return tc.ANSWER.format(label=label, value=value)


def answers(
    rules: Rules, given: dict[str, object], protocol_id: str = "", rule_ids: Iterable[str] = ()
) -> str:
    """The answers that flagged, in words: those the rules that fired ask about (an effort of
    4/10 beside a red flag flagged nothing), else every answer but the zeros and noes; '–' for
    none."""
    table = rules.tables.protocols.get(protocol_id)
    rows = (table.pain if table is not None else rules.tables.pain).classifications
    fired = set(rule_ids)
    asked = {q for c in rows if c.id in fired for q, _, _ in c.conditions}
    parts = [
        answer(rules.question_by_id.get(k), k, v)
        for k, v in given.items()
        if v not in (0, False) and (not asked or k in asked)
    ]
    return ", ".join(parts) or tc.NONE
