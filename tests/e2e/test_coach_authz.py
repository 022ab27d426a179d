"""Who may see what, over HTTP: the authorisation matrix of the coach side.

One bot per database for the whole module (two coaches, a runner each, a stranger); every case
checks that nothing changed: program versions, links, the audit trail, the agenda, invites.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, pool, select

from bot import texts
from bot import texts_coach as tc
from bot.program.loader import Rules
from bot.store.db import make_engine
from bot.store.fixtures import require_pg
from bot.store.models import Agenda, DecisionRecord, Invite, Program, Runner
from bot.store.testing import copy_sqlite, truncate_all
from tests.e2e.harness import COACH, OTHER_COACH, Harness, running_bot
from tests.e2e.test_coach_support import START, invite, onboard, program, runner_id

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANNA, BEA, STRANGER = 1301, 1302, 1399

RUNNER_COMMANDS = [
    "/runner {id}",
    "/hold {id}",
    "/advance {id}",
    "/regress {id}",
    "/cpause {id}",
    "/cresume {id}",
    "/clear {id}",
    "/reply {id} hello, this is not your coach",
    "/release {id}",
]
COACH_COMMANDS = ["/invite", "/runners", *RUNNER_COMMANDS]
ALERT_VALUES = [("k", v) for v in ("ack", "hold", "regress", "clear", "pause")] + [
    ("kc", "y"),
    ("kc", "n"),
    # A stop's ways back: "Cleared: resume at …", its Confirm and its Cancel.
    ("kr", "rf-down-1"),
    ("ky", "rf-down-1"),
    ("kn", "rf-down-1"),
]


@dataclass
class World:
    h: Harness
    anna: int  # Coach Sam's runner
    bea: int  # Coach Kim's runner

    async def snapshot(self) -> tuple[Any, ...]:
        async with self.h.deps.sessionmaker() as s:
            programs = (await s.execute(select(Program.runner_id, Program.version))).all()
            links = (await s.execute(select(Runner.id, Runner.coach_id))).all()
            counts = [
                await s.scalar(select(func.count()).select_from(m))
                for m in (DecisionRecord, Agenda, Invite)
            ]
        return sorted(programs), sorted(links), counts

    async def ref(self, rid: int) -> str:
        return f"{rid}.{(await program(self.h, rid))[1]}"

    def answers(self, user: int) -> list[Any]:
        return [a for a in self.h.standin.answered_callbacks if a.user_id == user]

    async def press(self, user: int, data: str) -> Any:
        """Press forged data under the user's own newest message; the answer to that press."""
        before = len(self.answers(user))
        msg = self.h.last(user)
        await self.h.press_data(data, msg.message_id, user)
        got = self.answers(user)
        assert len(got) == before + 1, f"press {data!r} by {user} was not answered"
        assert got[-1].data == data
        return got[-1]


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def world_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        return copy_sqlite(template, tmp_path_factory.mktemp("authz") / "boneload.db")
    require_pg()
    url: str = request.getfixturevalue("pg_session_db")
    return url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(world_db: str, shipped_rules: Rules) -> AsyncIterator[World]:
    if world_db.startswith("postgresql"):
        eng = make_engine(world_db, poolclass=pool.NullPool)
        try:
            await truncate_all(eng)
        finally:
            await eng.dispose()
    async with running_bot(shipped_rules, world_db, START) as h:
        await onboard(h, ANNA, name="Anna", code=await invite(h, COACH))
        await onboard(h, BEA, name="Bea", code=await invite(h, OTHER_COACH))
        await h.say("hello", user=STRANGER)  # so the stranger has a chat to press in
        yield World(h, await runner_id(h, ANNA), await runner_id(h, BEA))


# --- not a coach ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", COACH_COMMANDS)
async def test_a_non_coach_is_refused_every_coach_command(world: World, command: str) -> None:
    h = world.h
    before = await world.snapshot()
    for user in (STRANGER, ANNA):  # a stranger, and a runner (who is not a coach either)
        await h.say(command.format(id=world.anna), user=user)
        assert h.last(user).text == tc.NOT_A_COACH, (user, h.last(user).text)
    assert await world.snapshot() == before


@pytest.mark.parametrize(("kind", "value"), ALERT_VALUES)
async def test_a_non_coach_is_refused_every_coach_button(
    world: World, kind: str, value: str
) -> None:
    before = await world.snapshot()
    for user in (STRANGER, ANNA):
        for rid in (world.anna, world.bea):
            answer = await world.press(user, f"v1|{kind}|{await world.ref(rid)}|{value}")
            assert (answer.text, answer.show_alert) == (tc.NOT_A_COACH, True)
    assert await world.snapshot() == before


