"""Every word the bot says to a coach, in one place (ready for a second language).

The coach-side modules (`bot.coach.roster`, `bot.coach.digest`, `bot.coach.chart`) decide order,
batching and layout; the words and the small formatters that put values into words live here.
Plain text, no parse mode: names are the runner's own and may contain anything.

Privacy: these formatters only ever show the name the runner chose, site, phase/level, status,
answers (pain numbers) and rule ids. Never a Telegram username, never a runner's free text.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from bot.coach.views import DecisionLine, RosterEntry, SessionPoint
from bot.i18n import _, current, day_month, day_month_time, ngettext, weekday_day_month
from bot.i18n import localise_map as _m

TELEGRAM_LIMIT = 4096  # characters per message (Bot API sendMessage)

# Field widths keep one runner's line far below the limit, whatever a name looks like.
NAME_MAX = 32
SITE_MAX = 40
SITE_FULL_MAX = 100  # /runner <id> names the site in full (the longest shipped is 50)
PHASE_MAX = 40
LEVEL_MAX = 48
DETAIL_MAX = 300
RULE_MAX = 60
ELLIPSIS = "…"

UNNAMED = "Runner {id}"
NONE = "–"  # a missing answer

# --- the roster (/runners) ----------------------------------------------------------------------

ROSTER_EMPTY = (
    "You have no runners yet. Send /invite to get a link; a runner who opens it is linked to you."
)
ROSTER_HEADER = "👟 Your runners: {n} ({k} need attention, listed first)"
LEGEND = (
    "pain = during the last session, 24h = the day after (0–10); done = sessions done/prescribed "
    "in the last 14 days"
)
ROSTER_HINT = "/runner <id> for details and a chart · /invite to add a runner"

# The icon in front of a runner's line says why they are where they are in the order.
ATTENTION_ICON = {
    "red_flag": "🛑",
    "escalated": "🟠",
    "unreachable": "📵",
    "awaiting_clearance": "⏳",
    "open_flags": "🚩",
    "missed_followups": "❗",
    "low_adherence": "📉",
    "paused": "⏸",
    "ok": "✅",
}

HIGH_RISK = "⚠️"
TAG_RED_FLAG = "RED FLAG"
TAG_ESCALATED = "escalated"
TAG_PAUSED = "paused"
TAG_AWAITING = "awaiting clearance"
TAG_UNREACHABLE = "unreachable"
TAG_FLAGS = "🚩{n} open"
TAG_MISSED = "{n} missed follow-up"
TAG_MISSED_MANY = "{n} missed follow-ups"
LAST_NEVER = "no sessions yet"
LAST = "last {ago}"
AGO_TODAY = "today"
AGO_YESTERDAY = "yesterday"
AGO_DAYS = "{n}d ago"
PAINS = "pain {during}, 24h {after}"
ADHERENCE = "{done}/{prescribed} done"
SEP = " · "

# --- the weekly digest --------------------------------------------------------------------------

DIGEST_HEADER = "📋 Weekly digest, {week}\nHi {coach}. {counts}"
DIGEST_COUNTS = (
    "Runners: {n} · need attention: {k} · open flags: {flags} · "
    "missed follow-ups (7 days): {missed}"
)
DIGEST_NONE = "No runners are linked to you yet. Send /invite to get a link for a runner."
DIGEST_FOOTER = "/runners for the live list · /runner <id> for details and a chart"

# --- one runner (/runner <id>) ------------------------------------------------------------------

DETAIL_TITLE = "{icon} {name} (#{id})"
DETAIL_SITE = "Site: {site}"
DETAIL_SITE_HIGH = "Site: {site} ⚠️ high risk"
DETAIL_PHASE = "Phase: {phase}"
DETAIL_PHASE_LEVEL = "Phase: {phase}, {level}"
DETAIL_STATUS = "Status: {status}"
DETAIL_ALSO_AWAITING = "awaiting clearance at a gate"
DETAIL_ALSO_UNREACHABLE = "unreachable (has blocked the bot)"
DETAIL_FLAGS = "Open flags: {flags} · missed follow-ups (7 days): {missed}"
DETAIL_STOP_ACKED = "Stopped since {since}; acknowledged by {who} on {at}"
DETAIL_STOP_NOT_ACKED = "Stopped since {since}; not acknowledged"
DETAIL_ADHERENCE = "Sessions done (14 days): {done}/{prescribed} ({pct}%)"
DETAIL_ADHERENCE_NONE = "Sessions done (14 days): none prescribed"
DETAIL_LAST = "Last session: {ago}"
DETAIL_SESSIONS = "Last sessions:"
DETAIL_NO_SESSIONS = "Last sessions: none yet"
DETAIL_SESSION = "• {day} {kind}: {outcome}{run}{pains}"
DETAIL_SESSION_RUN = ", {minutes} min running"
DETAIL_SESSION_PAINS = ", pain {during}, 24h {after}"
DETAIL_TRAIL = "Decisions (newest first):"
DETAIL_NO_TRAIL = "Decisions: none yet"
DETAIL_DECISION = "• {at} {action}, rule {rule}, by {actor}"
DETAIL_DECISION_MORE = "… {n} more"
LOCAL_TIME = "{at:%d %b %H:%M} {zone}"
DETAIL_TO_LEVEL = "to {level}"
DETAIL_INTO_PHASE = "into “{phase}”"
DETAIL_BECAUSE = "because: {why}"
DETAIL_STEP_BACK = "after {n} step-back"
DETAIL_STEP_BACKS = "after {n} step-backs"

STATUS_WORDS = {
    "active": "active",
    "paused": "paused",
    "escalated": "paused for review after repeated step-backs",
    "red_flag": "RED FLAG: stopped until a clinician clears",
    "discharged": "discharged: finished the protocol",
}
KIND_WORDS = {
    "run": "run",
    "cross_train": "cross-training",
    "strength": "strength",
    "walk": "walk",
    "plyometric": "plyometrics",
}
OUTCOME_WORDS = {
    "done": "done",
    "partial": "partly done",
    "skipped": "skipped",
    "missed": "missed",
}
ACTOR_WORDS = {"engine": "engine", "coach": "coach", "runner": "runner"}

# --- the chart ----------------------------------------------------------------------------------

CHART_EMPTY = "No sessions yet"
CHART_PAIN_AXIS = "Pain (0–10)"
CHART_PAIN_DURING = "during"
CHART_PAIN_24H = "at 24 h"
CHART_MILD = "mild threshold (2/10)"
CHART_RUN_AXIS = "Run minutes / week"


# --- formatters ---------------------------------------------------------------------------------


def clean(text: str, limit: int) -> str:
    """One line of at most `limit` characters: control characters and line breaks become spaces."""
    chars = (" " if unicodedata.category(c)[0] in "CZ" and c != "\u200d" else c for c in text)
    flat = " ".join("".join(chars).split())
    if len(flat) <= limit:
        return flat
    return flat[: max(0, limit - 1)].rstrip() + ELLIPSIS


def runner_name(e: RosterEntry) -> str:
    return clean(e.name, NAME_MAX) or _(UNNAMED).format(id=e.runner_id)


def pain(value: int | None) -> str:
    return _(NONE) if value is None else str(value)


def ago(day: date | None, today: date) -> str:
    if day is None:
        return _(LAST_NEVER)
    n = (today - day).days
    if n <= 0:
        return _(AGO_TODAY)
    if n == 1:
        return _(AGO_YESTERDAY)
    return _(AGO_DAYS).format(n=n)


def phase_level(e: RosterEntry) -> str:
    phase = clean(e.phase, PHASE_MAX)
    if e.level:
        return f"{phase} ({clean(e.level, LEVEL_MAX)})"
    return phase


def status_tags(e: RosterEntry) -> list[str]:
    tags: list[str] = []
    if e.status == "red_flag":
        tags.append(_(TAG_RED_FLAG))
    elif e.status == "escalated":
        tags.append(_(TAG_ESCALATED))
    elif e.status == "paused":
        tags.append(_(TAG_PAUSED))
    if e.awaiting_clearance:
        tags.append(_(TAG_AWAITING))
    if e.unreachable:
        tags.append(_(TAG_UNREACHABLE))
    if e.open_flags > 0:
        tags.append(_(TAG_FLAGS).format(n=e.open_flags))
    if e.missed_followups_7d > 0:
        n = e.missed_followups_7d
        tags.append(ngettext(TAG_MISSED, TAG_MISSED_MANY, n).format(n=n))
    return tags


def runner_line(e: RosterEntry, today: date, attention: str) -> str:
    """One compact line: who, site, phase/level, status, last session, pains, adherence."""
    site = clean(e.site, SITE_MAX) + (f" {HIGH_RISK}" if e.high_risk else "")
    parts = [
        f"{ATTENTION_ICON[attention]} {runner_name(e)} (#{e.runner_id})",
        site,
        phase_level(e),
        *status_tags(e),
    ]
    if e.last_session is None:
        parts.append(_(LAST_NEVER))
    else:
        parts.append(_(LAST).format(ago=ago(e.last_session, today)))
        if e.last_pain_during is not None or e.last_pain_24h is not None:
            parts.append(
                _(PAINS).format(during=pain(e.last_pain_during), after=pain(e.last_pain_24h))
            )
    if e.prescribed_14d > 0:
        parts.append(_(ADHERENCE).format(done=e.done_14d, prescribed=e.prescribed_14d))
    return SEP.join(parts)


def roster_header(n: int, attention: int) -> str:
    return f"{_(ROSTER_HEADER).format(n=n, k=attention)}\n{_(LEGEND)}"


def week_label(week_start: date) -> str:
    end = week_start + timedelta(days=6)
    if current() != "en":  # the language's own short dates (English keeps its strftime forms)
        return f"{day_month(week_start)} – {day_month(end)} {end:%Y}"
    if week_start.year != end.year:
        return f"{week_start:%d %b %Y} – {end:%d %b %Y}"
    if week_start.month != end.month:
        return f"{week_start:%d %b} – {end:%d %b %Y}"
    return f"{week_start:%d}–{end:%d %b %Y}"


def digest_header(
    coach: str, week_start: date, *, n: int, flags: int, missed: int, attention: int
) -> str:
    counts = _(DIGEST_COUNTS).format(n=n, flags=flags, missed=missed, k=attention)
    return (
        _(DIGEST_HEADER).format(
            week=week_label(week_start), coach=clean(coach, NAME_MAX), counts=counts
        )
        + f"\n{_(LEGEND)}"
    )


def detail_status(e: RosterEntry, today: date, attention: str) -> list[str]:
    site = clean(e.site, SITE_FULL_MAX)
    lines = [
        _(DETAIL_TITLE).format(icon=ATTENTION_ICON[attention], name=runner_name(e), id=e.runner_id),
        (_(DETAIL_SITE_HIGH) if e.high_risk else _(DETAIL_SITE)).format(site=site),
        (
            _(DETAIL_PHASE_LEVEL).format(
                phase=clean(e.phase, PHASE_MAX), level=clean(e.level, LEVEL_MAX)
            )
            if e.level
            else _(DETAIL_PHASE).format(phase=clean(e.phase, PHASE_MAX))
        ),
    ]
    status = [_m(STATUS_WORDS).get(e.status, clean(e.status, 30))]
    if e.awaiting_clearance:
        status.append(_(DETAIL_ALSO_AWAITING))
    if e.unreachable:
        status.append(_(DETAIL_ALSO_UNREACHABLE))
    lines.append(_(DETAIL_STATUS).format(status="; ".join(status)))
    if e.stop_since is not None:
        at = local_time(e.stop_ack_at) if e.stop_ack_at else None
        lines.append(stop_detail(local_time(e.stop_since), e.stop_ack_by, at))
    lines.append(_(DETAIL_FLAGS).format(flags=e.open_flags, missed=e.missed_followups_7d))
    adherence = e.adherence
    if adherence is None:
        lines.append(_(DETAIL_ADHERENCE_NONE))
    else:
        lines.append(
            _(DETAIL_ADHERENCE).format(
                done=e.done_14d, prescribed=e.prescribed_14d, pct=round(adherence * 100)
            )
        )
    lines.append(_(DETAIL_LAST).format(ago=ago(e.last_session, today)))
    return lines


def local_time(at: datetime) -> str:
    """'03 Mar 07:00 CET': a time in the coach's zone, with the zone said (a naive time has
    none to say)."""
    zone_name = at.tzname()
    return _(LOCAL_TIME).format(at=at, zone=zone_name) if zone_name else day_month_time(at)


def session_line(p: SessionPoint) -> str:
    run = ""
    if p.run_s_total > 0:
        run = _(DETAIL_SESSION_RUN).format(minutes=round(p.run_s_total / 60))
    pains = ""
    if p.pain_during is not None or p.pain_24h is not None:
        pains = _(DETAIL_SESSION_PAINS).format(during=pain(p.pain_during), after=pain(p.pain_24h))
    return _(DETAIL_SESSION).format(
        day=weekday_day_month(p.day),
        kind=_m(KIND_WORDS).get(p.kind, clean(p.kind, 20)),
        outcome=_m(OUTCOME_WORDS).get(p.outcome, clean(p.outcome, 20)),
        run=run,
        pains=pains,
    )


def actor_word(actor: str) -> str:
    key = actor.split(":", 1)[0].strip().lower()
    return _m(ACTOR_WORDS).get(key, clean(actor, 20))


def decision_line(d: DecisionLine) -> str:
    line = _(DETAIL_DECISION).format(
        at=local_time(d.at),
        action=clean(d.action.replace("_", " "), 30),
        rule=clean(d.rule, RULE_MAX),
        actor=actor_word(d.actor),
    )
    detail = clean(d.detail, DETAIL_MAX)
    return f"{line}: {detail}" if detail else line


def more(n: int) -> str:
    return _(DETAIL_DECISION_MORE).format(n=n)


def rest_days(n: int) -> str:
    return ngettext(REST_DAYS[1], REST_DAYS_MANY, n).format(n=n)


def stop_word(status: str) -> str:
    return _m(STOP_WORDS).get(status, clean(status, 30))


def stop_detail(since: str, who: str | None, at: str | None) -> str:
    """The stop's line in `/runner <id>`: since when, and who acknowledged it when."""
    if who is None:
        return _(DETAIL_STOP_NOT_ACKED).format(since=since)
    return _(DETAIL_STOP_ACKED).format(since=since, who=clean(who, NAME_MAX + 12), at=at or _(NONE))


