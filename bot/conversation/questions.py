"""Ask a list of rules questions one at a time (post-session, follow-up, gate, screening)."""

from __future__ import annotations

from bot.conversation.callbacks import Kind
from bot.conversation.numbers import parse_int
from bot.conversation.prompts import Prompt, Result, grid
from bot.i18n import _
from bot.localised import texts
from bot.program.rules import Question
from bot.program.symptoms import InvalidAnswer, check_answer

YES_WORDS = {"yes", "y", "yeah", "yep", "ja", "si", "sí", "oui"}
NO_WORDS = {"no", "n", "nope", "nein", "non"}


def question_prompt(kind: Kind, ref: str, q: Question, intro: str = "") -> Prompt:
    if q.kind == "yes_no":
        rows = grid(kind, f"{ref}:{q.id}", [(texts.YES, "y"), (texts.NO, "n")], 2)
    else:
        opts = [(str(i), str(i)) for i in range(q.min, q.max + 1)]
        per_row = 6 if len(opts) > 8 else len(opts)
        rows = grid(kind, f"{ref}:{q.id}", opts, per_row)
    text = _(q.text)
    if q.kind == "scale" and (q.low_label or q.high_label):
        text += "\n" + texts.SCALE_HINT.format(low=_(q.low_label), high=_(q.high_label))
    return Prompt(f"{intro}\n\n{text}" if intro else text, rows)


def parse_yes_no(raw: str) -> bool | None:
    """A button's y/n or a typed yes/no in a few languages; None when it is neither."""
    s = raw.strip().lower()
    if s in YES_WORDS:
        return True
    if s in NO_WORDS:
        return False
    return None


def parse_value(q: Question, raw: str) -> int | bool:
    """Read a button value or typed text; InvalidAnswer carries the message to show."""
    s = raw.strip().lower()
    if q.kind == "yes_no":
        yes = parse_yes_no(s)
        if yes is None:
            raise InvalidAnswer(texts.USE_BUTTONS)
        return yes
    s = s.removesuffix("/10").strip()
    if (number := parse_int(s, signed=True)) is None:
        raise InvalidAnswer(texts.BAD_NUMBER.format(lo=q.min, hi=q.max))
    try:
        value = check_answer(q, number)
    except InvalidAnswer:
        raise InvalidAnswer(texts.BAD_NUMBER.format(lo=q.min, hi=q.max)) from None
    return value


def accept(
    questions: list[Question], answers: dict[str, int | bool], qid: str | None, raw: str
) -> Result:
    """Record the answer to the current question. `qid` None means typed text (no button)."""
    pending = [q for q in questions if q.id not in answers]
    if not pending:
        return Result(stale=True)
    current = pending[0]
    if qid is not None and qid != current.id:
        return Result(stale=True)  # an older question's button
    try:
        value = parse_value(current, raw)
    except InvalidAnswer as exc:
        return Result(error=str(exc))
    new = {**answers, current.id: value}
    return Result(data={"answers": new}, done=len(pending) == 1)


def next_question(questions: list[Question], answers: dict[str, int | bool]) -> Question | None:
    return next((q for q in questions if q.id not in answers), None)
