"""Coach workflows: registration, invites, the roster, one runner's detail and chart, one-tap
actions on alerts, messages to a runner, and the weekly digest.

Authorisation lives here, not in the menu: every function that touches a runner takes the
coach's id and refuses a runner who is not theirs (`NotYourRunner`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coach import reasons
from bot.coach.views import DecisionLine, PhaseMark, RosterEntry, SessionPoint
from bot.conversation.numbers import parse_int
from bot.i18n import _
from bot.localised import texts
from bot.localised import texts_coach as tc
from bot.program.calendar import local_date, local_instant, zone
from bot.program.decision import Decision, MessageKind
from bot.program.engine import BadEvent, decide, resume_options
from bot.program.events import CoachAction, CoachVerb
from bot.program.state import ProgramState, Status
from bot.services import messages
from bot.services import runners as runner_flows
from bot.services.deps import Deps
from bot.services.turn import decide_and_store, in_one_transaction, reading, wake_agenda, writing
from bot.store import agenda, repo
from bot.store.agenda import NewItem
from bot.store.models import Coach, Runner

log = logging.getLogger(__name__)

INVITE_TTL = timedelta(days=14)
DIGEST_WEEKDAY = 0  # Monday
DIGEST_TIME = time(8, 0)


# Coach alerts that tell and offer no buttons: the runner goes on as the program says.
_TOLD_ONLY = {"step_back_notice": tc.STEP_BACK_NOTICE, "discharged": tc.DISCHARGED}


class NotYourRunner(Exception):
    """The runner does not exist or belongs to another coach: the same answer for both."""


@dataclass(frozen=True, slots=True)
class CoachCtx:
    id: int
    telegram_user_id: int
    name: str
    timezone: str
    language: str | None = None  # None: not yet contacted


# --- registration (operator, CLI) and lookup ------------------------------------------------


async def add_coach(d: Deps, telegram_user_id: int, name: str, timezone: str = "UTC") -> int:
    async with writing(d) as s:
        existing = await repo.get_coach_by_telegram(s, telegram_user_id)
        if existing is not None:
            existing.name = name
            existing.timezone = timezone
            existing.active = True
            coach_id = existing.id
        else:
            c = await repo.add_coach(
                s, telegram_user_id=telegram_user_id, name=name, timezone=timezone, now=d.clock()
            )
            coach_id = c.id
        await _ensure_digest(s, d, coach_id, timezone)
        await _ensure_menu(s, d, coach_id)
        return coach_id


async def _ensure_menu(s: Any, d: Deps, coach_id: int) -> None:
    """The coach's own command menu, set by the running bot's agenda (the CLI that adds a
    coach only writes the database; the bot may be running elsewhere)."""
    now = d.clock()
    await agenda.schedule(
        s,
        [
            NewItem(
                scope=agenda.coach_scope(coach_id),
                coach_id=coach_id,
                kind=MessageKind.COACH_MENU.value,
                key=f"menu:{now.isoformat()}",
                due_at=now,
                payload={},
            )
        ],
        now=now,
    )


async def list_coaches(d: Deps) -> list[dict[str, Any]]:
    async with reading(d) as s:
        out = []
        for c in await repo.list_coaches(s):
            n = len(await repo.list_runners_of_coach(s, c.id))
            out.append(
                {
                    "id": c.id,
                    "telegram_user_id": c.telegram_user_id,
                    "name": c.name,
                    "active": c.active,
                    "language": c.language,
                    "runners": n,
                }
            )
        return out


async def remove_coach(d: Deps, telegram_user_id: int) -> bool:
    """Deactivate (keep the audit trail) and unlink their runners, who keep their program."""
    async with writing(d) as s:
        c = await repo.get_coach_by_telegram(s, telegram_user_id)
        if c is None:
            return False
        await repo.set_coach_active(s, c.id, False)
        for r in await repo.list_runners_of_coach(s, c.id):
            await _unlink(s, r.id, d.clock())
        return True


async def find_coach(d: Deps, telegram_user_id: int) -> CoachCtx | None:
    async with reading(d) as s:
        c = await repo.get_coach_by_telegram(s, telegram_user_id)
        if c is None or not c.active:
            return None
        return CoachCtx(c.id, c.telegram_user_id, c.name, c.timezone, c.language)


async def set_coach_language(d: Deps, coach_id: int, language: str) -> None:
    async with writing(d) as s:
        await repo.set_coach_language(s, coach_id, language)


async def create_invite(
    d: Deps, coach: CoachCtx, bot_username: str = "", protocol_id: str | None = None
) -> tuple[str, str]:
    """A single-use code and its deep link to the bot `bot_username` (the bot's own, from
    getMe; PTB keeps it on `context.bot`). `protocol_id` (checked by the caller against the
    rules) is the protocol chosen for the runner who enrols with it."""
    async with writing(d) as s:
        inv = await repo.create_invite(
            s, coach.id, now=d.clock(), ttl=INVITE_TTL, protocol_id=protocol_id
        )
        code = inv.code
    link = f"https://t.me/{bot_username}?start={code}"
    return code, link


# --- runners of a coach ----------------------------------------------------------------------


async def _owned(d: Deps, coach: CoachCtx, runner_id: int) -> Runner:
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach.id:
            raise NotYourRunner(runner_id)
        return r


async def resolve(d: Deps, coach: CoachCtx, ref: str) -> int:
    """A runner of this coach by id or (unique, case-insensitive) name prefix."""
    ref = ref.strip()
    async with reading(d) as s:
        runners = await repo.list_runners_of_coach(s, coach.id)
    if (number := parse_int(ref)) is not None:
        for r in runners:
            if r.id == number:
                return r.id
        raise NotYourRunner(ref)
    matches = [r for r in runners if (r.display_name or "").lower().startswith(ref.lower())]
    if len(matches) != 1 or not ref:
        raise NotYourRunner(ref)
    return matches[0].id


async def roster(d: Deps, coach: CoachCtx) -> list[RosterEntry]:
    async with reading(d) as s:
        runners = await repo.list_runners_of_coach(s, coach.id)
    return [await _entry(d, r) for r in runners]


async def _entry(d: Deps, r: Runner) -> RosterEntry:
    async with reading(d) as s:
        loaded = await repo.load_program(s, r.id)
        # The 24-hour checks that actually went out (none after a red flag, for example).
        asked = {
            key.removeprefix("followup:")
            for key in await agenda.sent_keys(s, r.id, MessageKind.FOLLOWUP.value)
        }
    st = loaded[0] if loaded else None
    lines = await runner_flows.sessions(d, r.id, limit=60)
    today = local_date(d.clock(), r.timezone)
    recent = [x for x in lines if (today - x.day).days < 14]
    done = sum(1 for x in recent if x.outcome in ("done", "partial"))
    # The last session trained: a missed or skipped one is no "last session" with answers.
    last = next((x for x in reversed(lines) if x.outcome in ("done", "partial")), None)
    missed_fu = sum(
        1
        for x in lines
        if str(x.seq) in asked and x.pain_24h is None and 1 < (today - x.day).days <= 7
    )
    if st is None:
        return RosterEntry(
            runner_id=r.id,
            name=r.display_name or f"#{r.id}",
            site="?",
            high_risk=False,
            phase="not enrolled",
            level=None,
            status="paused",
            last_session=None,
            last_pain_during=None,
            last_pain_24h=None,
            open_flags=0,
            awaiting_clearance=False,
            unreachable=r.unreachable,
            done_14d=0,
            prescribed_14d=0,
            missed_followups_7d=0,
        )
    site = d.rules.site(st.profile.site_id)
    proto = d.rules.protocols[st.protocol_id]
    phase = proto.phase(st.phase_id)
    return RosterEntry(
        runner_id=r.id,
        name=r.display_name or f"#{r.id}",
        site=_(site.name),
        high_risk=site.needs_clearance,
        phase=_(phase.name),
        level=texts.level_label(d.rules, st.protocol_id, phase.levels[st.level].id)
        if phase.levels
        else None,
        status=st.status.value,
        last_session=last.day if last else None,
        last_pain_during=last.pain_during if last else None,
        last_pain_24h=last.pain_24h if last else None,
        open_flags=1 if st.status in (Status.RED_FLAG, Status.ESCALATED) else 0,
        awaiting_clearance=bool(st.gate and st.gate.awaiting_clearance),
        unreachable=r.unreachable,
        done_14d=done,
        prescribed_14d=len(recent),
        missed_followups_7d=missed_fu,
    )


async def detail(
    d: Deps, coach: CoachCtx, runner_id: int
) -> tuple[RosterEntry, list[DecisionLine], list[SessionPoint], list[PhaseMark]]:
    r = await _owned(d, coach, runner_id)
    entry = await _entry(d, r)
    async with reading(d) as s:
        recs = await repo.list_decisions(s, runner_id, limit=200)
        program = await repo.load_program(s, runner_id)
    protocol_id = program[0].protocol_id if program else ""  # trail details in its words
    trail: list[DecisionLine] = []
    marks: list[PhaseMark] = []
    for rec in recs:
        for a in rec.actions:
            if a["act"] in ("plan", "record", "stale"):
                continue
            words = _detail_words(d, protocol_id, a.get("detail") or {})
            at = rec.at.astimezone(zone(coach.timezone))  # shown in the coach's own time
            trail.append(DecisionLine(at, a["act"], a["rule"], rec.actor, words))
            if a["act"] == "advance_phase" and a.get("detail", {}).get("phase"):
                marks.append(PhaseMark(local_date(rec.at, r.timezone), str(a["detail"]["phase"])))
    points = [
        SessionPoint(x.day, x.kind, x.outcome or "", x.pain_during, x.pain_24h, x.run_s_total)
        for x in await runner_flows.sessions(d, runner_id, limit=400)
    ]
    async with reading(d) as s:
        loaded = await repo.load_program(s, runner_id)
        state = loaded[0] if loaded else None
        if state is not None and state.status.stopped and state.flag_since is not None:
            ack_at = _acknowledged_at(recs, state)
            entry = replace(
                entry,
                stop_since=state.flag_since.astimezone(zone(coach.timezone)),
                stop_ack_by=await _who_words(s, state.flag_ack) if state.flag_ack else None,
                stop_ack_at=ack_at.astimezone(zone(coach.timezone)) if ack_at else None,
            )
    return entry, trail, points, list(reversed(marks))


def _acknowledged_at(recs: list[Any], state: ProgramState) -> datetime | None:
    """When the stop was acknowledged: the first act of its acknowledger since it began (an
    Acknowledge, or a Keep stopped that acknowledged it on the way)."""
    assert state.flag_since is not None
    acts = [
        rec.at
        for rec in recs
        if rec.actor == state.flag_ack
        and rec.event == "CoachAction"
        and not rec.stale
        and rec.at >= state.flag_since
    ]
    return min(acts) if acts else None


async def _who_words(s: Any, actor: str) -> str:
    """'coach:3' -> the coach's name; 'operator:Dr Jones' -> 'operator Dr Jones'."""
    kind, _, ref = actor.partition(":")
    if kind == "coach" and ref.isdecimal():
        c = await repo.get_coach(s, int(ref))
        return c.name if c is not None else actor
    if kind == "operator":
        return tc.OPERATOR.format(name=ref)
    return actor