# --- coach A and coach B's runner ------------------------------------------------------------


async def test_the_roster_shows_only_the_coachs_own_runners(world: World) -> None:
    h = world.h
    await h.say("/runners", user=COACH)
    sam = h.last(COACH).text or ""
    assert f"Anna (#{world.anna})" in sam and "Bea" not in sam and f"#{world.bea}" not in sam
    await h.say("/runners", user=OTHER_COACH)
    kim = h.last(OTHER_COACH).text or ""
    assert f"Bea (#{world.bea})" in kim and "Anna" not in kim


@pytest.mark.parametrize("command", RUNNER_COMMANDS)
async def test_a_coach_cannot_reach_another_coachs_runner_by_command(
    world: World, command: str
) -> None:
    h = world.h
    before = await world.snapshot()
    bea_msgs = len(h.messages(BEA))
    for ref in (str(world.bea), "Bea", "bea", f"{world.bea} "):
        await h.say(command.format(id=ref), user=COACH)
        assert h.last(COACH).text == tc.NO_SUCH_RUNNER, (ref, h.last(COACH).text)
    # An unknown id reads the same: nothing tells Sam whether runner #n exists.
    await h.say(command.format(id=999_999), user=COACH)
    assert h.last(COACH).text == tc.NO_SUCH_RUNNER
    assert not h.standin.calls_to("sendPhoto")
    await h.dispatcher.join()
    await h.tick()
    assert len(h.messages(BEA)) == bea_msgs
    assert await world.snapshot() == before


@pytest.mark.parametrize(("kind", "value"), ALERT_VALUES)
async def test_a_coach_cannot_act_on_another_coachs_runner_by_button(
    world: World, kind: str, value: str
) -> None:
    before = await world.snapshot()
    # Sam forges Kim's runner (current version: the press would act if ownership were not
    # checked), and an id that does not exist.
    for ref in (await world.ref(world.bea), "999999.1"):
        answer = await world.press(COACH, f"v1|{kind}|{ref}|{value}")
        assert (answer.text, answer.show_alert) == (tc.NO_SUCH_RUNNER, True)
    assert await world.snapshot() == before


def _garbage(anna: int, version: int) -> list[str]:
    arabic = "".join(chr(0x660 + int(c)) for c in str(anna))  # Unicode digits for Anna's id
    return [
        "v1|k|garbage|hold",
        f"v1|k|{anna}|hold",
        f"v1|k|{anna}.|hold",
        f"v1|k|.{version}|hold",
        f"v1|k|{anna}.{version}|explode",
        f"v1|k|{anna}.{version}|",
        f"v1|k|{anna}.{version}|HOLD",
        f"v1|k|-{anna}.{version}|hold",
        f"v1|k|{anna}.-{version}|hold",
        f"v1|k|{anna}.{version}.1|hold",
        f"v1|k|{anna}.{version - 1}|hold",
        f"v1|k|{anna}.{version + 1}|hold",
        f"v1|k|{anna}.{version}|hold|more",
        f"v1|k|{arabic}.{version}|hold",
        f"v1|k| {anna}.{version}|hold",
        f"v1|kc|{anna}.{version}|maybe",
        f"v1|kc|{anna}.{version}|yes",
        f"v1|kr|{anna}.{version}|rf-bogus",
        f"v1|ky|{anna}.{version}|rf-down-1",  # Anna is not stopped: nothing to confirm
        f"v1|ky|{anna}.{version}|",
        f"v1|kn|{anna}.{version - 1}|rf-down-1",
        f"v1|k|{anna}.{version}|hold" + "x" * 64,
        f"v2|k|{anna}.{version}|hold",
        "v1|k",
        "",
    ]


async def test_tampered_or_garbage_callback_data_changes_nothing(world: World) -> None:
    before = await world.snapshot()
    _, version = await program(world.h, world.anna)
    for data in _garbage(world.anna, version):
        answer = await world.press(COACH, data)
        assert answer.text in (
            tc.ALREADY_HANDLED,
            tc.NO_SUCH_RUNNER,
            texts.STALE,
            texts.NOT_ENROLLED,
        ), (data, answer)
    assert await world.snapshot() == before
    assert not [m for m in world.h.messages(COACH) if (m.text or "").startswith("Done:")]
