"""ProgramState <-> JSON-ready dict, for the database. Versioned so old rows stay readable."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from bot.program.rules import SessionKind, Severity
from bot.program.state import (
    ExerciseRx,
    OpenSession,
    Overlay,
    PendingGate,
    Planned,
    Prescription,
    Profile,
    ProgramState,
    Status,
)

# 2: clearances are a clinician's only. Version 1 stored a runner's own onboarding "yes" as a
# clearance, so a version-1 row's clearances are read back as claims (requests to the coach):
# the coach is asked again at the next gate, which is the safe side.
VERSION = 2


def _d(v: str | None) -> date | None:
    return date.fromisoformat(v) if v else None


def state_to_dict(s: ProgramState) -> dict[str, Any]:
    out = _state_dict(s)
    # Fields added later are written only when set, so the rows of runners who never use them
    # stay as they were.
    if s.last_regress_level is not None:
        out["last_regress_level"] = s.last_regress_level
    if s.stage_since is not None:
        out["stage_since"] = s.stage_since.isoformat()
    if s.overlay is not None:
        out["overlay"] = overlay_to_dict(s.overlay)
    return out


def overlay_to_dict(o: Overlay) -> dict[str, Any]:
    """A coach's overlay as JSON: its version, author and the fields it sets (only those)."""
    out: dict[str, Any] = {"version": o.version, "by": o.by}
    for name in o.tailored():
        value = getattr(o, name)
        out[name] = sorted(value) if isinstance(value, frozenset) else value
    return out


def overlay_from_dict(d: dict[str, Any]) -> Overlay:
    days = d.get("weekdays")
    return Overlay(
        version=int(d.get("version", 0)),
        by=str(d.get("by", "")),
        start_level=d.get("start_level"),
        hold_sessions=d.get("hold_sessions"),
        hold_days=d.get("hold_days"),
        rest_days=d.get("rest_days"),
        weekdays=frozenset(days) if days is not None else None,
        pain_threshold=d.get("pain_threshold"),
        maintenance_factor=d.get("maintenance_factor"),
    )


def _state_dict(s: ProgramState) -> dict[str, Any]:
    p = s.profile
    return {
        "v": VERSION,
        "profile": {
            "site_id": p.site_id,
            "diagnosis_date": p.diagnosis_date.isoformat(),
            "timezone": p.timezone,
            "preferred_time": p.preferred_time.strftime("%H:%M"),
            "available_days": sorted(p.available_days),
            "imaging_system": p.imaging_system,
            "imaging_grade": p.imaging_grade,
        },
        "protocol_id": s.protocol_id,
        "phase_id": s.phase_id,
        "level": s.level,
        "phase_since": s.phase_since.isoformat(),
        "level_since": s.level_since.isoformat(),
        "status": s.status.value,
        "clear_at_level": s.clear_at_level,
        "impact_free_until": s.impact_free_until.isoformat() if s.impact_free_until else None,
        "regressions": [d.isoformat() for d in s.regressions],
        "clearances": sorted(s.clearances),
        "next": _planned_to_dict(s.next) if s.next else None,
        "open": [
            {
                "seq": o.seq,
                "day": o.day.isoformat(),
                "kind": o.kind.value,
                "reported_at": o.reported_at.isoformat(),
                "severity": o.severity.value,
                "applied": o.applied.value,
                "pain_during": o.pain_during,
                "level_id": o.level_id,
            }
            for o in s.open
        ],
        "recent": [[d.isoformat(), k.value] for d, k in s.recent],
        "gate": (
            {
                "phase_id": s.gate.phase_id,
                "asked_on": s.gate.asked_on.isoformat(),
                "answers_ok": s.gate.answers_ok,
                "awaiting_clearance": s.gate.awaiting_clearance,
            }
            if s.gate
            else None
        ),
        "seq": s.seq,
        "pause_reason": s.pause_reason,
        "maintenance_since": s.maintenance_since.isoformat() if s.maintenance_since else None,
        "sessions_total": s.sessions_total,
        "claims": sorted(s.claims),
        "flag_since": s.flag_since.isoformat() if s.flag_since else None,
        "flag_ack": s.flag_ack,
        "loading_since": s.loading_since.isoformat() if s.loading_since else None,
        "watched_on": s.watched_on.isoformat() if s.watched_on else None,
    }