def _detail_words(d: Deps, protocol_id: str, detail: dict[str, Any]) -> str:
    """A trail entry's detail in words: where it went, and why (reasons beside rule ids);
    nothing for what it does not say (no "None")."""
    proto = d.rules.protocols.get(protocol_id)
    bits = []
    if detail.get("to_level") and protocol_id:
        bits.append(
            tc.DETAIL_TO_LEVEL.format(
                level=texts.level_label(d.rules, protocol_id, str(detail["to_level"]))
            )
        )
    old = d.rules.protocols.get(str(detail.get("from_protocol", "")))
    new = d.rules.protocols.get(str(detail.get("protocol", "")))
    if old is not None and new is not None:  # a protocol switch
        bits.append(tc.DETAIL_PROTOCOL.format(old=old.name, new=new.name))
    phase = detail.get("phase")
    if phase and proto is not None:
        name = next((p.name for p in proto.phases if p.id == phase), str(phase))
        bits.append(tc.DETAIL_INTO_PHASE.format(phase=name))
    n = detail.get("regressions")
    if isinstance(n, int) and n > 0:
        bits.append(texts.plural(n, tc.DETAIL_STEP_BACK, tc.DETAIL_STEP_BACKS))
    because = [str(b) for b in detail.get("because") or []]
    if because:
        bits.append(tc.DETAIL_BECAUSE.format(why=reasons.reasons(d.rules, protocol_id, because)))
    return ", ".join(bits)