# --- commands, alerts and buttons (handlers) ---------------------------------------------------

NOT_A_COACH = "This command is for registered coaches. Ask the clinic's operator to add you."
NO_SUCH_RUNNER = "No runner of yours matches that. /runners lists them with their ids."
INVITE = "Invite code: {code}\nSend your runner this link (single use, valid {days} days):\n{link}"
USAGE_RUNNER = "Usage: /runner <id or name>"
USAGE_VERB = "Usage: /{verb} <runner id or name>"
USAGE_RELEASE = "Usage: /release <runner id or name>"
USAGE_REPLY = "Usage: /reply <runner id or name> <message>"
USAGE_LANGUAGE = "Usage: /language <code>, one of: {options}"
LANGUAGE_SET = "Saved: I'll write to you in {language} from now on."
DONE_VERB = "Done: {verb} for runner #{id} (rules: {rules}). They have been told."
DONE_BUTTON = "Done: {verb}."
DONE_REGRESS_BOTTOM = (
    "Runner #{id} is already at the first level, so there is nowhere lower: holding there, and "
    "their symptom-free count at this level starts again (rules: {rules}). They have been told."
)
RELEASED = "Runner #{id} is no longer linked to you."
MESSAGE_QUEUED = "Your message to runner #{id} is on its way."
ALREADY_HANDLED = "Already handled: this alert is out of date and nothing was changed."
REFRESHED = (
    "This message was out of date, so nothing was changed. Its buttons now show where things "
    "stand: press again if you still mean it."
)
NOT_YET_NOTED = "Noted: runner #{id} is not cleared yet. They keep their current phase."
ALERT_TITLES = {"red_flag": "🛑 RED FLAG", "escalated": "⏸ Repeated step-backs"}
ALERT_REMINDER = "{title} (reminder: not acknowledged for {hours})"
HOUR = "{n} hour"
HOURS = "{n} hours"
STOP_NOTE = (
    "They are stopped until you clear them. Keep stopped, or once a clinician has cleared "
    "them, choose how they resume."
)
STOP_ACKED_BY = "Acknowledged by {who}."
OPERATOR = "operator {name}"
REVIEW_REQUESTED = (
    "🩺 {name} (#{id}) says a clinician has seen them and asks to resume.\n"
    "Site: {site}{high}\nThey are still stopped ({status}); their word lifts nothing.\n"
    "Why: {why}"
)
CLEARANCE_CLAIMED = (
    "✅ {name} (#{id}) reports that a clinician has cleared them for “{phase}”.\n"
    "Site: {site}{high}\nPlease confirm: nothing that needs this clearance unlocks until you do.\n"
    "Why: {why}\nCleared?"
)
ALERT = (
    "{title}: {name} (#{id})\nSite: {site}{high}\n{where}\nWhy: {why}\n{answers}"
    "Last sessions: {last}"
)
ALERT_PHASE_LEVEL = "Phase: {phase}, {level}"
ALERT_PHASE = "Phase: {phase}"
ALERT_ANSWERS = "Answers that flagged: {answers}\n"
ALERT_SESSION = "{day:%d %b} {kind} {outcome}, pain during {during}"
# Why a decision was made: the reason in words beside its rule id (coaches read both).
REASON = "{why} ({rule})"
REASON_SEP = "; "
WHY_STEP_BACKS_ONE = "a step back within {days} days"
WHY_STEP_BACKS = "{n} step-backs within {days} days"
WHY_STILL_PAINFUL = "pain again at or below the level of the last step back"
WHY_ESCALATE = "repeated step-backs: running paused for a clinician's review"
WHY_REGRESS = "a step back, then {rest} without running"
WHY_RED_FLAG = "a red flag: all running and impact stop until a clinician clears"
WHY_CLEARANCE = "this site needs a clinician's clearance at every phase"
WHY_LINKED = "it was waiting for a clinician when you were linked"
WHY_REVIEW = "only a clinician's review lifts a stop"
WHY_CLAIM = "a runner's word is a request: only a clinician clears"
WHY_GATE = "the gate into “{phase}”"
WHY_IMAGING = "imaging grade {grade}: a clinician clears every gate"
WHY_DISCHARGE = "the last level of the protocol is passed: the program ends here"
WHY_SWITCH = "a clinician's recorded choice of protocol"
WHY_FALLBACK = "a protocol is chosen by the site's risk"
WHY_SCREENING = "the energy-availability screen suggests a review"
ANSWER = "{label}: {value}"
ANSWER_SCALE = "{label}: {value}/{max}"
YES_WORD = "yes"
NO_WORD = "no"
CLEARANCE = (
    "✅ {name} (#{id}) is ready for “{phase}” by their answers.\nSite: {site}{high}\n"
    "Your clinical clearance is needed.\nWhy: {why}\nCleared?"
)
DISCHARGED = (
    "🏁 {name} (#{id}) finished the last level of their protocol and is discharged: nothing "
    "more is scheduled.\nSite: {site}{high}\nPhase: {phase}, level: {level}\nWhy: {why}"
)
UNREACHABLE = "📵 {name} (#{id}) has blocked the bot: their reminders have stopped."
STEP_BACK_NOTICE = (
    "🔔 {name} (#{id}) had to step back a level (step-backs lately: {regressions}).\n"
    "Site: {site}{high}\nPhase: {phase}, level now: {level}\nWhy: {why}\nThey keep running at "
    "the lower level; no action is needed unless you want one (rules: {rules})."
)
SCREENING = (
    "🍽 {name} (#{id}) answered the energy-availability screen with concerns and agreed to "
    "share it. Consider a clinician or dietitian review.\nWhy: {why}"
)
ALERT_SETTLED = "Since then the program has moved on: /runner {id} shows where it stands."
RISK_HIGH = " · ⚠️ high risk (clinician clearance at every gate)"
RISK_LOW = " · low risk"
BTN_ACK = "Acknowledge"
BTN_CLEARED = "Cleared"
BTN_NOT_YET = "Not yet"
BTN_KEEP_STOPPED = "Keep stopped"
BTN_RESUME_AT = "Cleared: resume at {level} after {rest}"
BTN_RESUME_PHASE = "Cleared: resume this phase after {rest}"
BTN_CONFIRM = "Confirm"
BTN_CANCEL = "Cancel"
REST_DAYS = {1: "1 rest day"}
REST_DAYS_MANY = "{n} rest days"
# Texts with a plural: the catalog holds them as one entry (singular, plural), looked up with
# ngettext so each language uses its own plural rule.
PLURALS = {
    TAG_MISSED: TAG_MISSED_MANY,
    REST_DAYS[1]: REST_DAYS_MANY,
    HOUR: HOURS,
    DETAIL_STEP_BACK: DETAIL_STEP_BACKS,
    WHY_STEP_BACKS_ONE: WHY_STEP_BACKS,
}
STOP_WORDS = {"red_flag": "red flag", "escalated": "paused after repeated step-backs"}

