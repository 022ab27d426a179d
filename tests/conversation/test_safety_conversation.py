"""The conversation layer's part of issue 9, without Telegram: onboarding's clearance answers are
claims, the imaging step offers the site's grades, answers are judged as they come, and free
text that sounds like a symptom is recognised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot import texts
from bot.conversation import checks, onboarding, questions
from bot.conversation.callbacks import MAX_BYTES
from bot.program.loader import Rules
from bot.program.symptoms import InvalidAnswer

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _answer(step: str, value: str, data: dict[str, Any], rules: Rules) -> dict[str, Any]:
    result = onboarding.accept(step, value, data, rules, NOW)
    assert result.error is None, result.error
    return dict(result.data)


def _through_imaging(rules: Rules, site: str, grade: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for step, value in (("consent", "y"), ("site", site), ("diagnosis", "56"), ("imaging", grade)):
        assert onboarding.current_step(data, rules) == step
        data = _answer(step, value, data, rules)
    return data


def test_imaging_offers_the_sites_grades_and_stores_system_and_grade(shipped_rules: Rules) -> None:
    data = _through_imaging(shipped_rules, "posteromedial-tibia", "-")
    prompt = onboarding.prompt("imaging", data, shipped_rules, NOW)
    assert "only sets expectations" not in prompt.text
    assert "never speeds you up" in prompt.text and "more days before running" in prompt.text
    labels = [b.label for row in prompt.rows for b in row]
    assert labels[-1] == texts.IMAGING_UNKNOWN
    assert labels[0] == "Grade 1: periosteal oedema only"
    assert all(len(b.data.encode()) <= MAX_BYTES for row in prompt.rows for b in row)
    assert (data["imaging"], data["imaging_system"]) == (None, None)

    graded = _through_imaging(shipped_rules, "posteromedial-tibia", "3")
    assert (graded["imaging"], graded["imaging_system"]) == ("3", "fredericson")
    bad = onboarding.accept(
        "imaging", "IX", {k: v for k, v in graded.items() if k != "imaging"}, shipped_rules, NOW
    )
    assert bad.error == texts.USE_BUTTONS


def test_a_grade_that_needs_a_clinician_asks_for_clearance_on_a_low_risk_site(
    shipped_rules: Rules,
) -> None:
    ungraded = _through_imaging(shipped_rules, "posteromedial-tibia", "-")
    graded = _through_imaging(shipped_rules, "posteromedial-tibia", "3")
    assert not [s for s in onboarding.steps(ungraded, shipped_rules) if s.startswith("clear:")]
    assert [s for s in onboarding.steps(graded, shipped_rules) if s.startswith("clear:")]


def test_yes_cleared_at_onboarding_is_a_claim_never_a_clearance(shipped_rules: Rules) -> None:
    data = _through_imaging(shipped_rules, "navicular", "-")
    while (step := onboarding.current_step(data, shipped_rules)) is not None:
        if step.startswith("clear:"):
            prompt = onboarding.prompt(step, data, shipped_rules, NOW)
            assert "ask your coach to confirm" in prompt.text
        value = {"days": "0", "time": "07:00", "tz": "Europe/Berlin"}.get(step, "y")
        data = _answer(step, value, data, shipped_rules)
        if step == "days":
            data = _answer("days", "done", data, shipped_rules)
    event = onboarding.enrolled_event(data, shipped_rules)
    assert "weight_bearing" in event.claimed
    assert not hasattr(event, "clearances")


@pytest.mark.parametrize("typed", ["②", "٣x", "¾", "1e3", "", "-", "3/10/10"])
def test_numbers_must_be_plain_digits(shipped_rules: Rules, typed: str) -> None:
    q = shipped_rules.question_by_id["pain_now"]
    with pytest.raises(InvalidAnswer):
        questions.parse_value(q, typed)


@pytest.mark.parametrize("typed", ["②", "¹"])
def test_onboarding_never_crashes_on_odd_digits(shipped_rules: Rules, typed: str) -> None:
    data = _through_imaging(shipped_rules, "posteromedial-tibia", "-")
    assert onboarding.accept("diagnosis", typed, data, shipped_rules, NOW).error
    assert onboarding.accept("days", typed, data, shipped_rules, NOW).error


@pytest.mark.parametrize(
    ("kind", "answers", "red"),
    [
        ("followup", {"pain_now": 0}, False),
        ("followup", {"pain_now": 0, "pain_night": True}, True),
        ("followup", {"pain_now": 4}, False),  # a regress waits for the rest of the check
        ("post", {"pain_during": 8}, True),
        ("post", {"pain_during": 3}, False),
        ("gate", {"rest_pain_free": True}, False),
        ("gate", {"rest_pain_free": False}, True),  # "no" means pain at rest
        ("gate", {"brisk_walk_30": False}, False),  # "not yet", not a symptom
        ("pain", {"limping": True}, True),
        ("pain", {}, False),
    ],
)
def test_red_flag_now(
    shipped_rules: Rules, kind: str, answers: dict[str, int | bool], red: bool
) -> None:
    assert checks.red_flag_now(kind, answers, shipped_rules) is red


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("my shin hurts at night", True),
        ("it's sore", True),
        ("swollen", True),
        ("limping", True),
        ("Pain when I walk", True),
        ("my foot aches", True),
        ("no pain today", False),
        ("pain-free!", False),
        ("hello", False),
        ("thanks", False),
        ("can I run tomorrow?", False),
    ],
)
def test_looks_like_symptom(text: str, symptom: bool) -> None:
    assert checks.looks_like_symptom(text) is symptom
