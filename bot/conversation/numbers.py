"""The one parser for every number a user types or a button carries.

`str.isdigit()` is true for "²", "①" and other scripts' digits, which `int()` then rejects (or,
for "٣", reads as 3): a handler that checks with one and converts with the other crashes.
Only ASCII digits count here, optionally with a leading minus, and anything else is None.
"""

from __future__ import annotations

import re

__all__ = ["parse_int"]

_INT = re.compile(r"-?[0-9]+", re.ASCII)
_UINT = re.compile(r"[0-9]+", re.ASCII)


def parse_int(
    text: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    signed: bool = False,
    max_digits: int = 18,
) -> int | None:
    """`text` (surrounding spaces ignored) as an int within [lo, hi], or None."""
    s = text.strip()
    if not (_INT if signed else _UINT).fullmatch(s) or len(s.lstrip("-")) > max_digits:
        return None
    value = int(s)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return None
    return value