# What a press or a command on a stopped runner did, in words (coaches see rule ids).
CONFIRM_RESUME_AT = "Resume {name} (#{id}) at {level} after {rest}? (rule {option})"
CONFIRM_RESUME_PHASE = "Resume {name} (#{id}) in this phase after {rest}? (rule {option})"
# Said under the confirmation: Confirm lifts a stop only a clinician may lift.
CONFIRM_LIFTS = {
    "red_flag": "This lifts the red flag: confirm only once a clinician has seen them.",
    "escalated": "This lifts the pause after repeated step-backs: confirm only once a clinician "
    "has seen them.",
}
CHOOSE_RESUME = (
    "{name} (#{id}) is stopped ({status}) since {since}. Once a clinician has cleared them, "
    "choose how they resume:"
)
DID_ACKNOWLEDGE = (
    "Acknowledged: recorded as yours (rules: {rules}). {name} (#{id}) is still stopped "
    "({status}); the reminder is called off. They have been told you have seen it."
)
DID_KEEP_STOPPED = (
    "{name} (#{id}) is still stopped ({status}): use /clear {id} to resume. "
    "Recorded: {verb} (rules: {rules}). They have been told."
)
DID_RESUME_AT = (
    "Cleared: {name} (#{id}) resumes at {level} after {rest} (rules: {rules}). "
    "They have been told it was your decision."
)
DID_RESUME_PHASE = (
    "Cleared: {name} (#{id}) resumes this phase after {rest} (rules: {rules}). "
    "They have been told it was your decision."
)
DID_CANCEL = "Cancelled: nothing changed. {name} (#{id}) is still stopped ({status})."
TOAST_ACKNOWLEDGED = "Acknowledged: recorded."
TOAST_KEPT = "Kept stopped."
TOAST_CONFIRM = "Please confirm."
TOAST_CLEARED = "Cleared: they have been told."
TOAST_CANCELLED = "Cancelled: nothing changed."
COMMANDS = [
    ("runners", "Your runners, attention first"),
    ("runner", "One runner: detail and chart"),
    ("invite", "Invite a runner"),
    ("hold", "Hold a runner's level"),
    ("advance", "Advance a runner"),
    ("regress", "Regress a runner one level"),
    ("cpause", "Pause a runner"),
    ("cresume", "Resume a runner"),
    ("clear", "Clear a runner to continue"),
    ("reply", "Message a runner"),
    ("release", "Unlink a runner"),
    ("language", "Your language (en, de)"),
]