# --- actions ---------------------------------------------------------------------------------


async def act(
    d: Deps,
    coach: CoachCtx,
    runner_id: int,
    verb: CoachVerb,
    *,
    expected_version: int | None = None,
    option: str | None = None,
) -> Decision | None:
    """A coach's decision on their runner, recorded with the coach's id.

    With `expected_version` (from an alert button) the check and the change are one
    transaction, written only if the program is still at that version: a second press, or two
    presses racing (a double tap, two instances), returns None: the alert was already handled.
    `option` is the way back chosen when clearing a stop; one the rules do not know (a forged
    button) also returns None, and nothing changes.
    """
    event = CoachAction(verb, coach.id, option=option)
    actor = f"coach:{coach.id}"
    if expected_version is None:
        await _owned(d, coach, runner_id)
        decision = await runner_flows.apply_event(d, runner_id, event, actor=actor)
    else:

        def still_current(_state: ProgramState, version: int) -> None:
            if version != expected_version:
                raise _AlreadyHandled

        try:
            async with writing(d, savepoint=True) as s:
                r = await repo.get_runner(s, runner_id)
                if r is None or r.coach_id != coach.id:
                    raise NotYourRunner(runner_id)
                _, decision = await decide_and_store(
                    s, d, runner_id, event, actor=actor, now=d.clock(), check=still_current
                )
        # Someone else changed the program first (a second press, two instances), or the
        # button's option is one the rules do not know (forged): nothing changes.
        except (_AlreadyHandled, BadEvent, LookupError, repo.ConcurrentUpdate, IntegrityError):
            return None
    return decision


