"""The coach's roster: who needs attention first, and `/runners` as a few compact messages.

Order (first match wins): red flag, escalated, unreachable, awaiting clearance, open flags, missed
follow-ups, low adherence (< 60 % of prescribed sessions done in 14 days, active runners only),
then paused runners, then everyone else; inside a group the most urgent first, then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import IntEnum

from bot.coach.views import RosterEntry
from bot.localised import texts_coach as t

LOW_ADHERENCE = 0.6


class Attention(IntEnum):
    """Why a runner sits where they do in the roster; lower comes first."""

    RED_FLAG = 0
    ESCALATED = 1
    UNREACHABLE = 2
    AWAITING_CLEARANCE = 3
    OPEN_FLAGS = 4
    MISSED_FOLLOWUPS = 5
    LOW_ADHERENCE = 6
    PAUSED = 7
    OK = 8

    @property
    def key(self) -> str:
        """The key of this group's icon in `texts_coach.ATTENTION_ICON`."""
        return self.name.lower()


def attention(e: RosterEntry) -> Attention:
    if e.status == "red_flag":
        return Attention.RED_FLAG
    if e.status == "escalated":
        return Attention.ESCALATED
    if e.unreachable:
        return Attention.UNREACHABLE
    if e.awaiting_clearance:
        return Attention.AWAITING_CLEARANCE
    if e.open_flags > 0:
        return Attention.OPEN_FLAGS
    if e.missed_followups_7d > 0:
        return Attention.MISSED_FOLLOWUPS
    adherence = e.adherence
    # A paused runner is not expected to train: their adherence says nothing new.
    if e.status != "paused" and adherence is not None and adherence < LOW_ADHERENCE:
        return Attention.LOW_ADHERENCE
    if e.status == "paused":
        return Attention.PAUSED
    return Attention.OK


def needs_attention(e: RosterEntry) -> bool:
    return attention(e) < Attention.PAUSED


def attention_score(e: RosterEntry) -> tuple[int, float, str, int]:
    """Sort key, smaller first: (group, urgency inside the group, name, id)."""
    group = attention(e)
    urgency = 0.0
    if group is Attention.OPEN_FLAGS:
        urgency = -e.open_flags
    elif group is Attention.MISSED_FOLLOWUPS:
        urgency = -e.missed_followups_7d
    elif group is Attention.LOW_ADHERENCE:
        urgency = e.adherence or 0.0
    return (int(group), urgency, e.name.casefold(), e.runner_id)


def order_roster(entries: Iterable[RosterEntry]) -> list[RosterEntry]:
    return sorted(entries, key=attention_score)


def runner_line(e: RosterEntry, today: date) -> str:
    return t.runner_line(e, today, attention(e).key)


def pack(lines: Iterable[str], limit: int = t.TELEGRAM_LIMIT) -> list[str]:
    """Join lines into as few messages as possible, each <= limit, never splitting a line.

    Greedy filling is optimal for keeping the order. A single line longer than the limit (which
    the formatters prevent) is cut rather than sent broken across messages.
    """
    messages: list[str] = []
    current: str | None = None
    for raw in lines:
        line = raw if len(raw) <= limit else raw[: limit - 1] + t.ELLIPSIS
        if current is None:
            current = line
        elif len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
        else:
            messages.append(current)
            current = line
    if current is not None:
        messages.append(current)
    return messages


def roster_text(entries: Sequence[RosterEntry], today: date) -> list[str]:
    """`/runners`: a header, one line per runner (attention first), a hint; split only at 4096."""
    if not entries:
        return [t.ROSTER_EMPTY]
    ordered = order_roster(entries)
    k = sum(1 for e in ordered if needs_attention(e))
    lines = [t.roster_header(len(ordered), k)]
    lines += [runner_line(e, today) for e in ordered]
    lines.append(t.ROSTER_HINT)
    return pack(lines)
