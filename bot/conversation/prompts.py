"""A prompt is text plus rows of buttons; a button is a label and its callback data."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.callbacks import Kind, cb


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Result:
    """What an input did: new dialog data, an error to show (nothing saved), or done."""

    data: dict[str, object] = field(default_factory=dict)
    error: str | None = None
    done: bool = False
    stale: bool = False


def grid(
    kind: Kind, ref: str, options: list[tuple[str, str]], per_row: int
) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(label, cb(kind, ref, value)) for label, value in options]
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