class _AlreadyHandled(Exception):
    """The alert's program version has moved on."""


async def is_current(d: Deps, coach: CoachCtx, runner_id: int, version: int) -> bool:
    """Whether an alert made at program `version` is still current (NotYourRunner first)."""
    await _owned(d, coach, runner_id)
    async with reading(d) as s:
        loaded = await repo.load_program(s, runner_id)
    return loaded is not None and loaded[1] == version


async def _unlink(s: Any, runner_id: int, now: datetime) -> None:
    """Take the runner from their coach, with the alerts about them still waiting to be sent:
    a former coach sees nothing more of them."""
    await repo.set_runner_coach(s, runner_id, None)
    kinds = [MessageKind.COACH_ALERT.value, MessageKind.COACH_NOTE.value]
    await agenda.cancel_kinds(s, runner_id, kinds, now=now)


async def release(d: Deps, coach: CoachCtx, runner_id: int) -> None:
    async with writing(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach.id:
            raise NotYourRunner(runner_id)
        await _unlink(s, runner_id, d.clock())


async def unlink_runner(d: Deps, runner_id: int) -> bool:
    async with writing(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id is None:
            return False
        await _unlink(s, runner_id, d.clock())
        return True


async def message_runner(d: Deps, coach: CoachCtx, runner_id: int, text: str) -> None:
    """Through the agenda, so it is delivered even if Telegram is briefly unreachable; part of
    the runner's thread (`services.messages`)."""
    try:
        await messages.coach_to_runner(d, coach.id, coach.name, runner_id, text)
    except messages.NotTheirRunner:
        raise NotYourRunner(runner_id) from None


# --- alerts ----------------------------------------------------------------------------------


class Offer(StrEnum):
    """What an alert may still act on when the coach sees it."""

    NONE = "none"  # already dealt with: words only
    STOP = "stop"  # a red flag or an escalation: acknowledge, keep stopped, ways back
    CLEARANCE = "clearance"  # an awaited clearance: Cleared / Not yet


@dataclass(frozen=True, slots=True)
class ResumeChoice:
    """One way back from a stop, as the coach is offered it: where the runner would land."""

    option: str  # the rules' option id
    level: str | None  # the level label the runner lands on; None outside run phases
    rest_days: int
    default: bool


@dataclass(frozen=True, slots=True)
class AlertView:
    """A coach alert as it reads now; the Telegram layer turns `offer` into buttons."""

    text: str
    runner_id: int
    version: int
    offer: Offer
    acknowledged: bool = False
    choices: tuple[ResumeChoice, ...] = ()
    reply: bool = False  # a runner's message: its button says Reply


@dataclass(frozen=True, slots=True)
class RunnerStop:
    """What a coach's runner waits on now: a stop and its ways back (for /clear and the stop
    buttons), or a clearance at a gate; buttons made from it carry `version`."""

    runner_id: int
    name: str
    status: Status
    version: int
    since: datetime | None  # in the coach's time zone
    acknowledged: bool
    choices: tuple[ResumeChoice, ...]
    awaiting_clearance: bool = False


def resume_choices(d: Deps, state: ProgramState) -> tuple[ResumeChoice, ...]:
    """The rules' ways back from this runner's stop, each with the level it lands on."""
    now = d.clock()
    out = []
    for o in resume_options(state, d.rules):
        # A dry run of the pure engine: exactly where Confirm would put the runner.
        preview = CoachAction(CoachVerb.CLEAR, 0, option=o.id, by="preview")
        landed = decide(state, preview, d.rules, now).state
        phase = d.rules.protocols[landed.protocol_id].phase(landed.phase_id)
        level = (
            texts.level_label(d.rules, landed.protocol_id, phase.levels[landed.level].id)
            if phase.runs and phase.levels
            else None
        )
        out.append(ResumeChoice(o.id, level, o.rest_days, o.default))
    return tuple(out)


def _name(r: Runner) -> str:
    return tc.clean(r.display_name or "", tc.NAME_MAX) or tc.UNNAMED.format(id=r.id)


async def runner_stop(d: Deps, coach: CoachCtx, runner_id: int) -> RunnerStop:
    """The runner's stop as it is now (NotYourRunner first); `choices` empty when not stopped."""
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id)
        if r is None or r.coach_id != coach.id:
            raise NotYourRunner(runner_id)
        loaded = await repo.load_program(s, runner_id)
    if loaded is None:
        raise NotYourRunner(runner_id)
    state, version = loaded
    since = state.flag_since.astimezone(zone(coach.timezone)) if state.flag_since else None
    return RunnerStop(
        runner_id=r.id,
        name=_name(r),
        status=state.status,
        version=version,
        since=since if state.status.stopped else None,
        acknowledged=state.flag_ack is not None,
        choices=resume_choices(d, state) if state.status.stopped else (),
        awaiting_clearance=state.gate is not None and state.gate.awaiting_clearance,
    )


async def alert_view(d: Deps, item: Any, state: ProgramState | None) -> AlertView | None:
    """The words of a coach alert and what it may act on, read when it is sent (current state)."""
    payload: dict[str, Any] = dict(item.payload or {})
    runner_id = item.runner_id
    async with reading(d) as s:
        r = await repo.get_runner(s, runner_id) if runner_id is not None else None
        loaded = await repo.load_program(s, runner_id) if runner_id is not None else None
        # State and version read together: the buttons act on exactly the program shown.
        state, version = loaded if loaded else (state, 0)
        acked_by = (
            await _who_words(s, state.flag_ack) if state is not None and state.flag_ack else None
        )
    if r is None:
        return None
    name = _name(r)
    reason = str(payload.get("reason", ""))
    site = d.rules.site_by_id.get(str(payload.get("site", "")))
    site_name = _(site.name) if site else str(payload.get("site", ""))
    high = (tc.RISK_HIGH if site.needs_clearance else tc.RISK_LOW) if site else ""
    proto_id = state.protocol_id if state else ""
    lvl = (
        texts.level_label(d.rules, proto_id, payload.get("level"))
        if proto_id and payload.get("level")
        else tc.NONE
    )
    phase = payload.get("phase", "")
    if proto_id and phase:
        phase = _phase_name(d, proto_id, str(phase))
    rules = list(payload.get("rules", []))
    answers = payload.get("answers") or {}
    flagged = reasons.answers(d.rules, answers, proto_id, rules) if answers else ""
    where = (
        tc.ALERT_PHASE_LEVEL.format(phase=phase, level=lvl)
        if payload.get("level")
        else tc.ALERT_PHASE.format(phase=phase)
    )

    def settled(text: str) -> AlertView:
        return AlertView(f"{text}\n{tc.ALERT_SETTLED.format(id=r.id)}", r.id, version, Offer.NONE)

    if reason in ("red_flag", "escalated", "review_requested"):
        if reason == "review_requested":
            stopped = str(payload.get("stopped", ""))
            text = tc.REVIEW_REQUESTED.format(
                name=name,
                id=r.id,
                site=site_name,
                high=high,
                status=tc.stop_word(stopped),
                why=reasons.reasons(d.rules, proto_id, rules),
            )
            still = state is not None and state.status.stopped
        else:
            last = await runner_flows.sessions(d, r.id, limit=3)
            last_txt = "; ".join(
                tc.ALERT_SESSION.format(
                    day=x.day,
                    kind=tc.KIND_WORDS.get(x.kind, x.kind),
                    outcome=tc.OUTCOME_WORDS.get(x.outcome or "", x.outcome or ""),
                    during=tc.pain(x.pain_during),
                )
                for x in last
            )
            title = tc.ALERT_TITLES[reason]
            if payload.get("reminder"):
                n = _hours_unacknowledged(d, state)
                hours = texts.plural(n, tc.HOUR, tc.HOURS)
                title = tc.ALERT_REMINDER.format(title=title, hours=hours)
            text = tc.ALERT.format(
                title=title,
                name=name,
                id=r.id,
                site=site_name,
                high=high,
                where=where,
                why=reasons.reasons(d.rules, proto_id, rules),
                answers=tc.ALERT_ANSWERS.format(answers=flagged) if flagged else "",
                last=last_txt or tc.NONE,
            )
            stop_status = Status.RED_FLAG if reason == "red_flag" else Status.ESCALATED
            still = state is not None and state.status is stop_status
        if state is None or not still:
            # Sent late (e.g. after retries) and already dealt with: no buttons that would act
            # on the program as it is now.
            return settled(text)
        text = f"{text}\n{tc.STOP_NOTE}"
        if acked_by:
            text = f"{text}\n{tc.STOP_ACKED_BY.format(who=acked_by)}"
        return AlertView(
            text,
            r.id,
            version,
            Offer.STOP,
            acknowledged=state.flag_ack is not None,
            choices=resume_choices(d, state),
        )
    if reason == "clearance_needed":
        nxt = payload.get("next_phase", "")
        if proto_id and nxt:
            nxt = _phase_name(d, proto_id, str(nxt))
        words = tc.CLEARANCE_CLAIMED if payload.get("claimed") else tc.CLEARANCE
        text = words.format(
            name=name,
            id=r.id,
            site=site_name,
            high=high,
            phase=nxt,
            why=reasons.reasons(d.rules, proto_id, rules),
        )
        if state is None or state.gate is None or not state.gate.awaiting_clearance:
            return settled(text)
        return AlertView(text, r.id, version, Offer.CLEARANCE)
    if reason == "unreachable":
        return AlertView(tc.UNREACHABLE.format(name=name, id=r.id), r.id, version, Offer.NONE)
    if reason in ("protocol_fallback", "protocol_switched"):
        text = await _protocol_text(
            d, reason, payload, name, r.id, site_name, high, lvl, phase, proto_id
        )
        return AlertView(text, r.id, version, Offer.NONE)
    told = _TOLD_ONLY.get(reason)
    if told is not None:  # an escalate rule's `then: notify`, a discharge: nothing to press
        text = told.format(
            name=name,
            id=r.id,
            regressions=payload.get("regressions", ""),  # used by the step-back notice only
            site=site_name,
            high=high,
            phase=phase,
            level=lvl,
            rules=", ".join(rules),
            why=reasons.reasons(d.rules, proto_id, rules),
        )
        return AlertView(text, r.id, version, Offer.NONE)
    if reason == "screening":
        why = reasons.reasons(d.rules, proto_id, rules)
        text = tc.SCREENING.format(name=name, id=r.id, why=why)
        return AlertView(text, r.id, version, Offer.NONE)
    if reason == "runner_message":
        said = await messages.message_text(d, int(payload.get("message", 0)))
        if said is None:
            return None
        text = tc.RUNNER_MESSAGE.format(
            name=name, id=r.id, phase=phase or "–", level=lvl, text=said
        )
        return AlertView(text, r.id, version, Offer.NONE, reply=True)
    if reason == "joined":
        return AlertView(tc.RUNNER_JOINED.format(name=name, id=r.id), r.id, version, Offer.NONE)
    return None


def _phase_name(d: Deps, protocol_id: str, phase_id: str) -> str:
    """A phase's name; an alert written before a protocol switch names the old protocol's."""
    for proto in (d.rules.protocols[protocol_id], *d.rules.protocols.values()):
        for ph in proto.phases:
            if ph.id == phase_id:
                return _(ph.name)
    return phase_id


async def _protocol_text(
    d: Deps,
    reason: str,
    payload: dict[str, Any],
    name: str,
    runner_id: int,
    site: str,
    high: str,
    level: str,
    phase: str,
    protocol_id: str,
) -> str:
    """An invite's protocol not followed (the site's own instead), or a protocol switch."""

    def named(pid: Any) -> str:
        proto = d.rules.protocols.get(str(pid))
        return f"{proto.name} ({proto.id})" if proto is not None else str(pid)

    why = reasons.reasons(d.rules, protocol_id, list(payload.get("rules", [])))
    if reason == "protocol_fallback":
        return tc.PROTOCOL_FALLBACK.format(
            name=name,
            id=runner_id,
            asked=named(payload.get("asked")),
            site=site,
            high=high,
            protocol=named(payload.get("protocol")),
            why=why,
        )
    if payload.get("by"):
        who = tc.OPERATOR.format(name=tc.clean(str(payload["by"]), tc.NAME_MAX))
    else:
        async with reading(d) as s:
            who = await _who_words(s, f"coach:{payload.get('coach_id')}")
    return tc.PROTOCOL_SWITCHED.format(
        name=name,
        id=runner_id,
        old=named(payload.get("from_protocol")),
        new=named(payload.get("protocol")),
        who=who,
        site=site,
        high=high,
        phase=phase,
        level=level,
        why=why,
    )


def _hours_unacknowledged(d: Deps, state: ProgramState | None) -> int:
    if state is not None and state.flag_since is not None:
        return max(1, round((d.clock() - state.flag_since).total_seconds() / 3600))
    return d.rules.symptoms.actions.red_flag.remind_coach_after_hours


# --- the operator (CLI): a clinician's act recorded with their name ---------------------------


class OperatorRefused(Exception):
    """One line saying why nothing was done (unknown runner, nothing to clear, bad option)."""


@dataclass(frozen=True, slots=True)
class OperatorResult:
    before: ProgramState
    decision: Decision | None  # None: nothing needed doing (already acknowledged)


async def operator_act(
    d: Deps, runner_id: int, verb: CoachVerb, by: str, option: str | None = None
) -> OperatorResult:
    """Clear (lift a stop along a way back, or grant an awaited clearance) or acknowledge, as the
    operator: recorded with actor `operator:<by>`. The check and the change are one transaction
    at one program version, so a stop lifted meanwhile is never turned into a gate clearance."""
    event = CoachAction(verb, 0, option=option, by=by)

    def needed(state: ProgramState, _version: int) -> None:
        if not _operator_check(d, runner_id, state, verb, option):
            raise _NothingToDo(state)

    async def turn(s: AsyncSession, now: datetime) -> OperatorResult:
        before, decision = await decide_and_store(
            s, d, runner_id, event, actor=f"operator:{by}", now=now, check=needed
        )
        return OperatorResult(before, decision)

    try:
        result = await in_one_transaction(d, runner_id, turn)
    except _NothingToDo as done:
        return OperatorResult(done.state, None)
    except LookupError:
        raise OperatorRefused(f"no runner #{runner_id}") from None
    except repo.ConcurrentUpdate:
        raise OperatorRefused(f"runner #{runner_id} kept changing; try again") from None
    return result


class _NothingToDo(Exception):
    """The operator's act is already done (e.g. acknowledged): nothing is written."""

    def __init__(self, state: ProgramState) -> None:
        super().__init__()
        self.state = state


def _operator_check(
    d: Deps, runner_id: int, state: ProgramState, verb: CoachVerb, option: str | None
) -> bool:
    """Raise OperatorRefused for a request that makes no sense now; False: already done."""
    awaiting = state.gate is not None and state.gate.awaiting_clearance
    if verb is CoachVerb.ACKNOWLEDGE:
        if not state.status.stopped:
            raise OperatorRefused(f"runner #{runner_id} is not stopped: nothing to acknowledge")
        return state.flag_ack is None
    if state.status.stopped:
        valid = [o.id for o in resume_options(state, d.rules)]
        if option is not None and option not in valid:
            raise OperatorRefused(
                f"unknown option {option!r} for runner #{runner_id}; valid: {', '.join(valid)}"
            )
        return True
    if option is not None and awaiting:
        raise OperatorRefused(
            f"runner #{runner_id} waits for a clearance, not a stop: --option applies only "
            "to lifting a red flag or an escalation"
        )
    if not awaiting:
        raise OperatorRefused(
            f"runner #{runner_id} has nothing to clear (status {state.status.value}, "
            "no clearance awaited)"
        )
    return True


# --- weekly digest ---------------------------------------------------------------------------


def _next_digest(now: datetime, tz: str) -> datetime:
    today = local_date(now, tz)
    days = (DIGEST_WEEKDAY - today.weekday()) % 7
    day = today + timedelta(days=days)
    due = local_instant(day, DIGEST_TIME, tz)
    if due <= now:
        due = local_instant(day + timedelta(days=7), DIGEST_TIME, tz)
    return due


async def _ensure_digest(
    s: Any, d: Deps, coach_id: int, tz: str, after: datetime | None = None
) -> None:
    due = _next_digest(after or d.clock(), tz)
    iso = due.astimezone(zone(tz)).isocalendar()
    await agenda.schedule(
        s,
        [
            NewItem(
                scope=agenda.coach_scope(coach_id),
                coach_id=coach_id,
                kind=MessageKind.DIGEST.value,
                key=f"digest:{iso.year}-W{iso.week:02d}",
                due_at=due,
                payload={},
            )
        ],
        now=d.clock(),
    )


async def ensure_all_digests(d: Deps) -> None:
    """At start: every active coach has next week's digest on the agenda (idempotent by key)."""
    async with writing(d) as s:
        for c in await repo.list_coaches(s, active_only=True):
            await _ensure_digest(s, d, c.id, c.timezone)


async def digest_texts(d: Deps, coach_id: int) -> list[str]:
    """The digest's messages, and the next digest scheduled (a chain that survives restarts)."""
    from bot.coach.digest import digest_messages

    async with writing(d) as s:
        c = await s.get(Coach, coach_id)
        if c is None or not c.active:
            return []
        await _ensure_digest(s, d, c.id, c.timezone, after=d.clock() + timedelta(hours=1))
        name, tz = c.name, c.timezone
    coach = CoachCtx(coach_id, 0, name, tz)
    entries = await roster(d, coach)
    today = local_date(d.clock(), tz)
    week_start = today - timedelta(days=today.weekday() + 7)
    open_alerts = await messages.count_open_alerts(d, coach_id)
    return digest_messages(
        name, entries, week_start=week_start, today=today, open_alerts=open_alerts
    )


async def screening_alert(d: Deps, runner_id: int) -> None:
    """The runner agreed to share a screen that suggests a review: tell their coach."""
    now = d.clock()
    rule = d.rules.habits.screening.id
    async with writing(d) as s:
        coach_id = await repo.coach_of(s, runner_id)
        if coach_id is None:
            return
        await agenda.schedule(
            s,
            [
                NewItem(
                    scope=agenda.runner_scope(runner_id),
                    runner_id=runner_id,
                    coach_id=coach_id,
                    kind=MessageKind.COACH_ALERT.value,
                    key=f"alert:screening:{now.date().isoformat()}",
                    due_at=now,
                    payload={"reason": "screening", "rules": [rule]},
                )
            ],
            now=now,
        )
    wake_agenda(d, runner_id)
