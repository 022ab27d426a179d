"""A run session's prescription as a timeline of audio cues (pure: no I/O, no clock).

The timeline starts with a short lead-in countdown, so the runner can press play, pocket the
phone and be ready; then a cue at every switch between running and walking; then the end cue.
Everything between cues is silence, which is what lets the voice message keep playing with the
phone locked and still cost almost nothing to send.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from bot.program.rules import SessionKind
from bot.program.state import Prescription

__all__ = ["LEAD_IN_S", "TAIL_S", "Cue", "CueKind", "TimerPlan", "timer_plan"]

# Seconds before the first "run" cue; the countdown ticks fill its last seconds.
LEAD_IN_S = 5
COUNTDOWN_TICKS = 3
# Seconds of audio after the end cue, so the triple beep is not cut off.
TAIL_S = 2
# Part of the cache key: bump when the sound of a cue changes, so old renders are not reused.
SOUND_VERSION = 1


class CueKind(StrEnum):
    COUNT = "count"  # a lead-in tick
    RUN = "run"  # start running: two rising beeps
    WALK = "walk"  # start walking: one low beep
    END = "end"  # the session is over: three beeps


@dataclass(frozen=True, slots=True)
class Cue:
    at_s: int  # seconds from the start of the audio
    kind: CueKind


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """The cues of one session, and how long the audio lasts."""

    cues: tuple[Cue, ...]
    session_s: int  # from the first "run" cue to the end cue
    run_s: int
    walk_s: int
    repeats: int

    @property
    def total_s(self) -> int:
        return LEAD_IN_S + self.session_s + TAIL_S

    @property
    def key(self) -> str:
        """Same cues, same key: what the rendered audio is cached under."""
        text = f"v{SOUND_VERSION};" + ";".join(f"{c.at_s}:{c.kind.value}" for c in self.cues)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def timer_plan(rx: Prescription) -> TimerPlan | None:
    """The timer for a run session; None for other sessions (cross-training, strength)."""
    if rx.kind is not SessionKind.RUN or rx.run_s <= 0:
        return None
    repeats = max(1, rx.repeats)
    walk_s = max(0, rx.walk_s)
    first = LEAD_IN_S - COUNTDOWN_TICKS
    cues = [Cue(first + tick, CueKind.COUNT) for tick in range(COUNTDOWN_TICKS)]
    at = LEAD_IN_S
    # The session's own shape (rules: walk_first, warm-up and cool-down walks): each stretch
    # starts with its cue, so a walk-first block opens with the walk beep.
    stretches: list[tuple[CueKind, int]] = []
    if rx.warmup_walk_min:
        stretches.append((CueKind.WALK, rx.warmup_walk_min * 60))
    block = [(CueKind.RUN, rx.run_s), (CueKind.WALK, walk_s)]
    if rx.walk_first:
        block.reverse()
    stretches.extend(block * repeats)
    if rx.cooldown_walk_min:
        stretches.append((CueKind.WALK, rx.cooldown_walk_min * 60))
    for kind, seconds in stretches:
        if seconds <= 0:
            continue
        if kind is not CueKind.WALK or cues[-1].kind is not CueKind.WALK:  # walks in a row: one
            cues.append(Cue(at, kind))
        at += seconds
    cues.append(Cue(at, CueKind.END))
    return TimerPlan(
        cues=tuple(cues),
        session_s=at - LEAD_IN_S,
        run_s=rx.run_s,
        walk_s=walk_s,
        repeats=repeats,
    )
