"""Roster: who needs attention first, and `/runners` as compact lines split only at 4096."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import pytest

from bot import texts_coach as t
from bot.coach.roster import (
    Attention,
    attention,
    attention_score,
    order_roster,
    pack,
    roster_text,
    runner_line,
)
from tests.coach.entries import TODAY, entry

# --- adherence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "prescribed", "expected"),
    [(5, 6, 5 / 6), (0, 4, 0.0), (3, 3, 1.0), (0, 0, None), (2, 0, None)],
)
def test_adherence(done: int, prescribed: int, expected: float | None) -> None:
    assert entry(done_14d=done, prescribed_14d=prescribed).adherence == expected


# --- attention groups -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Attention.OK),
        ({"status": "red_flag"}, Attention.RED_FLAG),
        ({"status": "red_flag", "unreachable": True}, Attention.RED_FLAG),
        ({"status": "escalated"}, Attention.ESCALATED),
        ({"status": "escalated", "open_flags": 3}, Attention.ESCALATED),
        ({"unreachable": True}, Attention.UNREACHABLE),
        ({"unreachable": True, "awaiting_clearance": True}, Attention.UNREACHABLE),
        ({"awaiting_clearance": True}, Attention.AWAITING_CLEARANCE),
        ({"awaiting_clearance": True, "status": "paused"}, Attention.AWAITING_CLEARANCE),
        ({"open_flags": 1}, Attention.OPEN_FLAGS),
        ({"open_flags": 1, "missed_followups_7d": 2}, Attention.OPEN_FLAGS),
        ({"missed_followups_7d": 1}, Attention.MISSED_FOLLOWUPS),
        ({"missed_followups_7d": 1, "status": "paused"}, Attention.MISSED_FOLLOWUPS),
        ({"done_14d": 3, "prescribed_14d": 6}, Attention.LOW_ADHERENCE),
        ({"done_14d": 0, "prescribed_14d": 1}, Attention.LOW_ADHERENCE),
        # exactly 60 % is not low
        ({"done_14d": 3, "prescribed_14d": 5}, Attention.OK),
        ({"done_14d": 0, "prescribed_14d": 0}, Attention.OK),
        # a paused runner is not expected to train: low adherence does not lift them
        ({"status": "paused", "done_14d": 0, "prescribed_14d": 6}, Attention.PAUSED),
        ({"status": "paused"}, Attention.PAUSED),
    ],
)
def test_attention_group(changes: dict[str, Any], expected: Attention) -> None:
    assert attention(entry(**changes)) is expected


def test_every_group_has_an_icon() -> None:
    assert {a.key for a in Attention} == set(t.ATTENTION_ICON)


# --- order ----------------------------------------------------------------------------------


def test_red_flag_before_paused_before_all_clear() -> None:
    clear = entry(1, name="Aaron")
    paused = entry(2, name="Bea", status="paused")
    red = entry(3, name="Zed", status="red_flag")
    assert order_roster([clear, paused, red]) == [red, paused, clear]
    assert order_roster([paused, clear, red]) == [red, paused, clear]


def test_full_order_whatever_the_input_order() -> None:
    expected = [
        entry(1, status="red_flag"),
        entry(2, status="escalated"),
        entry(3, unreachable=True),
        entry(4, awaiting_clearance=True),
        entry(5, open_flags=2),
        entry(6, open_flags=1),
        entry(7, missed_followups_7d=3),
        entry(8, missed_followups_7d=1),
        entry(9, done_14d=0, prescribed_14d=6),
        entry(10, done_14d=3, prescribed_14d=6),
        entry(11, status="paused"),
        entry(12, name="alice"),
        entry(13, name="Bob"),
        entry(14, name="carol"),
    ]
    rng = random.Random(5)
    for _ in range(20):
        shuffled = expected[:]
        rng.shuffle(shuffled)
        assert order_roster(shuffled) == expected


def test_same_name_is_ordered_by_id_and_score_is_comparable() -> None:
    a, b = entry(7, name="Sam"), entry(3, name="sam")
    assert order_roster([a, b]) == [b, a]
    assert attention_score(b) < attention_score(a)


# --- lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        (
            {},
            [
                "✅ Runner 001 (#1)",
                "Tibia (shaft)",
                "Return to run (level 3 of 8)",
                "last 3d ago",
                "pain 1, 24h 0",
                "5/6 done",
            ],
            ["⚠️", "🚩", "missed", "paused"],
        ),
        ({"high_risk": True}, ["Tibia (shaft) ⚠️"], []),
        ({"status": "red_flag", "open_flags": 2}, ["🛑 ", "RED FLAG", "🚩2 open"], []),
        ({"status": "paused"}, ["⏸ ", "paused"], []),
        ({"unreachable": True}, ["📵 ", "unreachable"], []),
        ({"awaiting_clearance": True}, ["⏳ ", "awaiting clearance"], []),
        ({"missed_followups_7d": 1}, ["❗ ", "1 missed follow-up"], ["follow-ups"]),
        ({"missed_followups_7d": 2}, ["2 missed follow-ups"], []),
        ({"done_14d": 1, "prescribed_14d": 6}, ["📉 ", "1/6 done"], []),
        ({"prescribed_14d": 0, "done_14d": 0}, [], ["done"]),
        ({"level": None}, ["· Return to run ·"], ["level"]),
        ({"last_session": TODAY}, ["last today"], []),
        ({"last_session": TODAY - timedelta(days=1)}, ["last yesterday"], []),
        ({"last_session": TODAY + timedelta(days=1)}, ["last today"], []),
        (
            {"last_session": None, "last_pain_during": None, "last_pain_24h": None},
            ["no sessions yet"],
            ["pain", "last "],
        ),
        ({"last_pain_24h": None}, ["pain 1, 24h –"], []),
        ({"last_pain_during": None, "last_pain_24h": None}, [], ["pain"]),
        ({"name": ""}, ["Runner 1 (#1)"], []),
    ],
)
def test_runner_line(changes: dict[str, Any], present: list[str], absent: list[str]) -> None:
    line = runner_line(entry(**changes), TODAY)
    assert "\n" not in line
    for text in present:
        assert text in line
    for text in absent:
        assert text not in line


def test_hostile_names_stay_on_one_short_line() -> None:
    line = runner_line(
        entry(name="Eve\nFAKE LINE\u202e" + "x" * 10_000, site="s" * 500, phase="p\n" * 100),
        TODAY,
    )
    assert "\n" not in line and "\u202e" not in line
    assert len(line) < 300
    assert "Eve FAKE LINE" in line and "…" in line


# --- /runners -------------------------------------------------------------------------------


def test_zero_runners_says_how_to_invite() -> None:
    messages = roster_text([], TODAY)
    assert messages == [t.ROSTER_EMPTY]
    assert "/invite" in messages[0]


def test_small_roster_is_one_message_with_header_and_hint() -> None:
    entries = [entry(1), entry(2, status="red_flag", name="Zoe"), entry(3, status="paused")]
    (message,) = roster_text(entries, TODAY)
    lines = message.split("\n")
    assert lines[0] == t.ROSTER_HEADER.format(n=3, k=1)
    assert lines[1] == t.LEGEND
    assert lines[2].startswith("🛑 Zoe (#2)")
    assert lines[3].startswith("⏸ Runner 003 (#3)")
    assert lines[4].startswith("✅ Runner 001 (#1)")
    assert lines[-1] == t.ROSTER_HINT
    assert "/runner <id>" in lines[-1]


def test_large_roster_splits_at_the_limit_without_breaking_lines() -> None:
    entries = [entry(i, name=f"Runner number {i:04d} " + "n" * 20) for i in range(1, 301)]
    messages = roster_text(entries, TODAY)
    assert len(messages) > 1
    assert all(len(m) <= t.TELEGRAM_LIMIT for m in messages)
    lines = [line for m in messages for line in m.split("\n")]
    runner_lines = [line for line in lines if line.startswith("✅ ")]
    assert len(runner_lines) == 300
    for i in range(1, 301):
        assert sum(f"(#{i})" in line for line in runner_lines) == 1
    assert messages[0].startswith(t.ROSTER_HEADER.format(n=300, k=0))
    assert messages[-1].endswith(t.ROSTER_HINT)
    # As few messages as possible: the next message's first line would not have fitted.
    for a, b in itertools.pairwise(messages):
        assert len(a) + 1 + len(b.split("\n")[0]) > t.TELEGRAM_LIMIT


# --- packing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "limit", "expected"),
    [
        ([], 10, []),
        (["abc"], 10, ["abc"]),
        (["abcd", "efghi"], 10, ["abcd\nefghi"]),  # exactly 10
        (["abcd", "efghij"], 10, ["abcd", "efghij"]),  # 11 would not fit
        (["a", "b", "c"], 3, ["a\nb", "c"]),
        (["x" * 12, "y"], 10, ["x" * 9 + "…", "y"]),  # an over-long line is cut, not split
        (["", "a"], 10, ["\na"]),  # blank lines are kept
        (["a", "", "b"], 10, ["a\n\nb"]),
    ],
)
def test_pack(lines: list[str], limit: int, expected: list[str]) -> None:
    assert pack(lines, limit) == expected
