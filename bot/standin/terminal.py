"""The pure part of the offline sandbox's terminal front end (``boneload try``).

``render_message`` turns what the bot sent into text for the terminal, with the inline
buttons numbered; ``parse_input`` turns a typed line into an ``Action``. Neither does any
I/O, so the read-eval loop around them stays thin and these stay unit-testable.

Typed lines mean:

* a number, when the last message has buttons: press that button;
* ``k1``, ``k2``...: press a reply-keyboard button (the keyboard under the text field, shown as
  ``⌨ [k1] 🩹 Report pain``): it sends its label as text, as in Telegram;
* ``/wait 1d``, ``/wait 24h``, ``/wait 30m``, ``/wait 2d6h`` (also ``w`` and ``s``, and
  decimals like ``1.5h``): advance the sandbox clock;
* ``/quit``: leave;
* ``\\`` followed by anything: send the rest literally (so ``\\3`` sends "3" even when there
  are buttons, and ``\\/wait`` sends "/wait");
* anything else, other ``/commands`` included: text sent to the bot as the user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.standin.records import Button, SentMessage


@dataclass(frozen=True)
class SendText:
    text: str


@dataclass(frozen=True)
class PressButton:
    number: int
    text: str
    callback_data: str


@dataclass(frozen=True)
class AdvanceClock:
    delta: timedelta


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Nothing:
    """An empty line: nothing to send (Telegram refuses empty messages anyway)."""


@dataclass(frozen=True)
class InputError:
    """The line could not be understood; ``message`` says why and what to type instead."""

    message: str


Action = SendText | PressButton | AdvanceClock | Quit | Nothing | InputError

_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)
_WAIT_USAGE = "Usage: /wait 1d, /wait 24h, /wait 30m or /wait 2d6h (w, d, h, m and s units)."
# A sandbox jump of more than a year is surely a typo, and timedelta overflows past ~2.7M years.
_MAX_WAIT = timedelta(days=366)


def flat_buttons(rows: Sequence[Sequence[Button]]) -> list[Button]:
    """Buttons in the order they are numbered: row by row, left to right."""
    return [button for row in rows for button in row]


def render_message(message: SentMessage) -> str:
    """The message as the terminal shows it: text, attachment, then numbered buttons.

    Each keyboard row is one line, numbering continues across rows:
    ``[1] Done  [2] Skip``.
    """
    lines: list[str] = []
    if message.document is not None:
        lines.append(f"📎 {message.document.filename}")
    if message.photo is not None:
        lines.append(f"🖼 {message.photo.filename}")
    if message.voice is not None:
        seconds = message.voice_duration or 0
        size_kb = len(message.voice.content) // 1024
        lines.append(f"🔊 voice {seconds // 60}:{seconds % 60:02d} ({size_kb} KB, session timer)")
    body = message.plain_text
    if body:
        lines.append(body)
    number = 0
    for row in message.buttons:
        labels = []
        for text, _ in row:
            number += 1
            labels.append(f"[{number}] {text}")
        if labels:
            lines.append("  ".join(labels))
    key = 0
    for labels in message.reply_keyboard:
        numbered = []
        for label in labels:
            key += 1
            numbered.append(f"[k{key}] {label}")
        lines.append("⌨ " + "  ".join(numbered))
    if message.deleted:
        lines.append("(deleted)")
    elif message.edited:
        lines.append("(edited)")
    return "\n".join(lines)


def parse_duration(text: str) -> timedelta | str:
    """``"2d6h"`` → ``timedelta(days=2, hours=6)``; a string explaining the problem otherwise."""
    compact = text.strip()
    if not compact:
        return _WAIT_USAGE
    total = timedelta()
    pos = 0
    for match in _DURATION_PART.finditer(compact):
        if compact[pos : match.start()].strip():
            break
        amount, unit = float(match.group(1)), match.group(2).lower()
        try:
            total += timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            return f"{text.strip()!r} is far too long. {_WAIT_USAGE}"
        pos = match.end()
    if pos == 0 or compact[pos:].strip():
        return f"Can't read {text.strip()!r} as a duration. {_WAIT_USAGE}"
    if total <= timedelta():
        return f"The wait must be longer than zero. {_WAIT_USAGE}"
    if total > _MAX_WAIT:
        return f"That is more than a year; wait at most {_MAX_WAIT.days}d at a time."
    return total


def parse_input(
    line: str, last_buttons: Sequence[Sequence[Button]], keyboard: Sequence[Sequence[str]] = ()
) -> Action:
    """What a line typed in the sandbox means, given the last message's button rows and the
    chat's reply keyboard."""
    stripped = line.strip()
    if not stripped:
        return Nothing()
    labels = [label for row in keyboard for label in row]
    if re.fullmatch(r"[kK][0-9]{1,2}", stripped) and labels:
        number = int(stripped[1:])
        if not 1 <= number <= len(labels):
            return InputError(f"There is no keyboard button {stripped}: k1–k{len(labels)}.")
        return SendText(labels[number - 1])
    if stripped.startswith("\\"):
        literal = stripped[1:].strip()
        return SendText(literal) if literal else Nothing()

    command, _, rest = stripped.partition(" ")
    command = command.lower()
    if command == "/quit":
        return Quit()
    if command == "/wait":
        duration = parse_duration(rest)
        if isinstance(duration, str):
            return InputError(duration)
        return AdvanceClock(duration)

    buttons = flat_buttons(last_buttons)
    if stripped.isdecimal() and buttons:
        number = int(stripped)
        if not 1 <= number <= len(buttons):
            return InputError(
                f"There is no button {number}: the last message has buttons 1–{len(buttons)}. "
                f"To send {stripped} as text, type \\{stripped}."
            )
        text, data = buttons[number - 1]
        if data is None:
            return InputError(f"Button {number} ({text}) opens a link; there is nothing to press.")
        return PressButton(number, text, data)
    return SendText(stripped)
