"""Onboarding: consent, site, diagnosis date, imaging, clearances, ability, days, time, zone.

The steps depend on earlier answers (a high-risk site asks about clearances a low-risk one does
not need), so the next step is always derived from the data collected so far. Every answer is
saved by the handler before the next prompt, so a restart resumes at the same step.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from bot import texts
from bot.conversation.callbacks import Kind, cb
from bot.conversation.numbers import parse_int
from bot.conversation.prompts import Button, Prompt, Result, grid
from bot.conversation.questions import parse_yes_no
from bot.program.engine import gate_questions, needs_clearance
from bot.program.events import Enrolled
from bot.program.loader import Rules
from bot.program.rules import ImagingGrade, ImagingSystem, Site

COMMON_ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Tokyo",
    "UTC",
]
TIMES = ["06:00", "07:00", "08:00", "12:00", "17:00", "18:00", "19:00"]
IMAGING_UNKNOWN = "-"


def _imaging_system(data: dict[str, Any], rules: Rules) -> ImagingSystem | None:
    site = rules.site_by_id.get(str(data.get("site", "")))
    return rules.imaging_system_for(site) if site is not None else None


def _grade(data: dict[str, Any], rules: Rules) -> ImagingGrade | None:
    """The imaging grade answered so far (None: unknown, or not asked yet)."""
    system, grade = data.get("imaging_system"), data.get("imaging")
    return rules.imaging_grade(str(system), str(grade)) if system and grade else None


def _clearance_keys(site: Site, rules: Rules, grade: ImagingGrade | None) -> list[str]:
    """What a clinician must clear soon for this site and grade: asked as a claim, which the
    coach confirms (the runner's 'yes' never clears anything by itself)."""
    proto = rules.protocol_for(site)
    keys: list[str] = []
    for ph in proto.phases[1:]:
        g = ph.gate
        if ph.kind.value not in (
            "protection",
            "cross_training",
            "walking",
            "strength",
            "plyometric",
            "run_walk",
        ):
            break  # later gates are far off; the coach clears them when the time comes
        if needs_clearance(g, site, grade) and g.clearance_key and g.clearance_key not in keys:
            keys.append(g.clearance_key)
    return keys


def _ability_questions(site: Site, rules: Rules) -> list[str]:
    proto = rules.protocol_for(site)
    out: list[str] = []
    for ph in proto.phases[1:]:
        if not ph.gate.on_enrolment:
            break
        out += [q for q in gate_questions(ph.gate, site, rules) if q not in out]
    return out


def steps(data: dict[str, Any], rules: Rules) -> list[str]:
    """All steps for this runner given what is known so far, in order."""
    out = ["consent", "site", "diagnosis"]
    site = rules.site_by_id.get(str(data.get("site", "")))
    if site is None or rules.imaging_system_for(site) is not None:
        out.append("imaging")
    if site is not None:
        out += [f"clear:{k}" for k in _clearance_keys(site, rules, _grade(data, rules))]
        out += [f"ask:{q}" for q in _ability_questions(site, rules)]
    out += ["days", "time", "tz", "tz_ok"]
    return out


def _answered(step: str, data: dict[str, Any]) -> bool:
    if step == "days":
        return bool(data.get("days_done"))
    return step in data


def current_step(data: dict[str, Any], rules: Rules) -> str | None:
    return next((s for s in steps(data, rules) if not _answered(s, data)), None)


def prompt(
    step: str, data: dict[str, Any], rules: Rules, now: datetime, kind: Kind = Kind.ONBOARD
) -> Prompt:
    """The question for `step`; `kind` lets /settings reuse the days, time and zone steps."""
    k = kind
    if step == "consent":
        return Prompt(
            texts.DISCLAIMER, grid(k, step, [(texts.AGREE, "y"), (texts.DECLINE, "n")], 2)
        )
    if step == "site":
        opts = [(s.name, s.id) for s in rules.sites.sites]
        return Prompt(texts.ASK_SITE, grid(k, step, opts, 1))
    if step == "diagnosis":
        opts = [(texts.DIAG_TODAY, "0")] + [
            (texts.diag_weeks(n), str(n * 7)) for n in (1, 2, 4, 6, 8, 12)
        ]
        return Prompt(texts.ASK_DIAGNOSIS, grid(k, step, opts, 4))
    if step == "imaging":
        system = _imaging_system(data, rules)
        grades = system.grades if system is not None else []
        opts = [(g.label, g.id) for g in grades] + [(texts.IMAGING_UNKNOWN, IMAGING_UNKNOWN)]
        text = texts.ASK_IMAGING
        if system is not None:
            text += "\n" + texts.IMAGING_SYSTEM.format(name=system.name)
        return Prompt(text, grid(k, step, opts, 1))
    if step.startswith("clear:"):
        key = step.split(":", 1)[1]
        what = texts.CLEARANCE_LABELS.get(key, key.replace("_", " "))
        return Prompt(
            texts.ASK_CLEARANCE.format(what=what),
            grid(k, step, [(texts.YES, "y"), (texts.NO, "n")], 2),
        )
    if step.startswith("ask:"):
        q = rules.question_by_id[step.split(":", 1)[1]]
        return Prompt(q.text, grid(k, step, [(texts.YES, "y"), (texts.NO, "n")], 2))
    if step == "days":
        chosen = set(data.get("days", []))
        buttons = [
            Button(("✓ " if i in chosen else "") + texts.WEEKDAY_SHORT[i], cb(k, step, i))
            for i in range(7)
        ]
        rows = (tuple(buttons[:4]), tuple(buttons[4:]), (Button(texts.DONE, cb(k, step, "done")),))
        return Prompt(texts.ASK_DAYS, rows)
    if step == "time":
        return Prompt(texts.ASK_TIME, grid(k, step, [(t, t) for t in TIMES], 4))
    if step == "tz":
        return Prompt(texts.ASK_TZ, grid(k, step, [(z, z) for z in COMMON_ZONES], 2))
    if step == "tz_ok":
        tz = str(data["tz"])
        local = now.astimezone(ZoneInfo(tz))
        return Prompt(
            texts.CONFIRM_TZ.format(local=f"{local:%H:%M}", tz=tz),
            grid(k, step, [(texts.YES, "y"), (texts.CHANGE, "n")], 2),
        )
    raise KeyError(step)


def accept(step: str, value: str, data: dict[str, Any], rules: Rules, now: datetime) -> Result:
    """Apply a button value or typed text to the step; returns the new data or an error."""
    v = value.strip()
    new = dict(data)
    if step in ("consent", "tz_ok") or step.startswith(("clear:", "ask:")):
        yes = parse_yes_no(v)
        if yes is None:
            return Result(error=texts.USE_BUTTONS)
        if step == "tz_ok" and not yes:
            new.pop("tz", None)
            return Result(data=new)
        new[step] = yes
        return Result(data=new, done=step == "consent" and not yes)
    if step == "site":
        if v not in rules.site_by_id:
            return Result(error=texts.USE_BUTTONS)
        new["site"] = v
        return Result(data=new)
    if step == "diagnosis":
        d = parse_date(v, now.date())
        if d is None:
            return Result(error=texts.BAD_DATE)
        new["diagnosis"] = d.isoformat()
        return Result(data=new)
    if step == "imaging":
        system = _imaging_system(data, rules)
        if v == IMAGING_UNKNOWN or system is None:
            if v != IMAGING_UNKNOWN:
                return Result(error=texts.USE_BUTTONS)
            new["imaging"], new["imaging_system"] = None, None
            return Result(data=new)
        grade = system.grade(v) or next(
            (g for g in system.grades if g.id.lower() == v.lower()), None
        )
        if grade is None:
            return Result(error=texts.USE_BUTTONS)
        new["imaging"], new["imaging_system"] = grade.id, system.id
        return Result(data=new)
    if step == "days":
        chosen = set(data.get("days", []))
        if v == "done":
            if not chosen:
                return Result(error=texts.DAYS_NONE)
            new["days_done"] = True
            return Result(data=new)
        if (day := parse_int(v, lo=0, hi=6)) is None:
            return Result(error=texts.USE_BUTTONS)
        chosen ^= {day}
        new["days"] = sorted(chosen)
        return Result(data=new)
    if step == "time":
        t = parse_time(v)
        if t is None:
            return Result(error=texts.BAD_TIME)
        new["time"] = t.strftime("%H:%M")
        return Result(data=new)
    if step == "tz":
        tz, err = find_zone(v)
        if tz is None:
            return Result(error=err)
        new["tz"] = tz
        return Result(data=new)
    return Result(stale=True)


def parse_date(text: str, today: date) -> date | None:
    """A date typed or a button's 'days ago'; never in the future, never before 1990."""
    s = text.strip()
    d: date | None = None
    if (ago := parse_int(s, max_digits=4)) is not None:
        d = today - timedelta(days=ago)
    else:
        for pat, order in (
            (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
            (r"(\d{1,2})[./](\d{1,2})[./](\d{4})", "dmy"),
        ):
            m = re.fullmatch(pat, s)
            if m:
                a, b, c = (int(x) for x in m.groups())
                try:
                    d = date(a, b, c) if order == "ymd" else date(c, b, a)
                except ValueError:
                    return None
    if d is None or d > today or d.year < 1990:
        return None
    return d


def parse_time(text: str) -> time | None:
    m = re.fullmatch(r"(\d{1,2})[:.h]?(\d{2})", text.strip().lower())
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 23 or mi > 59:
        return None
    return time(h, mi)


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def find_zone(text: str) -> tuple[str | None, str]:
    """An IANA name, or a unique city match (Berlin -> Europe/Berlin); else why not."""
    s = text.strip()
    if not s or len(s) > 64:
        return None, texts.BAD_TZ.format(text=s[:64])
    zones = _zones()
    exact = {z.lower(): z for z in zones}
    if s.lower() in exact:
        return exact[s.lower()], ""
    city = s.lower().replace(" ", "_")
    matches = [
        z for z in zones if z.lower().rsplit("/", 1)[-1] == city and not z.startswith("Etc/")
    ]
    if len(matches) == 1:
        return matches[0], ""
    if len(matches) > 1:
        return None, texts.BAD_TZ_MANY.format(text=s, options=", ".join(matches[:5]))
    return None, texts.BAD_TZ.format(text=s)


def enrolled_event(data: dict[str, Any], rules: Rules) -> Enrolled:
    site = rules.site(str(data["site"]))
    hh, mm = str(data["time"]).split(":")
    # "Yes, a clinician cleared me" is a claim: the coach is asked to confirm it.
    claimed = frozenset(
        s.split(":", 1)[1] for s, v in data.items() if s.startswith("clear:") and v is True
    )
    grade = _grade(data, rules)
    answers = {s.split(":", 1)[1]: bool(v) for s, v in data.items() if s.startswith("ask:")}
    return Enrolled(
        site_id=site.id,
        diagnosis_date=date.fromisoformat(str(data["diagnosis"])),
        timezone=str(data["tz"]),
        preferred_time=time(int(hh), int(mm)),
        available_days=frozenset(int(d) for d in data.get("days", [])),
        imaging_system=str(data["imaging_system"]) if grade is not None else None,
        imaging_grade=grade.id if grade is not None else None,
        claimed=claimed,
        gate_answers=answers,
    )