# --- the coach's overlay (tailoring): /tailor <id>, the Tailor button under /runner -----------

COMMANDS.append(("tailor", "Tailor a runner's program"))
USAGE_TAILOR = "Usage: /tailor <id or name>"
BTN_TAILOR = "🛠 Tailor"
BTN_TAILOR_DONE = "Done"
BTN_TAILOR_BACK = "« Back"
BTN_STANDARD = "Standard (rules)"
BTN_SAVE_DAYS = "Save days"
TAILOR_MENU = (
    "🛠 Tailoring {name} (#{id}) within the rules ({rule}).\n{current}\nChoose what to change:"
)
TAILOR_NONE = "Nothing tailored: the rules as they are."
TAILOR_PICK = "🛠 {name} (#{id}): {field}. Now: {now}. Choose the new value:"
TAILOR_DAYS = "🛠 {name} (#{id}): training days. Tap to toggle, then Save days. Chosen: {days}"
TAILOR_STANDARD = "standard"
TAILOR_SAVED = "Saved: change {version}."
TAILOR_REFUSED = "Not changed: {reason}"
TAILOR_STALE = "This tailoring menu has closed; nothing was changed. /tailor <id> opens it again."
TAILOR_CLOSED = "Tailoring closed."
TAILOR_NO_RUNNING = "no run levels in this protocol"
# The fields as the coach's buttons name them (callback codes in handlers_tailor.py).
TAILOR_LABELS = {
    "start_level": "Start level",
    "hold_sessions": "Hold sessions",
    "hold_days": "Hold days",
    "rest_days": "Rest days between runs",
    "weekdays": "Training days",
    "pain_threshold": "Pain limit",
    "maintenance_factor": "Maintenance volume",
}
OVERLAY_LINE = "🛠 Tailored (change {version}, by {who}, rule {rule}): {fields}"