def _planned_to_dict(n: Planned) -> dict[str, Any]:
    rx = n.prescription
    rx_dict: dict[str, Any] = {
        "kind": rx.kind.value,
        "phase_id": rx.phase_id,
        "level_id": rx.level_id,
        "description": rx.description,
        "minutes": rx.minutes,
        "run_s": rx.run_s,
        "walk_s": rx.walk_s,
        "repeats": rx.repeats,
        "deload": rx.deload,
        "intensity": rx.intensity,
    }
    # Segment shape: written only when not the default, so older states read the same.
    shape: dict[str, Any] = {
        "walk_first": rx.walk_first,
        "warmup_walk_min": rx.warmup_walk_min,
        "cooldown_walk_min": rx.cooldown_walk_min,
    }
    rx_dict.update({key: value for key, value in shape.items() if value})
    # Session content: also only when given, so today's states and fingerprints stay the same.
    content: dict[str, Any] = {
        "steps": rx.steps,
        "contacts": rx.contacts,
        "progression": rx.progression,
        "exercises": [_exercise_to_dict(e) for e in rx.exercises],
    }
    rx_dict.update({key: value for key, value in content.items() if value})
    return {"seq": n.seq, "day": n.day.isoformat(), "rx": rx_dict}


def _exercise_to_dict(e: ExerciseRx) -> dict[str, Any]:
    out: dict[str, Any] = {"name": e.name, "sets": e.sets, "reps": e.reps}
    if e.per_side:
        out["per_side"] = True
    if e.hold_s is not None:
        out["hold_s"] = e.hold_s
    return out


def _prescription_from_dict(rx: dict[str, Any]) -> Prescription:
    rest = {k: v for k, v in rx.items() if k not in ("kind", "exercises")}
    exercises = tuple(ExerciseRx(**e) for e in rx.get("exercises", ()))
    return Prescription(kind=SessionKind(rx["kind"]), exercises=exercises, **rest)


def state_from_dict(d: dict[str, Any]) -> ProgramState:
    version = d.get("v")
    if version not in (1, VERSION):
        raise ValueError(f"unsupported program state version {version!r}")
    old = version == 1
    p = d["profile"]
    hh, mm = p["preferred_time"].split(":")
    nxt = d["next"]
    return ProgramState(
        profile=Profile(
            site_id=p["site_id"],
            diagnosis_date=date.fromisoformat(p["diagnosis_date"]),
            timezone=p["timezone"],
            preferred_time=time(int(hh), int(mm)),
            available_days=frozenset(p["available_days"]),
            imaging_system=p["imaging_system"],
            imaging_grade=p["imaging_grade"],
        ),
        protocol_id=d["protocol_id"],
        phase_id=d["phase_id"],
        level=d["level"],
        phase_since=date.fromisoformat(d["phase_since"]),
        level_since=date.fromisoformat(d["level_since"]),
        status=Status(d["status"]),
        clear_at_level=d["clear_at_level"],
        impact_free_until=_d(d["impact_free_until"]),
        regressions=tuple(date.fromisoformat(x) for x in d["regressions"]),
        clearances=frozenset() if old else frozenset(d["clearances"]),
        next=(
            Planned(
                seq=nxt["seq"],
                day=date.fromisoformat(nxt["day"]),
                prescription=_prescription_from_dict(nxt["rx"]),
            )
            if nxt
            else None
        ),
        open=tuple(
            OpenSession(
                seq=o["seq"],
                day=date.fromisoformat(o["day"]),
                kind=SessionKind(o["kind"]),
                reported_at=datetime.fromisoformat(o["reported_at"]),
                severity=Severity(o["severity"]),
                applied=Severity(o["applied"]),
                pain_during=o["pain_during"],
                level_id=o.get("level_id"),
            )
            for o in d["open"]
        ),
        recent=tuple((date.fromisoformat(x), SessionKind(k)) for x, k in d["recent"]),
        gate=(
            PendingGate(
                phase_id=d["gate"]["phase_id"],
                asked_on=date.fromisoformat(d["gate"]["asked_on"]),
                answers_ok=d["gate"]["answers_ok"],
                awaiting_clearance=d["gate"]["awaiting_clearance"],
            )
            if d["gate"]
            else None
        ),
        seq=d["seq"],
        pause_reason=d["pause_reason"],
        maintenance_since=_d(d["maintenance_since"]),
        sessions_total=d["sessions_total"],
        claims=frozenset(d["clearances"] if old else d["claims"]),
        flag_since=datetime.fromisoformat(d["flag_since"]) if d.get("flag_since") else None,
        flag_ack=d.get("flag_ack"),
        loading_since=_d(d.get("loading_since")),
        watched_on=_d(d.get("watched_on")),
        last_regress_level=d.get("last_regress_level"),
        stage_since=_d(d.get("stage_since")),
        overlay=overlay_from_dict(d["overlay"]) if d.get("overlay") else None,
    )
