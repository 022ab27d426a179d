"""What a runner reads when the engine's notices are rendered: who decided, in words; and never
"your coach has been told" when no coach is linked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot import texts
from bot.conversation.callbacks import Kind, decode
from bot.program.decision import MessageKind
from bot.program.engine import decide
from bot.program.events import Enrolled
from bot.program.loader import Rules
from bot.program.state import ProgramState
from bot.telegram.render import notice, render_runner

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def state(shipped_rules: Rules) -> ProgramState:
    event = Enrolled(
        site_id="posteromedial-tibia",
        diagnosis_date=date(2026, 1, 1),
        timezone="Europe/Berlin",
        preferred_time=time(7, 0),
        available_days=frozenset(range(6)),
    )
    return decide(None, event, shipped_rules, NOW).state


def test_who_decided_is_said_in_words(shipped_rules: Rules, state: ProgramState) -> None:
    cleared = {"code": "coach_cleared_stop", "level": "rw-l0", "rest_days": 3, "by": "operator"}
    text = notice(cleared, state, shipped_rules)
    assert text.startswith("✅ The clinic cleared you to run again: you restart with level 1 of")
    assert text.endswith("after 3 days without running or impact.")
    kept = notice({"code": "coach_kept_stop", "level": None, "by": "coach"}, state, shipped_rules)
    assert kept.startswith("🛑 Your coach reviewed your stop and kept it")
    assert "your current phase" in kept
    ack = notice({"code": "coach_acknowledged", "by": "coach"}, state, shipped_rules)
    assert ack.startswith("Your coach has seen your report")
    hold = notice({"code": "coach_hold", "level": "rw-l0", "by": "operator"}, state, shipped_rules)
    assert hold.startswith("The clinic reviewed your program")
    for code in ("symptoms_mild", "symptoms_clear", "review_requested"):
        assert notice({"code": code}, state, shipped_rules) == texts.NOTICES[code]


@pytest.mark.parametrize("code", sorted(texts.NOTICES_NO_COACH))
def test_without_a_coach_nobody_is_said_to_be_told(
    shipped_rules: Rules, state: ProgramState, code: str
) -> None:
    payload = {"code": code, "rules": ["red-flag-stop", "red-rest-pain"], "phase": "low-run-walk"}
    with_coach = notice(payload, state, shipped_rules, has_coach=True)
    alone = notice(payload, state, shipped_rules, has_coach=False)
    assert "coach has been" not in alone and "I've asked" not in alone, alone
    assert "nobody" in alone and "/invite" in alone and "/start <code>" in alone
    assert with_coach != alone


def test_awaiting_clearance_offers_the_claim_button(
    shipped_rules: Rules, state: ProgramState
) -> None:
    payload = {"code": "awaiting_clearance", "phase": "low-run-walk"}
    prompt = render_runner(MessageKind.RUNNER_NOTICE, payload, state, shipped_rules)
    assert prompt is not None
    [[button]] = prompt.rows
    assert button.label == texts.BTN_CLAIM_CLEARED
    assert decode(button.data).kind is Kind.CONFIRM and decode(button.data).ref == "claim"
