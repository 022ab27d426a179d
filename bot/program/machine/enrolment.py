"""Enrolment: the protocol a runner follows (chosen, the site's own, or by risk class) and
the gates the onboarding answers already satisfy.

Part of the engine (`bot/program/engine.py`): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import datetime

from bot.program.calendar import local_date
from bot.program.decision import Act, Decision
from bot.program.events import Enrolled
from bot.program.loader import Rules, protocol_hops, site_risk
from bot.program.machine.context import BadEvent, _coach_alert, _context, _Out
from bot.program.machine.gates import (
    _gate_questions,
    _needs_clearance,
    _schedule_gate,
    _try_pass_gate,
    gate_min_days,
)
from bot.program.machine.replan import _replan
from bot.program.rules import PhaseKind, Protocol, Site
from bot.program.state import Profile, ProgramState


def protocol_choices(rules: Rules, site: Site) -> list[Protocol]:
    """The protocols this site's runner may follow: those written for the site's risk class
    ("not sure" counts as high). A low-risk protocol, with no non-weight-bearing phase and fewer
    clearances, is never offered for a high-risk site; nor one with hops or plyometrics for a
    site where hopping could complete the fracture (`hop_tests: false`)."""
    risk = site_risk(site)
    return [
        p
        for p in rules.protocols.values()
        if p.for_risk is risk and (site.hop_tests or not protocol_hops(p))
    ]


def chosen_protocol(rules: Rules, site: Site, protocol_id: str | None) -> Protocol:
    """The protocol a runner at `site` follows: the one chosen for them, if it is allowed for
    the site, else the site's own or its risk class's (sites.yaml)."""
    if protocol_id is None:
        return rules.protocol_for(site)
    allowed = {p.id: p for p in protocol_choices(rules, site)}
    if protocol_id not in allowed:
        raise BadEvent(
            f"protocol {protocol_id!r} is not one for site {site.id!r} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return allowed[protocol_id]


def _invite_protocol_refused(rules: Rules, site: Site, ev: Enrolled) -> bool:
    """The invite names a protocol that is not one for this site (so it is not followed)."""
    asked = ev.invite_protocol_id
    if asked is None or ev.protocol_id is not None:
        return False
    return asked not in {p.id for p in protocol_choices(rules, site)}


def _enrol(ev: Enrolled, rules: Rules, now: datetime) -> Decision:
    site = rules.site_by_id.get(ev.site_id)
    if site is None:
        raise BadEvent(f"unknown site {ev.site_id!r}")
    if not ev.available_days or not ev.available_days <= set(range(7)):
        raise BadEvent("available_days must be a non-empty set of weekdays 0..6")
    local_date(now, ev.timezone)  # raises for an unknown zone before anything is built
    protocol = chosen_protocol(rules, site, ev.protocol_id)
    refused = _invite_protocol_refused(rules, site, ev)
    if ev.protocol_id is None and ev.invite_protocol_id is not None and not refused:
        protocol = rules.protocols[ev.invite_protocol_id]
    profile = Profile(
        site_id=site.id,
        diagnosis_date=ev.diagnosis_date,
        timezone=ev.timezone,
        preferred_time=ev.preferred_time,
        available_days=frozenset(ev.available_days),
        imaging_system=ev.imaging_system,
        imaging_grade=ev.imaging_grade,
    )
    ctx = _context(rules, protocol.id, site, now, ev.timezone, profile)
    first = protocol.phases[0]
    state = ProgramState(
        profile=profile,
        protocol_id=protocol.id,
        phase_id=first.id,
        level=0,
        phase_since=ctx.today,
        level_since=ctx.today,
        claims=frozenset(ev.claimed),  # requests: nothing is cleared by the runner's word
        maintenance_since=ctx.today if first.kind is PhaseKind.MAINTENANCE else None,
    )
    out = _Out()
    out.act(Act.ENROL, rules.symptoms.actions.enrol.id, protocol=protocol.id, site=site.id)
    if refused:
        # The coach's invite named a protocol this site may not follow: the site's own is
        # followed, and the coach hears why.
        fallback = rules.symptoms.actions.protocol_fallback.id
        asked = ev.invite_protocol_id
        out.act(Act.RECORD, fallback, asked=asked, protocol=protocol.id, site=site.id)
        _coach_alert(
            out,
            state,
            ctx,
            f"alert:invite-protocol:{ctx.today}",
            "protocol_fallback",
            [fallback],
            asked=asked,
            protocol=protocol.id,
        )
    out.act(Act.ADVANCE_PHASE, first.gate.id, phase=first.id, kind=first.kind.value)
    # Pass the gates the onboarding answers already satisfy, never into running on answers alone,
    # and never through a gate that needs a clinician: there the coach is asked at once.
    for nxt in protocol.phases[1:]:
        g = nxt.gate
        days_ok = (ctx.today - ev.diagnosis_date).days >= gate_min_days(nxt, ctx.grade)
        answers_ok = all(ev.gate_answers.get(q) is True for q in _gate_questions(nxt, ctx))
        if not (g.on_enrolment and days_ok and answers_ok):
            break
        if _needs_clearance(g, ctx):
            state = _try_pass_gate(state, nxt, ctx, out)
            return out.done(_replan(state, ctx, out))
        state = state.evolve(phase_id=nxt.id, phase_since=ctx.today, level_since=ctx.today)
        out.act(Act.ADVANCE_PHASE, g.id, phase=nxt.id, kind=nxt.kind.value, on_enrolment=True)
    state = _schedule_gate(state, ctx, out)
    state = _replan(state, ctx, out)
    return out.done(state)
