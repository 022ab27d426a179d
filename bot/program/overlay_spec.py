"""A coach's overlay as people write it (an `--overlay` YAML file, `boneload tailor` options):
field names and plain values, read into an `Overlay`, or a ValueError saying what is wrong.

Pure: the caller reads the file. Whether the values are within tailoring.yaml's bounds is the
engine's check (`engine.check_overlay`), not this one's: this one only reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.program.state import OVERLAY_FIELDS, Overlay

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The spelling in a file or on the command line -> the Overlay field.
NAMES = {
    "start_level": "start_level",
    "hold_sessions": "hold_sessions",
    "hold_days": "hold_days",
    "rest_days": "rest_days",
    "days_between": "rest_days",
    "rest_days_between_runs": "rest_days",
    "weekdays": "weekdays",
    "pain_threshold": "pain_threshold",
    "maintenance": "maintenance_factor",
    "maintenance_factor": "maintenance_factor",
}
CLEAR = ("default", "none", "clear", "")


def parse_weekdays(spec: Any) -> frozenset[int]:
    """'mon,wed,fri', ['mon', 'wed'] or [0, 2] -> weekday numbers (0 = Monday)."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    days: set[int] = set()
    for part in parts:
        word = str(part).strip().lower()[:3]
        if word in WEEKDAYS:
            days.add(WEEKDAYS.index(word))
        elif word.isdigit() and int(word) <= 6:
            days.add(int(word))
        elif word:
            raise ValueError(f"weekdays: {part!r} is not a weekday (mon..sun or 0..6)")
    if not days:
        raise ValueError("weekdays: name at least one weekday")
    return frozenset(days)


def _value(field: str, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in CLEAR):
        return None  # back to the rules as they are
    if field == "start_level":
        return str(raw).strip()
    if field == "weekdays":
        return parse_weekdays(raw)
    if field == "maintenance_factor":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"maintenance: {raw!r} is not a number like 0.8") from None
        return value / 100 if value > 2 else value  # "80" (per cent) reads as 0.8
    if isinstance(raw, bool):
        raise ValueError(f"{field}: {raw!r} is not a whole number")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{field}: {raw!r} is not a whole number") from None


def overlay_changes(data: Mapping[str, Any]) -> dict[str, Any]:
    """Field -> new value (None: back to the rules), from written names and values."""
    out: dict[str, Any] = {}
    for key, raw in data.items():
        field = NAMES.get(str(key).strip().lower().replace("-", "_"))
        if field is None:
            known = ", ".join(sorted({*NAMES} - {"rest_days_between_runs", "maintenance_factor"}))
            raise ValueError(f"unknown overlay field {key!r} (known: {known})")
        out[field] = _value(field, raw)
    return out


def apply_changes(base: Overlay | None, changes: Mapping[str, Any]) -> Overlay:
    """The overlay's values with these changes laid over them (version and author dropped)."""
    values = base.values() if base is not None else Overlay()
    unknown = set(changes) - set(OVERLAY_FIELDS)
    if unknown:
        raise ValueError(f"unknown overlay fields {sorted(unknown)}")
    return replace(values, **changes)


def overlay_from_mapping(data: Mapping[str, Any]) -> Overlay:
    return apply_changes(None, overlay_changes(data))
