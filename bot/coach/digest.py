"""The weekly digest and the `/runner <id>` detail text.

The digest is one message per coach (more only when Telegram's 4096-character limit forces it,
split between lines): a header with the week and the counts, one line per runner in attention
order, a footer. The detail shows the runner's status, the last five sessions and the decision
trail with rule ids and who decided, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot import texts_coach as t
from bot.coach.roster import attention, needs_attention, order_roster, pack, runner_line
from bot.coach.views import DecisionLine, RosterEntry, SessionPoint

SESSIONS_SHOWN = 5
DECISIONS_SHOWN = 15


def digest_messages(
    coach_name: str,
    entries: Sequence[RosterEntry],
    *,
    week_start: date,
    today: date,
    open_alerts: int | None = None,
) -> list[str]:
    """The weekly digest, batched into as few messages as possible (each <= 4096 characters);
    `open_alerts`: how many alerts still wait on the coach (None: not counted)."""
    ordered = order_roster(entries)
    header = t.digest_header(
        coach_name,
        week_start,
        n=len(ordered),
        flags=sum(e.open_flags for e in ordered),
        missed=sum(e.missed_followups_7d for e in ordered),
        attention=sum(1 for e in ordered if needs_attention(e)),
    )
    if open_alerts is not None:
        header = f"{header}\n{t.DIGEST_OPEN_ALERTS.format(n=open_alerts)}"
    if not ordered:
        return pack([header, t.DIGEST_NONE])
    return pack([header, *(runner_line(e, today) for e in ordered), t.DIGEST_FOOTER])


def detail_text(
    entry: RosterEntry,
    decisions: Sequence[DecisionLine],
    points: Sequence[SessionPoint],
    today: date,
) -> str:
    """`/runner <id>`: status, last sessions, decision trail; at most 4096 characters."""
    lines = t.detail_status(entry, today, attention(entry).key)
    lines.append("")
    recent = sorted(points, key=lambda p: p.day, reverse=True)[:SESSIONS_SHOWN]
    if recent:
        lines.append(t.DETAIL_SESSIONS)
        lines += [t.session_line(p) for p in recent]
    else:
        lines.append(t.DETAIL_NO_SESSIONS)
    lines.append("")
    if not decisions:
        lines.append(t.DETAIL_NO_TRAIL)
        return _fit("\n".join(lines))

    lines.append(t.DETAIL_TRAIL)
    head = "\n".join(lines)
    trail = [
        t.decision_line(d)
        for d in sorted(decisions, key=lambda d: d.at, reverse=True)[:DECISIONS_SHOWN]
    ]
    shown = len(trail)
    while True:
        body = [head, *trail[:shown]]
        hidden = len(decisions) - shown
        if hidden:
            body.append(t.more(hidden))
        text = "\n".join(body)
        if len(text) <= t.TELEGRAM_LIMIT or shown == 0:
            return _fit(text)
        shown -= 1


def _fit(text: str) -> str:
    """A last guard: the formatters keep every field short, so this never cuts in practice."""
    if len(text) <= t.TELEGRAM_LIMIT:
        return text
    return text[: t.TELEGRAM_LIMIT - 1] + t.ELLIPSIS
