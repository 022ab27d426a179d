"""The coach's tailoring menu as prompts: the Tailor button under /runner, the choice of field,
the allowed values of one field (from tailoring.yaml's bounds), the training-days toggles, and
the overlay line of the coach's runner view.

Callback data: `v1|ko|<runner id>|<value>`, value `m` (open the menu), `f.<code>` (choose a
field), `v.<code>.<value>` (set it; `d` = back to the rules), `w.<day>` (toggle a training day),
`w.save`, `x` (close). Field codes are two letters so the data stays far below 64 bytes; a start
level is sent as its index in the first run phase, not its id."""

from __future__ import annotations

from bot.conversation.callbacks import Kind, cb
from bot.conversation.prompts import Button, Prompt
from bot.localised import texts
from bot.localised import texts_coach as tc
from bot.program.engine import start_levels
from bot.program.loader import Rules
from bot.program.state import Overlay, ProgramState

CODES = {
    "sl": "start_level",
    "hs": "hold_sessions",
    "hd": "hold_days",
    "rd": "rest_days",
    "wd": "weekdays",
    "pt": "pain_threshold",
    "mf": "maintenance_factor",
}
FIELD_CODE = {v: k for k, v in CODES.items()}
DEFAULT = "d"


def tailor_rows(runner_id: int) -> tuple[tuple[Button, ...], ...]:
    """The Tailor button under the coach's runner view."""
    return ((Button(tc.BTN_TAILOR, cb(Kind.TAILOR, runner_id, "m")),),)


def allowed(field: str, state: ProgramState, rules: Rules) -> list[tuple[str, str]]:
    """(label, value) of every value a coach may choose for this field, within the bounds."""
    t = rules.tailoring
    if field == "start_level":
        levels = start_levels(rules.protocols[state.protocol_id], rules)
        return [
            (texts.level_label(rules, state.protocol_id, lv), str(j)) for j, lv in enumerate(levels)
        ]
    if field == "maintenance_factor":
        m = t.maintenance
        lo, hi = round(m.factor_min * 100), round(m.factor_max * 100)
        steps = list(range(lo, hi + 1, 10)) or [lo]
        if steps[-1] != hi:
            steps.append(hi)
        return [(f"{p}%", str(p)) for p in steps]
    bounds = {
        "hold_sessions": t.hold_sessions,
        "hold_days": t.hold_days,
        "rest_days": t.rest_days_between_runs,
        "pain_threshold": t.pain_threshold,
    }[field]
    return [(str(v), str(v)) for v in range(bounds.min, bounds.max + 1)]


def value_of(field: str, raw: str, state: ProgramState, rules: Rules) -> object:
    """A pressed value as the overlay holds it (None: back to the rules). ValueError if the
    value is not one the menu offers (a forged or out-of-date press)."""
    if raw == DEFAULT:
        return None
    if raw not in {v for _, v in allowed(field, state, rules)}:
        raise ValueError(raw)
    if field == "start_level":
        return start_levels(rules.protocols[state.protocol_id], rules)[int(raw)]
    if field == "maintenance_factor":
        return int(raw) / 100
    return int(raw)


def _now_value(field: str, ov: Overlay | None, state: ProgramState, rules: Rules) -> str:
    value = getattr(ov, field) if ov is not None else None
    if value is None:
        return tc.TAILOR_STANDARD
    return texts.tailor_value(rules, state.protocol_id, field, value)


def current_text(state: ProgramState, rules: Rules) -> str:
    """The overlay in the coach's words (or that nothing is tailored)."""
    line = overlay_line(state, rules)
    return line or tc.TAILOR_NONE


def overlay_line(state: ProgramState, rules: Rules) -> str:
    """The coach's runner view: the overlay with its version, who set it and the rule id."""
    ov = state.overlay
    if ov is None or not ov.tailored():
        return ""
    values = {f: _now_value(f, ov, state, rules) for f in ov.tailored()}
    return tc.OVERLAY_LINE.format(
        version=ov.version,
        who=ov.by,
        rule=rules.tailoring.id,
        fields=tc.overlay_fields(values),
    )


def menu(name: str, runner_id: int, state: ProgramState, rules: Rules) -> Prompt:
    fields = [f for f in CODES.values() if f != "start_level" or allowed(f, state, rules)]
    buttons = [
        Button(tc.TAILOR_LABELS[f], cb(Kind.TAILOR, runner_id, f"f.{FIELD_CODE[f]}"))
        for f in fields
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((Button(tc.BTN_TAILOR_DONE, cb(Kind.TAILOR, runner_id, "x")),))
    text = tc.TAILOR_MENU.format(
        name=name, id=runner_id, rule=rules.tailoring.id, current=current_text(state, rules)
    )
    return Prompt(text, tuple(rows))


def pick(name: str, runner_id: int, field: str, state: ProgramState, rules: Rules) -> Prompt:
    code = FIELD_CODE[field]
    options = allowed(field, state, rules)
    buttons = [Button(label, cb(Kind.TAILOR, runner_id, f"v.{code}.{v}")) for label, v in options]
    per_row = 2 if field == "start_level" else 5
    rows = [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]
    rows.append(
        (
            Button(tc.BTN_STANDARD, cb(Kind.TAILOR, runner_id, f"v.{code}.{DEFAULT}")),
            Button(tc.BTN_TAILOR_BACK, cb(Kind.TAILOR, runner_id, "m")),
        )
    )
    text = tc.TAILOR_PICK.format(
        name=name,
        id=runner_id,
        field=tc.TAILOR_LABELS[field],
        now=_now_value(field, state.overlay, state, rules),
    )
    return Prompt(text, tuple(rows))


def days(name: str, runner_id: int, chosen: set[int]) -> Prompt:
    buttons = [
        Button(("✅ " if d in chosen else "") + day, cb(Kind.TAILOR, runner_id, f"w.{d}"))
        for d, day in enumerate(texts.WEEKDAY_SHORT)
    ]
    rows = [tuple(buttons[:4]), tuple(buttons[4:])]
    rows.append(
        (
            Button(tc.BTN_SAVE_DAYS, cb(Kind.TAILOR, runner_id, "w.save")),
            Button(tc.BTN_STANDARD, cb(Kind.TAILOR, runner_id, f"v.wd.{DEFAULT}")),
            Button(tc.BTN_TAILOR_BACK, cb(Kind.TAILOR, runner_id, "m")),
        )
    )
    shown = texts.days_label(chosen) if chosen else "–"
    return Prompt(tc.TAILOR_DAYS.format(name=name, id=runner_id, days=shown), tuple(rows))
