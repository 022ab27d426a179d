"""The tables a tailored runner's decisions read: one protocol's tables (tables.py) re-derived
under a coach's overlay (hold, maintenance volume, pain threshold), never by changing the shared
ones. Untailored runners never come here.

Pure and cached: runners with the same tailoring of the same protocol share one derived table
(so the symptom verdict memo, keyed by table, keeps working for them)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from bot.program.loader import Rules
from bot.program.rules import PhaseKind, Protocol, Severity, TailoringFile
from bot.program.state import Overlay
from bot.program.tables import (
    AT_LEAST,
    CompiledClassification,
    PainTable,
    ProtocolTables,
    _protocol_tables,
)

PAIN_DURING = "pain_during"

# What a derived table depends on: (protocol tables, tailoring file) by identity, the values.
_Key = tuple[int, int, int | None, int | None, int | None, float | None]
# The derived tables, with the objects their key names by identity (kept alive with them).
_CACHE: dict[_Key, tuple[ProtocolTables, TailoringFile, ProtocolTables]] = {}
_CACHE_MAX = 256


def shapes_tables(ov: Overlay) -> bool:
    """Whether the overlay changes a protocol's tables (otherwise the shared ones serve)."""
    return (
        ov.hold_sessions is not None
        or ov.hold_days is not None
        or ov.pain_threshold is not None
        or ov.maintenance_factor is not None
    )


def tailored_tables(pt: ProtocolTables, ov: Overlay, rules: Rules) -> ProtocolTables:
    """`pt` as the overlay tailors it (the same object when the overlay changes no table)."""
    if not shapes_tables(ov):
        return pt
    tailoring = rules.tailoring
    key: _Key = (
        id(pt),
        id(tailoring),
        ov.hold_sessions,
        ov.hold_days,
        ov.pain_threshold,
        ov.maintenance_factor,
    )
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[2]
    protocol = tailored_protocol(pt.protocol, ov)
    pain = pt.pain
    if ov.pain_threshold is not None:
        pain = tailored_pain(pain, ov.pain_threshold, tailoring)
    made = _protocol_tables(
        protocol, rules.sites.sites, rules.question_by_id, rules.scheduling, pain
    )
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (pt, tailoring, made)
    return made


def tailored_protocol(protocol: Protocol, ov: Overlay) -> Protocol:
    """The protocol with every run level's hold, and the maintenance runs' running time, as
    tailored. A copy: the loaded protocol is shared by every runner."""
    phases = []
    for phase in protocol.phases:
        if not phase.runs:
            phases.append(phase)
            continue
        levels = []
        for lv in phase.levels:
            update: dict[str, int] = {}
            if ov.hold_sessions is not None:
                update["hold_sessions"] = ov.hold_sessions
            if ov.hold_days is not None:
                update["hold_days"] = ov.hold_days
            if ov.maintenance_factor is not None and phase.kind is PhaseKind.MAINTENANCE:
                # Whole minutes, never under one: as a deload week scales a run (calendar.py).
                update["run_s"] = max(60, int(lv.run_s * ov.maintenance_factor) // 60 * 60)
            levels.append(lv.model_copy(update=update) if update else lv)
        phases.append(phase.model_copy(update={"levels": levels}))
    return protocol.model_copy(update={"phases": phases})


def _is_pain_during_regress(c: CompiledClassification) -> bool:
    return (
        c.severity is Severity.REGRESS
        and len(c.conditions) == 1
        and c.conditions[0][0] == PAIN_DURING
        and c.conditions[0][1] == AT_LEAST
    )


def tailored_pain(pain: PainTable, threshold: int, tailoring: TailoringFile) -> PainTable:
    """The pain table with the coach's threshold: pain during above it regresses (a row named
    by the tailoring rule id, in place of the rules' own pain-during regress rows); at or below
    it the other rows judge as before (mild pain still holds). Red flags are never touched."""
    row = CompiledClassification(
        tailoring.id,
        Severity.REGRESS,
        Severity.REGRESS.rank,
        ((PAIN_DURING, AT_LEAST, threshold + 1),),
    )
    rows: list[CompiledClassification] = []
    placed = False
    for c in pain.classifications:
        if _is_pain_during_regress(c):
            if not placed:
                rows.append(row)
                placed = True
            continue
        rows.append(c)
    if not placed:
        rows.append(row)
    says = dict(pain.says)
    says[tailoring.id] = tailoring.pain_threshold.says.format(threshold=threshold)
    return replace(pain, classifications=tuple(rows), says=MappingProxyType(says))
