"""Turn a due agenda message and the runner's current state into what Telegram shows.

Pure: the ticker's sender and the tests both call it. Texts come from `bot.texts`; question
texts come from the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.conversation.callbacks import Kind, cb
from bot.conversation.prompts import Button, Prompt, grid
from bot.conversation.questions import question_prompt
from bot.i18n import _, weekday_day_month
from bot.localised import texts
from bot.program import engine
from bot.program.decision import MessageKind
from bot.program.engine import gate_questions
from bot.program.loader import Rules
from bot.program.rules import Question, QuestionStage
from bot.program.state import Overlay, ProgramState
from bot.program.tailored import tailored_tables


def session_buttons(seq: int) -> tuple[tuple[Button, ...], ...]:
    k = Kind.SESSION
    return (
        (
            Button(texts.BTN_DONE, cb(k, seq, "done")),
            Button(texts.BTN_PARTIAL, cb(k, seq, "partial")),
        ),
        (Button(texts.BTN_SKIP, cb(k, seq, "skip")), Button(texts.BTN_MOVE, cb(k, seq, "move"))),
        (Button(texts.BTN_LATER, cb(k, seq, "later")),),
    )


def followup_questions(state: ProgramState, seq: int, rules: Rules) -> list[Question]:
    """The questions of open check `seq`: the 24-hour follow-up of a run, or the red-flag watch
    questions after a session before running. Empty when that check is not open."""
    return [rules.question_by_id[q] for q in engine.followup_questions(state, seq, rules)]


def is_watch_check(state: ProgramState, seq: int) -> bool:
    return any(o.seq == seq and o.watch for o in state.open)


def report_question_list(state: ProgramState, rules: Rules) -> list[Question]:
    """The questions of the symptom check a runner opens at any time (/pain)."""
    return [rules.question_by_id[q] for q in engine.report_questions(state, rules)]


def claim_buttons() -> tuple[tuple[Button, ...], ...]:
    return ((Button(texts.BTN_CLAIM_CLEARED, cb(Kind.CONFIRM, "claim", "y")),),)


def symptom_offer() -> Prompt:
    button = Button(texts.BTN_SYMPTOM_CHECK, cb(Kind.CONFIRM, "pain", "y"))
    return Prompt(texts.SYMPTOM_OFFER, ((button,),))


def post_questions(state: ProgramState, rules: Rules) -> list[Any]:
    return rules.questions_for(QuestionStage.POST_SESSION, rules.site(state.profile.site_id))


def gate_question_list(state: ProgramState, phase_id: str, rules: Rules) -> list[Any]:
    proto = rules.protocols[state.protocol_id]
    site = rules.site(state.profile.site_id)
    return [
        rules.question_by_id[q] for q in gate_questions(proto.phase(phase_id).gate, site, rules)
    ]


def _why(
    rule_ids: Sequence[str], rules: Rules, protocol_id: str = "", overlay: Overlay | None = None
) -> str:
    proto = rules.tables.protocols.get(protocol_id)
    if proto is not None and overlay is not None:  # a coach's pain threshold says why too
        proto = tailored_tables(proto, overlay, rules)
    says = (proto.pain if proto is not None else rules.tables.pain).says  # its own pain rules
    found = [_(says[r]) for r in rule_ids if r in says]
    return ", ".join(found) or texts.WHY_ANSWERS


# Notices whose words name a run level, and what they say instead in a phase without levels.
_NO_LEVEL = {"regressed": "regressed_no_run", "coach_regress_bottom": "coach_regress_no_levels"}


def notice(
    payload: dict[str, Any], state: ProgramState | None, rules: Rules, *, has_coach: bool = True
) -> str:
    """A runner notice in words. `has_coach` is whether a coach is linked at send time: without
    one, nobody was told, and the runner hears so and how to link a clinician."""
    code = str(payload.get("code", ""))
    if code == "tailored" and state is not None:
        return _tailored_notice(payload, state, rules)
    if payload.get("level") is None and code in _NO_LEVEL:
        code = _NO_LEVEL[code]  # a phase before running: no level to name, no running to stop
    template = texts.NOTICES.get(code) if has_coach else None
    template = template or texts.NOTICES_NO_COACH.get(code) or texts.NOTICES.get(code)
    if template is None:
        return ""
    # Runners read the reason (the classifications' words, `why`), never a rule id: the ids are
    # for the coach (alert, /runner, export).
    rule_ids = list(payload.get("rules", []))
    protocol_id = state.protocol_id if state else ""
    if str(payload.get("protocol", "")) in rules.protocols:  # a switch names the new protocol
        protocol_id = str(payload["protocol"])
    level = payload.get("level")
    if level is None and state is not None:
        ph = rules.protocols[state.protocol_id].phase(state.phase_id)
        level = ph.levels[state.level].id if ph.levels else None
    phase_name = ""
    intro = ""
    if "phase" in payload and protocol_id:
        # A notice written before a protocol switch may name a phase of the old protocol.
        found = [p for p in rules.protocols[protocol_id].phases if p.id == payload["phase"]]
        if found:
            phase_name, intro = _(found[0].name), _(found[0].intro)
    if code in ("coach_kept_stop", "coach_cleared_stop") and level is None:
        level_text = texts.RESTART_SAME_PHASE
    else:
        level_text = texts.level_label(rules, protocol_id, level) if protocol_id else str(level)
    who = texts.WHO.get(str(payload.get("by", "coach")), texts.WHO["coach"])
    rest_days = payload.get("rest_days", "")
    counted = isinstance(rest_days, int) and rest_days > 0
    rest = texts.REST_AFTER.format(days=texts.days(rest_days)) if counted else ""
    program = rules.protocols.get(str(payload.get("protocol", "")))
    at_level = texts.AT_LEVEL.format(level=level_text) if payload.get("level") else ""
    return template.format(
        level=level_text,
        who=who,
        Who=who[:1].upper() + who[1:],
        rest=rest,
        why=_why(rule_ids, rules, protocol_id, state.overlay if state else None),
        rest_days=texts.days(rest_days) if isinstance(rest_days, int) else rest_days,
        clear=payload.get("clear", ""),
        needed=payload.get("needed", ""),
        phase=phase_name,
        intro=intro,
        message=_(str(payload.get("message", ""))),
        day=payload.get("day", ""),
        days=payload.get("days", ""),
        coach=payload.get("coach", ""),
        text=payload.get("text", ""),
        program=program.name if program is not None else "",
        at_level=at_level,
    ).strip()


def render_runner(
    kind: MessageKind,
    payload: dict[str, Any],
    state: ProgramState | None,
    rules: Rules,
    *,
    has_coach: bool = True,
) -> Prompt | None:
    """The message for a runner-facing agenda row, or None when there is nothing to say.

    `has_coach`: whether the runner has a coach now (notices that would say "your coach has
    been told" say otherwise without one)."""
    if kind is MessageKind.SESSION_REMINDER:
        if state is None or state.next is None:
            return None
        return Prompt(texts.reminder(state.next.prescription), session_buttons(state.next.seq))
    if kind is MessageKind.CHECKIN_NUDGE:
        seq = int(payload["seq"])
        return Prompt(texts.CHECKIN_NUDGE, session_buttons(seq))
    if kind is MessageKind.FOLLOWUP:
        if state is None:
            return None
        seq = int(payload["seq"])
        qs = followup_questions(state, seq, rules)
        if not qs:
            return None
        day = next((o.day for o in state.open if o.seq == seq), None)
        intro = texts.WATCH_INTRO if is_watch_check(state, seq) else texts.FOLLOWUP_INTRO
        intro = intro.format(day=weekday_day_month(day) if day else "")
        return question_prompt(Kind.FOLLOWUP, str(seq), qs[0], intro)
    if kind is MessageKind.FOLLOWUP_NUDGE:
        watch = state is not None and is_watch_check(state, int(payload.get("seq", -1)))
        return Prompt(texts.WATCH_NUDGE if watch else texts.FOLLOWUP_NUDGE)
    if kind is MessageKind.GATE_CHECK:
        if state is None:
            return None
        phase_id = str(payload["phase"])
        qs = gate_question_list(state, phase_id, rules)
        name = _(rules.protocols[state.protocol_id].phase(phase_id).name)
        if not qs:
            return None
        return question_prompt(Kind.GATE, phase_id, qs[0], texts.GATE_INTRO.format(phase=name))
    if kind is MessageKind.RUNNER_NOTICE:
        text = notice(payload, state, rules, has_coach=has_coach)
        if not text:
            return None
        if payload.get("code") == "awaiting_clearance":
            return Prompt(text, claim_buttons())
        return Prompt(text)
    if kind is MessageKind.HABIT:
        habit = next((h for h in rules.habits.habits if h.id == payload.get("habit")), None)
        if habit is None:
            return None
        if habit.question:
            q = rules.question_by_id[habit.question]
            return question_prompt(Kind.HABIT, habit.id, q, _(habit.text))
        return Prompt(_(habit.text))
    return None


def yes_no(kind: Kind, ref: str) -> tuple[tuple[Button, ...], ...]:
    return grid(kind, ref, [(texts.YES, "y"), (texts.NO, "n")], 2)


def _tailored_notice(payload: dict[str, Any], state: ProgramState, rules: Rules) -> str:
    """What a coach's tailoring changed, in the runner's words."""
    who = texts.WHO.get(str(payload.get("by", "coach")), texts.WHO["coach"])
    changes = texts.tailor_changes(
        rules, state.protocol_id, dict(payload.get("overlay", {})), list(payload.get("changed", []))
    )
    rule_ids = list(payload.get("rules", []))
    return texts.TAILORED.format(
        Who=who[:1].upper() + who[1:],
        version=payload.get("version", ""),
        changes=changes,
        rule=rule_ids[0] if rule_ids else "",
    )
