"""Coach invites over HTTP: /invite → deep link → /start <code> links the runner; codes are
single-use, expire, and are unguessable."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from bot import texts
from bot.program.loader import Rules
from bot.services import coaches as csvc
from tests.e2e.harness import COACH, running_bot
from tests.e2e.test_coach_support import (
    INVITE_RE,
    START,
    coach_of,
    invite,
    onboard,
    runner_id,
    sent,
)

ANNA, BEN, CARA, DAN = 1101, 1102, 1103, 1104


async def test_invite_links_once_and_a_used_code_is_refused(
    shipped_rules: Rules, db_url: str
) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/invite", user=COACH)
        reply = h.last(COACH).text or ""
        m = INVITE_RE.search(reply)
        assert m is not None, reply
        bot_name, code = m.groups()
        assert bot_name == "boneload_test_bot", reply
        assert f"Invite code: {code}" in reply
        assert "14 days" in reply

        await onboard(h, ANNA, name="Anna", code=code)
        linked = [t for t in sent(h, ANNA) if t == texts.LINKED.format(coach="Coach Sam")]
        assert linked, sent(h, ANNA)
        anna = await runner_id(h, ANNA)
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None
        assert await coach_of(h, anna) == sam.id

        # The same code again: refused, yet Ben can enrol without a coach.
        await h.say(f"/start {code}", user=BEN, first_name="Ben")
        assert texts.INVITE_BAD in sent(h, BEN)
        await onboard(h, BEN, name="Ben")
        ben = await runner_id(h, BEN)
        assert await coach_of(h, ben) is None
        assert not any("linked with coach" in t for t in sent(h, BEN))

        # Ben links later with a fresh code of his own (an enrolled runner's /start <code>).
        fresh = await invite(h)
        await h.say(f"/start {fresh}", user=BEN)
        assert h.last(BEN).text == texts.LINKED.format(coach="Coach Sam")
        assert await coach_of(h, ben) == sam.id
        # ... and Anna, already linked, cannot reuse Ben's spent code to change anything.
        await h.say(f"/start {fresh}", user=ANNA)
        assert h.last(ANNA).text == texts.INVITE_BAD
        assert await coach_of(h, anna) == sam.id


async def test_expired_and_unknown_codes_are_refused(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        old = await invite(h)
        kept = await invite(h)
        await h.advance(timedelta(days=13, hours=23))
        # Just inside 14 days: still valid.
        await onboard(h, CARA, name="Cara", code=kept)
        assert texts.LINKED.format(coach="Coach Sam") in sent(h, CARA)

        await h.advance(timedelta(days=1, hours=1))  # 15 days after /invite
        await h.say(f"/start {old}", user=DAN, first_name="Dan")
        assert texts.INVITE_BAD in sent(h, DAN)
        await h.say("/start notacode123", user=DAN + 1)
        assert texts.INVITE_BAD in sent(h, DAN + 1)
        await h.say("/start " + "x" * 200, user=DAN + 2)
        assert texts.INVITE_BAD in sent(h, DAN + 2)
        # Refused, but enrolment goes on without a coach.
        await onboard(h, DAN, name="Dan")
        assert await coach_of(h, await runner_id(h, DAN)) is None


async def test_invite_codes_are_unguessable(shipped_rules: Rules, db_url: str) -> None:
    async with running_bot(shipped_rules, db_url, START) as h:
        sam = await csvc.find_coach(h.deps, COACH)
        assert sam is not None
        codes = [(await csvc.create_invite(h.deps, sam))[0] for _ in range(100)]
        via_bot = await invite(h)
    codes.append(via_bot)
    assert len(set(codes)) == len(codes)
    alphabet = re.compile(r"[A-Za-z0-9_-]+")  # base64url: 6 bits a character
    for code in codes:
        assert alphabet.fullmatch(code), code
        assert len(code) * 6 >= 64, code
    # The characters are spread over the whole alphabet, not a counter or a timestamp.
    used = set("".join(codes))
    assert len(used) >= 60, sorted(used)
    # Position by position the codes differ (no shared prefix such as a coach id or date).
    for i in range(min(len(c) for c in codes)):
        assert len({c[i] for c in codes}) > 32, i
    assert math.log2(64) * min(len(c) for c in codes) >= 64


async def test_two_runners_racing_for_one_code_the_loser_is_told(
    shipped_rules: Rules, db_url: str
) -> None:
    """Both open the link (the code is checked, valid for both); only the first to finish
    onboarding is linked. The other enrols without a coach and must be told so."""
    async with running_bot(shipped_rules, db_url, START) as h:
        code = await invite(h)
        await h.say(f"/start {code}", user=ANNA, first_name="Anna")
        await h.say(f"/start {code}", user=BEN, first_name="Ben")
        assert texts.INVITE_BAD not in sent(h, ANNA) + sent(h, BEN)
        # Both carry on (a plain /start resumes where they were, the code kept).
        await onboard(h, ANNA, name="Anna")
        await onboard(h, BEN, name="Ben")
        assert texts.LINKED.format(coach="Coach Sam") in sent(h, ANNA)
        assert await coach_of(h, await runner_id(h, BEN)) is None
        assert not any("linked with coach" in t for t in sent(h, BEN))
        assert texts.INVITE_BAD in sent(h, BEN)