def overlay_fields(values: dict[str, str]) -> str:
    """A coach's view of an overlay: field = value, joined."""
    return "; ".join(f"{_m(TAILOR_LABELS).get(k, k)} {v}" for k, v in values.items())


# --- two-way messages, alerts with a life cycle (issue 12) -----------------------------------
BTN_MESSAGE_RUNNER = "💬 Message runner"
BTN_REPLY = "💬 Reply"
RUNNER_MESSAGE = "💬 {name} (#{id}) · {phase}, {level}:\n\n{text}"
RUNNER_JOINED = "👋 {name} (#{id}) joined through your invite. /runner {id} shows their start."
WRITE_TO_RUNNER = "Write your message to {name} (#{id}) now; your next message goes to them."
SENT_TO_RUNNER = "Sent to {name} (#{id})."
MESSAGE_CANCELLED = "Cancelled: no message sent."
COACH_FREE_TEXT = (
    "To write to a runner, tap 💬 Message runner on an alert or under /runner <id>, or send "
    "/reply <id> <text>. /help lists your commands."
)
ALERTS_NONE = "No open alerts: nothing waits on you."
ALERTS_HEADER = "Open alerts, most urgent first ({n}):"
ALERT_LINE = "{icon} {name} (#{id}) — {what} · since {since} · {state}"
ALERT_WHAT = {
    "red_flag": "red flag",
    "escalated": "escalated",
    "clearance_needed": "clearance needed",
    "step_back_notice": "stepped back",
    "discharged": "discharged",
    "screening": "screening review",
    "unreachable": "unreachable",
    "protocol_fallback": "the invite's protocol not followed",
}
ALERT_ICON = {3: "🚨", 2: "⚠️", 1: "🔓", 0: "🔔"}
ALERT_STATE_NEW = "new"
ALERT_STATE_ACKED = "acknowledged by {who} at {at}"
DIGEST_OPEN_ALERTS = "Open alerts: {n} (/alerts lists them)."
THREAD_HEADER = "Messages (latest last):"
THREAD_LINE = "{at} {who}: {text}"
THREAD_RUNNER = "runner"
THREAD_COACH = "you"
HELP_COACH = (
    "Coach commands:\n"
    "/alerts — open alerts, most urgent first\n/runners — your runners, attention first\n"
    "/runner <id> — one runner: detail, chart, messages, protocol\n"
    "/invite [protocol id] — a link for a new runner\n"
    "/hold, /advance, /regress <id> — change a runner's level\n"
    "/cpause, /cresume <id> — pause or resume a runner\n/clear <id> — clear to continue\n"
    "/reply <id> <text> — message a runner (or tap 💬 on an alert)\n"
    "/release <id> — unlink a runner\n/tailor <id> — tailor a runner's program\n"
    "/language <code> — your language (en, de)\n/help — this list"
)
BTN_NOTICE_SEEN = "✓ Seen"
TOAST_NOTICE_SEEN = "Marked as seen: resolved."
ALERTS_COMMAND = ("alerts", "Open alerts, most urgent first")

