"""Checks that judge as they go, and free text that sounds like a symptom.

A red-flag answer acts the moment it is given: `red_flag_now` tells the handler to submit the
flow with the answers so far instead of asking the rest. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.program.engine import gate_symptoms
from bot.program.loader import Rules
from bot.program.rules import Severity
from bot.program.symptoms import classify

# A small English word list: enough to offer the check, never to decide anything.
_SYMPTOM = re.compile(
    r"\b(hurts?|hurting|sore(ness)?|pain(s|ful)?|aches?|aching|achy|swollen|swelling|swells?"
    r"|limp(s|ing|ed)?|tender(ness)?|throb\w*|twinge\w*|bruis\w*|stabbing|burning)\b",
    re.IGNORECASE,
)
_DENIED = re.compile(
    r"\b(no|not|without|zero|free of)\s+(\w+\s+)?(pain|hurt|sore|ache|swelling|limp)"
    r"|\bpain[- ]free\b|\bdoesn'?t hurt\b",
    re.IGNORECASE,
)


def looks_like_symptom(text: str) -> bool:
    """'my shin hurts at night', "it's sore", 'swollen', 'limping' -> True; 'no pain' -> False."""
    return bool(_SYMPTOM.search(text)) and not _DENIED.search(text)


def red_flag_now(
    kind: str, answers: Mapping[str, int | bool], rules: Rules, protocol_id: str | None = None
) -> bool:
    """Do the answers so far already amount to a red flag (by the runner's protocol's table)?
    A gate's 'no' counts as the symptom it implies ('no, pressing on the bone still hurts')."""
    judged = gate_symptoms(dict(answers), rules) if kind == "gate" else answers
    if not judged:
        return False
    severity, _ = classify(judged, rules, protocol_id)
    return severity is Severity.RED_FLAG
