"""Compact, versioned callback data for inline buttons: `v1|<kind>|<ref>|<value>`.

Telegram allows 64 bytes. Buttons never carry authority: the handler re-checks who pressed and
whether the question is still open, so a forged or stale press changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

VERSION = "v1"
MAX_BYTES = 64


class Kind(StrEnum):
    ONBOARD = "ob"  # onboarding step answer: ref = step, value = choice
    SESSION = "s"  # session reminder: ref = seq, value = done|partial|skip|move
    POST = "p"  # post-session question: ref = seq:question, value = answer
    FOLLOWUP = "f"  # follow-up question: ref = seq:question, value = answer
    GATE = "g"  # gate question: ref = phase:question, value = y|n
    HABIT = "h"  # habit question: ref = habit:question, value
    CONFIRM = "c"  # confirmations: ref = what (delete, unlink), value = yes|no
    SETTINGS = "st"  # settings menu: ref = field, value
    COACH = "k"  # coach alert actions: ref = runner id, value = verb
    CLEARANCE = "kc"  # coach clearance answer: ref = runner id, value = yes|no
    RESUME = "kr"  # "Cleared: resume at …" on a stop: ref = runner.version, value = option id
    RESUME_CONFIRM = "ky"  # the confirmation's Confirm: ref = runner.version, value = option id
    RESUME_CANCEL = "kn"  # the confirmation's Cancel: ref = runner.version, value = option id
    # Coach, about a runner: ref = runner id, value = m (write to them) | x (cancel) | d (seen)
    THREAD = "kt"
    TO_COACH = "tc"  # runner: send the pending text to the coach: ref = token, value = y|n
    SCREEN = "sc"  # energy screening: ref = question, value
    REPORT = "r"  # symptom report (/pain): ref = report:question, value = answer
    TAILOR = "ko"  # a coach's tailoring menu: ref = runner id, value = m | f.<f> | v.<f>.<v> | x
    # A coach's protocol switch from /runner: ref = runner.version, value = protocol (or @index)
    PROTOCOL = "kp"  # the "Protocol" button: list the protocols
    PROTOCOL_PICK = "kq"  # one protocol of the list: ask to confirm
    PROTOCOL_CONFIRM = "kw"  # Confirm: switch
    PROTOCOL_CANCEL = "kx"  # Cancel: nothing changes


class BadCallback(ValueError):
    """Not our format, another version, or too long: answered as a stale button."""


@dataclass(frozen=True, slots=True)
class Callback:
    kind: Kind
    ref: str
    value: str

    def encode(self) -> str:
        data = "|".join((VERSION, self.kind.value, self.ref, self.value))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data


def decode(data: str | None) -> Callback:
    if not data or len(data.encode()) > MAX_BYTES:
        raise BadCallback("empty or too long")
    parts = data.split("|")
    if len(parts) != 4 or parts[0] != VERSION:
        raise BadCallback("unknown format")
    try:
        kind = Kind(parts[1])
    except ValueError:
        raise BadCallback("unknown kind") from None
    return Callback(kind, parts[2], parts[3])


def cb(kind: Kind, ref: object, value: object) -> str:
    return Callback(kind, str(ref), str(value)).encode()