# --- protocols: chosen with an invite, or switched from /runner (bot/services/protocols.py) ------

INVITE_PROTOCOL = (
    "Invite code: {code}\nThe runner who enrols with it follows “{protocol}” ({pid}) if it is "
    "written for their site; if not, their site's own, and you are told.\n"
    "Send your runner this link (single use, valid {days} days):\n{link}"
)
UNKNOWN_PROTOCOL = "Unknown protocol “{given}”. Usage: /invite [protocol id]. Valid ids: {ids}."
PROTOCOL_FALLBACK = (
    "⚠️ {name} (#{id}) enrolled with your invite for “{asked}”, which is not a protocol for "
    "their site.\nSite: {site}{high}\nThey follow their site's own, “{protocol}”, instead. "
    "/runner {id} has a Protocol button to choose another one for them.\nWhy: {why}"
)
PROTOCOL_SWITCHED = (
    "🔀 {name} (#{id}) was moved from “{old}” to “{new}” by {who}.\nSite: {site}{high}\n"
    "Now: {phase}, level: {level}. Sessions, step-backs, clearances and any stop are "
    "kept.\nWhy: {why}"
)
BTN_PROTOCOL = "Protocol"
DETAIL_PROTOCOL = "from “{old}” to “{new}”"
CHOOSE_PROTOCOL = (
    "{name} (#{id}) follows “{current}”. Protocols for their site: a switch moves them to the "
    "same kind of phase, at the nearest level that is not harder, and keeps any stop."
)
BTN_PROTOCOL_CHOICE = "{name}"
BTN_PROTOCOL_CURRENT = "✓ {name} (current)"
CONFIRM_PROTOCOL = "Move {name} (#{id}) from “{current}” to “{new}”? (rule {rule})"
DID_SWITCH = (
    "Done: {name} (#{id}) now follows “{new}”: {phase}, level: {level} (rules: {rules}). They "
    "have been told."
)
ALREADY_ON_PROTOCOL = "{name} (#{id}) already follows “{new}”: nothing changed."
NO_OTHER_PROTOCOL = "There is no other protocol {name} (#{id}) can move to from where they are."
PROTOCOL_CANCELLED = "Cancelled: {name} (#{id}) still follows “{current}”."
