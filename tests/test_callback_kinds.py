"""Every callback kind has its own code: a StrEnum with a repeated value silently makes the
second name an alias of the first, and its presses go to the other handler."""

from __future__ import annotations

from bot.conversation.callbacks import Kind


def test_callback_kind_codes_are_unique() -> None:
    declared = [v for k, v in vars(Kind).items() if not k.startswith("_") and isinstance(v, Kind)]
    assert len(Kind.__members__) == len(set(m.value for m in Kind.__members__.values()))
    assert len(declared) == len(Kind.__members__)
