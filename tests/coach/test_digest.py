"""The weekly digest (batched, attention first) and the `/runner <id>` detail text."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot import texts_coach as t
from bot.coach import digest
from bot.coach.digest import detail_text, digest_messages
from bot.coach.views import DecisionLine, SessionPoint
from tests.coach.entries import TODAY, entry

WEEK = date(2026, 7, 6)


def decision(i: int, **changes: Any) -> DecisionLine:
    base = DecisionLine(
        at=datetime(2026, 7, 1, 9, 0) + timedelta(hours=i),
        action="held",
        rule=f"progression.rule_{i:02d}",
        actor="engine",
        detail="pain 3/10 during",
    )
    return replace(base, **changes)


# --- the digest ----------------------------------------------------------------------------------


def test_digest_content_with_a_fixed_clock() -> None:
    entries = [
        entry(4, name="Dev"),
        entry(2, name="Ben", status="paused", prescribed_14d=0, done_14d=0),
        entry(
            1,
            name="Anna K",
            site="Femoral neck",
            high_risk=True,
            status="red_flag",
            open_flags=1,
            last_session=TODAY - timedelta(days=1),
            last_pain_during=6,
            last_pain_24h=None,
        ),
        entry(3, name="Cleo", missed_followups_7d=2, done_14d=2),
    ]
    assert digest_messages("Coach Maria", entries, week_start=WEEK, today=TODAY) == [
        "📋 Weekly digest, 06–12 Jul 2026\n"
        "Hi Coach Maria. Runners: 4 · need attention: 2 · open flags: 1 · "
        "missed follow-ups (7 days): 2\n"
        f"{t.LEGEND}\n"
        "🛑 Anna K (#1) · Femoral neck ⚠️ · Return to run (level 3 of 8) · RED FLAG · 🚩1 open"
        " · last yesterday · pain 6, 24h – · 5/6 done\n"
        "❗ Cleo (#3) · Tibia (shaft) · Return to run (level 3 of 8) · 2 missed follow-ups"
        " · last 3d ago · pain 1, 24h 0 · 2/6 done\n"
        "⏸ Ben (#2) · Tibia (shaft) · Return to run (level 3 of 8) · paused"
        " · last 3d ago · pain 1, 24h 0\n"
        "✅ Dev (#4) · Tibia (shaft) · Return to run (level 3 of 8)"
        " · last 3d ago · pain 1, 24h 0 · 5/6 done\n"
        f"{t.DIGEST_FOOTER}"
    ]


def test_digest_with_no_runners_is_one_message_pointing_to_invite() -> None:
    (message,) = digest_messages("Maria", [], week_start=WEEK, today=TODAY)
    assert "Runners: 0" in message
    assert "/invite" in message


@pytest.mark.parametrize(
    ("week_start", "label"),
    [
        (date(2026, 7, 6), "06–12 Jul 2026"),
        (date(2026, 6, 29), "29 Jun – 05 Jul 2026"),
        (date(2025, 12, 29), "29 Dec 2025 – 04 Jan 2026"),
    ],
)
def test_week_label(week_start: date, label: str) -> None:
    assert t.week_label(week_start) == label
    (message,) = digest_messages("M", [entry()], week_start=week_start, today=TODAY)
    assert message.startswith(f"📋 Weekly digest, {label}\n")


def test_digest_for_300_runners_splits_with_every_runner_exactly_once() -> None:
    statuses = ["active", "active", "active", "paused", "escalated", "red_flag"]
    entries = [
        entry(
            i,
            name=f"Runner {i:03d} with a longer chosen name",
            status=statuses[i % len(statuses)],
            open_flags=i % 4 == 0,
            missed_followups_7d=i % 7 == 0,
            high_risk=i % 5 == 0,
        )
        for i in range(1, 301)
    ]
    messages = digest_messages("Maria", entries, week_start=WEEK, today=TODAY)
    assert len(messages) > 1
    assert all(len(m) <= t.TELEGRAM_LIMIT for m in messages)
    assert messages[0].startswith("📋 Weekly digest")
    assert messages[-1].endswith(t.DIGEST_FOOTER)

    lines = [line for m in messages for line in m.split("\n")]
    runner_lines = [line for line in lines if "(#" in line]
    assert len(runner_lines) == 300
    for i in range(1, 301):
        assert sum(f"(#{i})" in line for line in runner_lines) == 1
    # the split keeps attention order across messages: all red flags come first
    first_non_red = next(k for k, line in enumerate(runner_lines) if not line.startswith("🛑"))
    assert all(not line.startswith("🛑") for line in runner_lines[first_non_red:])
    # as few messages as possible
    for a, b in itertools.pairwise(messages):
        assert len(a) + 1 + len(b.split("\n")[0]) > t.TELEGRAM_LIMIT
    # counts in the header cover everyone
    assert f"open flags: {sum(e.open_flags for e in entries)}" in messages[0]


def test_digest_shows_no_free_text_and_no_line_breaks_from_names() -> None:
    entries = [entry(1, name="Eve\n/runner 2\n@eve_tg"), entry(2)]
    (message,) = digest_messages("Maria\nX", entries, week_start=WEEK, today=TODAY)
    lines = message.split("\n")
    assert len(lines) == 3 + 2 + 1  # header (3 lines), two runners, footer
    assert not any(line.startswith("/runner 2") for line in lines)


# --- /runner <id> ------------------------------------------------------------------------------


def sessions(n: int) -> list[SessionPoint]:
    return [
        SessionPoint(
            day=TODAY - timedelta(days=2 * i),
            kind="run" if i % 2 == 0 else "strength",
            outcome="done" if i != 1 else "skipped",
            pain_during=None if i == 1 else i % 3,
            pain_24h=None if i in (0, 1) else 1,
            run_s_total=900 if i % 2 == 0 else 0,
        )
        for i in range(n)
    ]


def test_detail_status_sessions_and_trail() -> None:
    e = entry(
        7,
        name="Anna",
        high_risk=True,
        site="Femoral neck",
        awaiting_clearance=True,
        open_flags=1,
        missed_followups_7d=1,
    )
    trail = [
        decision(0, actor="engine"),
        decision(2, actor="coach:42", action="hold", rule="coach.hold"),
        decision(1, actor="runner", action="paused", rule="runner.pause", detail=""),
    ]
    text = detail_text(e, trail, list(reversed(sessions(8))), TODAY)
    assert len(text) <= t.TELEGRAM_LIMIT
    lines = text.split("\n")
    assert lines[:7] == [
        "⏳ Anna (#7)",
        "Site: Femoral neck ⚠️ high risk",
        "Phase: Return to run, level 3 of 8",
        "Status: active; awaiting clearance at a gate",
        "Open flags: 1 · missed follow-ups (7 days): 1",
        "Sessions done (14 days): 5/6 (83%)",
        "Last session: 3d ago",
    ]
    start = lines.index(t.DETAIL_SESSIONS)
    assert lines[start + 1 : start + 6] == [
        "• Tue 14 Jul run: done, 15 min running, pain 0, 24h –",
        "• Sun 12 Jul strength: skipped",
        "• Fri 10 Jul run: done, 15 min running, pain 2, 24h 1",
        "• Wed 08 Jul strength: done, pain 0, 24h 1",
        "• Mon 06 Jul run: done, 15 min running, pain 1, 24h 1",
    ]
    start = lines.index(t.DETAIL_TRAIL)
    assert lines[start + 1 :] == [
        "• 01 Jul 11:00 hold, rule coach.hold, by coach: pain 3/10 during",
        "• 01 Jul 10:00 paused, rule runner.pause, by runner",
        "• 01 Jul 09:00 held, rule progression.rule_00, by engine: pain 3/10 during",
    ]


def test_detail_without_sessions_or_decisions() -> None:
    e = entry(last_session=None, prescribed_14d=0, done_14d=0, level=None)
    text = detail_text(e, [], [], TODAY)
    assert t.DETAIL_NO_SESSIONS in text
    assert t.DETAIL_NO_TRAIL in text
    assert t.DETAIL_ADHERENCE_NONE in text
    assert "Phase: Return to run\n" in text
    assert "Last session: no sessions yet" in text


@pytest.mark.parametrize(
    ("n", "shown", "more"),
    [(0, 0, None), (1, 1, None), (15, 15, None), (16, 15, "… 1 more"), (40, 15, "… 25 more")],
)
def test_detail_trail_is_capped_at_15_newest(n: int, shown: int, more: str | None) -> None:
    text = detail_text(entry(), [decision(i) for i in range(n)], [], TODAY)
    lines = text.split("\n")
    trail = [line for line in lines if "progression.rule_" in line]
    assert len(trail) == shown
    # newest first: the highest rule numbers, descending
    assert [int(line.split("rule_")[1][:2]) for line in trail] == list(
        range(n - 1, n - 1 - shown, -1)
    )
    if more is None:
        assert "more" not in lines[-1]
    else:
        assert lines[-1] == more


def test_detail_trail_is_truncated_to_fit_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    # With 15 lines the formatters can't reach 4096; lift the cap to exercise the length guard.
    monkeypatch.setattr(digest, "DECISIONS_SHOWN", 1000)
    trail = [decision(i, detail="d" * 1000, rule="r" * 500) for i in range(200)]
    text = detail_text(entry(name="n" * 1000), trail, sessions(10), TODAY)
    assert len(text) <= t.TELEGRAM_LIMIT
    lines = text.split("\n")
    shown = sum(line.startswith("• 0") for line in lines)  # decision lines start with the day
    assert 0 < shown < 200
    assert lines[-1] == f"… {200 - shown} more"
    # as many as fit: one more decision line would not have fitted
    newest = sorted(trail, key=lambda d: d.at, reverse=True)
    kept = text.rsplit("\n", 1)[0]
    candidate = f"{kept}\n{t.decision_line(newest[shown])}\n{t.more(200 - shown - 1)}"
    assert len(candidate) > t.TELEGRAM_LIMIT
    assert kept.endswith(t.decision_line(newest[shown - 1]))


@pytest.mark.parametrize(
    ("actor", "word"),
    [
        ("engine", "engine"),
        ("coach", "coach"),
        ("coach:42", "coach"),
        ("Runner", "runner"),
        ("system", "system"),
    ],
)
def test_actor_words(actor: str, word: str) -> None:
    assert t.decision_line(decision(0, actor=actor)).split(", by ")[1].startswith(word)
