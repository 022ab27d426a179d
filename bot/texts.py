"""Every word the bot says to a person, in one place (ready for a second language).

Handlers and the sender call these functions; none of them builds user-facing strings itself.
Clinical question texts come from `rules/questions.yaml` (the clinician's words), not from here.
Kept short: a runner reads these for months.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from bot.i18n import _, current, ngettext, weekday_day_month
from bot.i18n import localise_map as _m
from bot.program.loader import Rules
from bot.program.road import Road
from bot.program.rules import SessionKind
from bot.program.state import Planned, Prescription

TELEGRAM_LIMIT = 4096

DISCLAIMER = (
    "👋 I'm boneload. I guide your return to running after a bone stress injury, one "
    "bone-loading session at a time, and keep your coach or physio in the loop.\n\n"
    "⚠️ I'm a coaching aid, not a diagnosis. If you have pain at rest, pain at night, a limp, "
    "or groin pain, stop running and see a clinician.\n\n"
    "I store what you tell me about your injury and sessions. You can export it (/export) or "
    "delete all of it (/delete) at any time. Do you agree?"
)
AGREE = "I agree"
DECLINE = "No thanks"
# The consent message keeps its text once answered (what was agreed to stays readable).
AGREED = "\n\n✅ You agreed."
DECLINED = "Understood: nothing was stored. Send /start if you change your mind."
LINKED = "You're linked with coach {coach}. They'll see your sessions and answers."
INVITE_BAD = (
    "That invite link isn't valid (it was used, expired or mistyped). You can carry on without a "
    "coach and link later with a new link."
)
ALREADY_ENROLLED = "You're already set up. /today shows today's session; /help lists everything."
NOT_ENROLLED = "You haven't set up your program yet. Send /start to begin (it takes 2 minutes)."
ONBOARDING_RESUME = "Let's continue where we left off."

ASK_SITE = "Where is your bone stress injury?"
ASK_DIAGNOSIS = "When was it diagnosed? Tap one, or send a date like 2026-11-03."
DIAG_TODAY = "Today"
DIAG_WEEK = "{n} week ago"
DIAG_WEEKS = "{n} weeks ago"
ASK_IMAGING = (
    "Do you know the grade on your scan report? A higher grade means more days before running "
    "and may need a clinician's clearance; it never speeds you up."
)
IMAGING_SYSTEM = "Grading: {name}."
IMAGING_UNKNOWN = "Don't know"
ASK_CLEARANCE = (
    "Has a clinician cleared you for {what}? If you say yes, I'll ask your coach to confirm it; "
    "it counts once they do."
)
CLEARANCE_LABELS = {
    "weight_bearing": "putting weight on the injured leg",
    "strength": "strength training",
    "running": "running",
    "continuous": "continuous running",
    "maintenance": "your normal training",
}
YES = "Yes"
NO = "No"
ASK_DAYS = "Which days can you train? Tap to toggle, then Done."
DONE = "Done"
ASK_TIME = "What time should I remind you on session days? Tap one or send a time like 07:30."
ASK_TZ = (
    "Which time zone are you in? Tap one, or send a city or zone name (e.g. Madrid, Asia/Tokyo)."
)
CONFIRM_TZ = "It's {local} where you are ({tz}). Right?"
CHANGE = "Change"
ENROLLED = "✅ All set: {protocol}.\nYou start in the phase “{phase}”.\n\n{plan}"

BAD_DATE = "I couldn't read that date. Send it like 2026-11-03 (not in the future)."
BAD_TIME = "I couldn't read that time. Send it like 07:30 (24-hour clock)."
BAD_TZ = "I don't know the time zone “{text}”. Try a city like Berlin or a name like Europe/Berlin."
BAD_TZ_MANY = "“{text}” matches several zones: {options}. Send the full name."
USE_BUTTONS = "Please answer with the buttons above."
BAD_NUMBER = "Please send a whole number from {lo} to {hi}, or tap a button."
STALE = "This question has closed; nothing was changed."
BUSY = "That changed just now; please try again."
UNLINKED = "You're no longer linked with a coach. A new invite link links you again."
NO_COACH = "You're not linked with a coach."
NOT_TEXT = "I can only read text and buttons. /help lists what I can do."
HELP_HINT = "I didn't catch that. /today shows today's session; /help lists everything."
SOMETHING_WRONG = (
    "Sorry, something went wrong on my side. Your earlier answers are saved; please try again."
)
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
DAYS_NONE = "Pick at least one day."

REMIND = "🏃 Today's session: {rx}"
REMIND_DELOAD = "\nDeload week: shorter on purpose, so your bone can catch up."
# The session timer's caption (a voice message sent with a run's reminder).
TIMER_CAPTION_INTERVALS = (
    "⏱ Session timer ({total}): press play as you set off and keep the phone in your pocket.\n"
    "A few ticks, then two rising beeps = run, one low beep = walk, three beeps = done."
)
TIMER_CAPTION_CONTINUOUS = (
    "⏱ Session timer ({total}): press play as you set off and keep the phone in your pocket.\n"
    "A few ticks, then two rising beeps = run, three beeps = done."
)
BTN_DONE = "Done ✅"
BTN_PARTIAL = "Couldn't finish"
BTN_SKIP = "Skip"
BTN_MOVE = "Move to next day"
CHECKIN_NUDGE = "How did today's session go? Tap below when you've done it (or skip it)."
SESSION_THANKS = "Thanks, recorded."
SKIPPED = "OK, skipped. Your next session: {next}."
MOVED = "OK, moved. Your next session: {next}."
NO_SESSION_TODAY = "No session today: rest or easy cross-training if you like. Next: {next}."
PAUSED_STATE = "Your program is paused. /resume when you're ready."
FLAGGED_STATE = (
    "Running is stopped until a clinician has reviewed you and your coach (or the clinic) "
    "clears it here. Been seen? Send /resume and I'll ask your coach to confirm."
)
FOLLOWUP_INTRO = "24-hour check on yesterday's session ({day}). A few quick questions:"
WATCH_INTRO = (
    "A quick safety check after yesterday's session ({day}): a few yes/no questions about "
    "warning signs."
)
WATCH_NUDGE = "Reminder: your quick safety check is waiting above. It takes a minute."
PAIN_INTRO = "🩹 A quick check of how the injury feels now. A few questions:"
BTN_REPORT_PAIN = "🩹 Report pain"
SYMPTOM_OFFER = "Sounds like a symptom. Answer a quick check?"
BTN_SYMPTOM_CHECK = "Answer the check"
BTN_CLAIM_CLEARED = "A clinician has cleared me"
CLAIM_STALE = "Nothing is waiting for a clearance right now; nothing was changed."
REVIEW_NOTED = "You said you've been seen and cleared. Running stays stopped for now."
FOLLOWUP_NUDGE = "Reminder: your 24-hour check is waiting above. It decides your next step."
GATE_INTRO = "Ready for the next phase, “{phase}”? A few questions:"
GATE_NOT_YET = "Not yet, and that's fine. I'll ask again in a few days."
AWAITING_CLEARANCE = (
    "You're ready for “{phase}” on your side. Because of your injury, a clinician needs to "
    "clear you first; your coach has been asked. Already cleared? Tap below and I'll ask your "
    "coach to confirm."
)
# Said instead of "your coach has been told" when no coach is linked (nobody was told).
LINK_A_CLINICIAN = (
    "Ask your coach or clinician for an invite link (their /invite): opening it, or sending "
    "/start <code>, links you here."
)
AWAITING_CLEARANCE_NO_COACH = (
    "You're ready for “{phase}” on your side. Because of your injury, a clinician needs to "
    "clear you first, and you have no coach linked here, so nobody has been asked. It stays "
    "locked until a clinician linked here clears it. " + LINK_A_CLINICIAN
)
# When no classification of the rules says why in words.
WHY_ANSWERS = "your answers"
WHO = {"coach": "your coach", "operator": "the clinic"}
REST_AFTER = " after {days} without running or impact"
DAY = "{n} day"
DAYS = "{n} days"
RESTART_SAME_PHASE = "your current phase"
PHASE_ENTERED = "🎉 New phase: “{phase}”."
SCALE_HINT = "{low} · {high}"

# Runners read reasons in plain words ({why}, from the rules' `says`), never rule ids: those are
# for the coach's alert, /runner and the export.
NOTICES = {
    "progressed": "⬆️ Up to {level}: your last sessions were symptom-free.",
    "holding": (
        "➡️ Staying at {level}: {clear} of {needed} symptom-free sessions done before the next step."
    ),
    "stage_holding": "➡️ Staying at {level}: day {day} of a {days}-day stage, symptom-free so far.",
    "held": "➡️ Holding {level}: {why}.",
    "regressed": "⬇️ Back to {level} after {rest_days} without running: {why}.",
    # A step back in a phase before running: there is no level to go back to and no running to
    # stop; only impact (hops, jumps) rests.
    "regressed_no_run": (
        "⬇️ Easing off: {why}. Take {rest_days} without impact (no hops, jumps or running); "
        "the rest of this phase carries on as planned."
    ),
    "red_flag": (
        "🛑 Stop running and all impact now, and see a clinician: {why}. Your coach has been told."
    ),
    "escalated": (
        "⏸ Running is paused: you have had to step back more than once lately (this time: "
        "{why}). Your coach or clinician will review before you continue."
    ),
    "phase_entered": "🎉 New phase: “{phase}”. {intro}",
    "awaiting_clearance": AWAITING_CLEARANCE,
    "gate_not_yet": GATE_NOT_YET,
    "coach_hold": "{Who} reviewed your program: holding {level}.",
    "coach_regress": "{Who} moved you back to {level}.",
    # A Regress with nowhere lower to go: said as it is, not as a move.
    "coach_regress_bottom": (
        "{Who} asked for a step back, but you are already at the first level ({level}): "
        "holding here, and the symptom-free count at this level starts again."
    ),
    "coach_regress_no_levels": (
        "{Who} asked for a step back. This phase has no levels to step back through, so it "
        "carries on as planned."
    ),
    "coach_advance": "{Who} moved you on: {level}.",
    "coach_clear": "{Who} cleared you to continue.",
    "coach_resume": "{Who} resumed your program.",
    "coach_message": "💬 From your coach {coach}: {text}",
    "coach_paused": "{Who} paused your program for now. No reminders until it is resumed.",
    "coach_kept_stop": (
        "🛑 {Who} reviewed your stop and kept it: no running or impact for now. When you're "
        "cleared you'll restart with {level}, and I'll tell you here."
    ),
    "coach_cleared_stop": "✅ {Who} cleared you to run again: you restart with {level}{rest}.",
    "coach_acknowledged": (
        "{Who} has seen your report. Running stays stopped until a clinician clears you here."
    ),
    "review_requested": (
        "Thanks. Running stays stopped until your coach (or clinician) confirms you were "
        "cleared; I've asked them."
    ),
    "claim_sent": (
        "Thanks. I've asked your coach to confirm you were cleared for “{phase}”. Until they "
        "do, you stay where you are."
    ),
    "symptoms_mild": (
        "Noted: mild symptoms. Nothing changes for now; report again if it gets worse or new "
        "pain starts."
    ),
    "symptoms_clear": "Noted: nothing in your answers needs a change. Keep to your plan.",
    "discharged": "🏁 You have finished the program. {message}",
    "protocol_switched": (
        "🔀 {Who} moved you to a different program: “{program}”. You continue in “{phase}”"
        "{at_level}. Everything you have done so far still counts."
    ),
}
# The same notices for a runner with no coach linked: nobody was told, and how to fix that.
NOTICES_NO_COACH = {
    "red_flag": (
        "🛑 Stop running and all impact now, and see a clinician: {why}. You have no coach "
        "linked here, so nobody was told. Running stays stopped until a clinician linked here "
        "clears it. " + LINK_A_CLINICIAN
    ),
    "escalated": (
        "⏸ Running is paused: you have had to step back more than once lately (this time: "
        "{why}); see a clinician. You have no coach linked here, so nobody was told. Running "
        "stays stopped until a clinician linked here clears it. " + LINK_A_CLINICIAN
    ),
    "awaiting_clearance": AWAITING_CLEARANCE_NO_COACH,
    "review_requested": (
        "You have no coach linked here, so nobody could be asked to confirm. Running stays "
        "stopped until a clinician linked here clears it. " + LINK_A_CLINICIAN
    ),
    "claim_sent": (
        "You have no coach linked here, so nobody could be asked to confirm your clearance for "
        "“{phase}”. It stays locked until a clinician linked here clears it. " + LINK_A_CLINICIAN
    ),
}
# What made a decision, when the answers behind it say nothing in words (no `says`).
WHY_ANSWERS = "your answers"
LEVEL = "level {n} of {of} ({rx})"
AT_LEVEL = " at {level}"

SCREEN_OFFER = (
    "Optional: a short energy and fuelling check (4 quick questions). Low energy availability "
    "is a common reason bones get overloaded. It's a screen, not a diagnosis. Take it now?"
)
SCREEN_NOT_NOW = "OK. You can take it any time with /screen."
SCREEN_SHARE = "Should I share the result with your coach if it suggests a review?"
SCREEN_SHARE_YES = "Share with my coach"
SCREEN_SHARE_NO = "Keep it private"
SCREEN_OPT_IN = "Include one question about menstrual periods (skip if it doesn't apply)?"
SCREEN_INCLUDE = "Include"
SCREEN_SKIP = "Skip it"
SCREEN_CLEAR = "Thanks. Nothing in your answers suggests a review right now."
SCREEN_REVIEW = (
    "Thanks. Your answers suggest talking to a clinician or a sports dietitian about fuelling "
    "and energy: that often helps bones heal and stay healthy."
)
SCREEN_SHARED = " I've let your coach know, as you agreed."
HELP = (
    "/today — today's session\n/plan — the next 7 days\n/status — where you are and why\n"
    "/history — your recent sessions\n/path — the road ahead, honestly\n"
    "/settings — days, time, time zone, session timer\n"
    "/pain — report pain or a symptom now (or tap 🩹 Report pain)\n"
    "/pause — pause (illness, travel)\n/resume — carry on\n"
    "/screen — optional energy and fuelling check\n/unlink — stop sharing with your coach\n"
    "/coach <text> — write to your coach (or just type it)\n"
    "/export — your data as JSON and CSV\n/delete — erase everything\n/help — this list"
)
COMMANDS = [
    ("today", "Today's session"),
    ("plan", "The next 7 days"),
    ("status", "Where you are and why"),
    ("history", "Recent sessions"),
    ("path", "The road ahead"),
    ("settings", "Days, time, time zone"),
    ("pain", "Report pain or a symptom"),
    ("pause", "Pause the program"),
    ("resume", "Resume the program"),
    ("screen", "Energy and fuelling check"),
    ("unlink", "Stop sharing with your coach"),
    ("coach", "Write to your coach"),
    ("export", "Export your data"),
    ("delete", "Delete all your data"),
    ("help", "What I can do"),
]
# The bot's profile in Telegram (setMyDescription: up to 512 characters, shown before /start;
# setMyShortDescription: up to 120, on the profile and in shared links).
BOT_DESCRIPTION = (
    "boneload guides your return to running after a bone stress injury, one bone-loading "
    "session at a time, and keeps your coach or physio in the loop. A coaching aid, not a "
    "diagnosis: with pain at rest, at night, a limp or groin pain, stop running and see a "
    "clinician."
)
BOT_SHORT_DESCRIPTION = "Back to running after a bone stress injury, with your coach in the loop."
PAUSED = "⏸ Paused. No reminders until you send /resume."
RESUMED = "▶️ Welcome back. {next}"
ALREADY_ACTIVE = "Your program is already running."
NEED_REVIEW = (
    "Running is stopped for a clinician review. Have you been seen and cleared to continue? "
    "If yes, I'll ask your coach to confirm; running stays stopped until they do."
)
DELETE_CONFIRM = "Delete everything I store about you? This can't be undone."
DELETED = "Deleted. Everything about you is gone. Send /start to begin again."
DELETE_KEPT = "Nothing was deleted."
EXPORT_CAPTION = "Your data ({fmt})."
SETTINGS = "Days: {days}\nReminder time: {time}\nTime zone: {tz}\nWhat would you like to change?"
SETTINGS_SAVED = "Saved. {next}"
BTN_DAYS = "Days"
BTN_TIME = "Time"
BTN_TZ = "Time zone"
BTN_LANGUAGE = "Language"
ASK_LANGUAGE = "Which language should I write in?"
LANGUAGE_SAVED = "Saved: I'll write in {language} from now on."
STATUS = (
    "Phase: {phase}\n{level}Status: {status}\n{progress}\nLast answers: {last}\n"
    "Recent decisions:\n{decisions}"
)
STATUS_LEVEL = "Level: {level}\n"
STATUS_PROGRESS_LEVEL = "Symptom-free sessions at this level: {done} of {hold}"
STATUS_STAGE = "Stage: day {day} of {days} (since {since:%d %b}, every session symptom-free)"
STATUS_STAGE_NOT_STARTED = "Stage of {days} days: it starts with your next session here"
STATUS_PROGRESS_PHASE = "In this phase since {since:%d %b}"
STATUS_NONE_YET = "none yet"
STATUS_LAST = "{day:%d %b}: {outcome}, pain during {during}"
STATUS_LAST_24H = ", pain at 24 h {pain}"
STATUS_DECISION = "• {at:%d %b}: {act}"
STATUS_DECISION_WHY = "• {at:%d %b}: {act} ({why})"
# A decision in /status, in words (coaches see the rule ids in /runner).
ACT_WORDS = {
    "enrol": "started the program",
    "progress": "moved up a level",
    "hold": "held the level",
    "regress": "stepped back",
    "escalate": "running paused after repeated step-backs",
    "red_flag": "stopped: see a clinician",
    "advance_phase": "moved to a new phase",
    "gate_asked": "asked if ready for the next phase",
    "gate_not_yet": "not ready for the next phase yet",
    "await_clearance": "waiting for a clinician's clearance",
    "cleared": "cleared by a clinician",
    "missed": "a session was missed and moved",
    "pause": "paused",
    "resume": "resumed",
    "deload": "a lighter week",
    "off_week": "a week off",
    "discharge": "finished the program",
}
STATUS_NO_DECISIONS = "• none yet"
NEXT = "Next: {next}."
HISTORY_LINE = "{day:%a %d %b} · {kind} · {outcome}{pains}"
HISTORY_PAIN = " · pain {during}"
HISTORY_PAIN_24H = "/{pain} at 24 h"
HISTORY_EMPTY = "No sessions yet."
NONE_PLANNED = "none planned"
PLAN_HEADER = "Next 7 days:"
UNREACHABLE_BACK = "Welcome back! Reminders are on again."

WEEKDAY_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
STATUS_WORDS = {
    "active": "active",
    "paused": "paused",
    "escalated": "paused for review (repeated step-backs)",
    "red_flag": "stopped: see a clinician",
    "discharged": "finished: discharged from the program, nothing more is planned",
}


# Texts with a plural: one catalog entry (singular, plural), looked up with ngettext so each
# language uses its own plural rule.
# bot.localised leaves these as they are (English): `plural` looks them up as a pair.
PLURALS = {DIAG_WEEK: DIAG_WEEKS, DAY: DAYS}


def plural(n: int, one: str, many: str, **more: object) -> str:
    """`one` or `many` filled with `n` ("1 day", "2 days") and `more`: the pair is one catalog
    entry, and each language picks its own form for `n` by its own plural rule (ngettext).
    Both forms must be listed in a text module's PLURALS."""
    return ngettext(one, many, n).format(n=n, **more)


def days(n: int) -> str:
    return plural(n, DAY, DAYS)


def diag_weeks(n: int) -> str:
    return plural(n, DIAG_WEEK, DIAG_WEEKS)


# A session's kind and outcome as stored ("cross_train", "done"), in words: English shows
# the codes as they always have ("cross-train"), another language its own words.
SESSION_WORDS = {
    "run": "run",
    "cross_train": "cross-training",
    "strength": "strength",
    "walk": "walk",
    "plyometric": "plyometrics",
    "done": "done",
    "partial": "partly done",
    "skipped": "skipped",
    "missed": "missed",
}


def session_word(code: str | None) -> str:
    code = code or ""
    if current() == "en" or code not in SESSION_WORDS:
        return code.replace("_", "-")
    return _(SESSION_WORDS[code])


def mmss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def timer_caption(total_s: int, *, walks: bool) -> str:
    template = TIMER_CAPTION_INTERVALS if walks else TIMER_CAPTION_CONTINUOUS
    return _(template).format(total=mmss(total_s))


RX_WARMUP = "warm up: walk {minutes} min, then "
RX_COOLDOWN = ", then cool down: walk {minutes} min"
RX_WALK_JOG = "walk {walk}, jog {run}, ×{repeats}"
RX_JOG_WALK = "jog {run}, walk {walk}, ×{repeats}"
RX_CONTINUOUS = "run {minutes} min continuous"
# level_label cuts a run's prescription at " — ": every language keeps that dash.
RX_EASY = " — easy, flat, soft surface"
RX_STRIDES = "; strides allowed"


def prescription(rx: Prescription) -> str:
    if rx.kind.value == "run":
        if rx.walk_s and rx.walk_first:
            body = _(RX_WALK_JOG).format(
                walk=mmss(rx.walk_s), run=mmss(rx.run_s), repeats=rx.repeats
            )
        elif rx.walk_s:
            body = _(RX_JOG_WALK).format(
                walk=mmss(rx.walk_s), run=mmss(rx.run_s), repeats=rx.repeats
            )
        else:
            body = _(RX_CONTINUOUS).format(minutes=rx.run_s // 60)
        if rx.warmup_walk_min:
            body = _(RX_WARMUP).format(minutes=rx.warmup_walk_min) + body
        if rx.cooldown_walk_min:
            body += _(RX_COOLDOWN).format(minutes=rx.cooldown_walk_min)
        body += _(RX_EASY)
        if rx.intensity:
            body += _(RX_STRIDES)
        return body
    return _session_content(rx)


RX_STEPS = ", about {steps} steps"
RX_CONTACTS = ", {contacts} foot contacts"
RX_EXERCISE = "\n• {name}: {sets} × {reps}"
RX_EXERCISE_HOLD = ", hold {hold_s} s"
RX_EXERCISE_PER_SIDE = " each side"
RX_PROGRESSION = "\nProgression: {text}"
RX_SESSION = "{description} ({minutes} min"


def _session_content(rx: Prescription) -> str:
    """A non-run session: its description and minutes, then its own content when the rules give
    it (steps, foot contacts, one line per exercise). The rules' words are translated too."""
    body = _(RX_SESSION).format(description=_(rx.description), minutes=rx.minutes)
    if rx.steps:
        body += _(RX_STEPS).format(steps=rx.steps)
    if rx.contacts:
        body += _(RX_CONTACTS).format(contacts=rx.contacts)
    body += ")"
    for e in rx.exercises:
        body += _(RX_EXERCISE).format(name=_(e.name), sets=e.sets, reps=e.reps)
        if e.hold_s:
            body += _(RX_EXERCISE_HOLD).format(hold_s=e.hold_s)
        if e.per_side:
            body += _(RX_EXERCISE_PER_SIDE)
    if rx.progression:
        body += _(RX_PROGRESSION).format(text=_(rx.progression))
    return body


def reminder(rx: Prescription) -> str:
    return _(REMIND).format(rx=prescription(rx)) + (_(REMIND_DELOAD) if rx.deload else "")


DAY_TODAY = "today"
DAY_TOMORROW = "tomorrow"
REST = "rest"
PLAN_LINE = "• {day}: {what}"


def day_label(d: date, today: date) -> str:
    if d == today:
        return _(DAY_TODAY)
    if (d - today).days == 1:
        return _(DAY_TOMORROW)
    return weekday_day_month(d)


def next_session(day: date | None, planned: Prescription | None, today: date) -> str:
    if day is None or planned is None:
        return _(NONE_PLANNED)
    return f"{day_label(day, today)}: {prescription(planned)}"


def next_of(planned: Planned | None, today: date) -> str:
    """The next session in words ("none planned" when there is none)."""
    if planned is None:
        return _(NONE_PLANNED)
    return next_session(planned.day, planned.prescription, today)


def plan_lines(rows: Sequence[tuple[date, Prescription | None]], today: date) -> str:
    lines = [_(PLAN_HEADER)]
    for d, rx in rows:
        what = prescription(rx) if rx else _(REST)
        lines.append(_(PLAN_LINE).format(day=weekday_day_month(d), what=what))
    return "\n".join(lines)


def days_label(days: Iterable[int]) -> str:
    return ", ".join(_(WEEKDAY_SHORT[d]) for d in sorted(days))


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> tuple[str, str]:
    """The longest head of `line` within `limit` UTF-16 units (never splitting a character)."""
    n = min(len(line), limit)
    while tg_len(line[:n]) > limit:
        n -= 1
    return line[:n], line[n:]


def split_long(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at line breaks so no message exceeds Telegram's limit (in UTF-16 units)."""
    if tg_len(text) <= limit:
        return [text]
    parts: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while tg_len(line) > limit:
            if cur:
                parts.append(cur)
                cur = ""
            head, line = _cut(line, limit)
            parts.append(head)
        candidate = f"{cur}\n{line}" if cur else line
        if tg_len(candidate) > limit:
            parts.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        parts.append(cur)
    return parts


THIS_PHASE = "this phase"


def level_label(rules: Rules, protocol_id: str, level_id: str | None) -> str:
    """'level 3 of 7 (jog 3:00, walk 2:00, ×6)' for a level id of the runner's protocol."""
    if level_id is None:
        return _(THIS_PHASE)
    proto = rules.protocols[protocol_id]
    for ph in proto.phases:
        for i, lv in enumerate(ph.levels):
            if lv.id == level_id:
                rx = Prescription(
                    kind=SessionKind.RUN,
                    phase_id=ph.id,
                    level_id=lv.id,
                    description="",
                    minutes=0,
                    run_s=lv.run_s,
                    walk_s=lv.walk_s,
                    repeats=lv.repeats,
                    walk_first=lv.walk_first,
                    warmup_walk_min=lv.warmup_walk_min,
                    cooldown_walk_min=lv.cooldown_walk_min,
                )
                short = prescription(rx).split(" — ")[0]
                return _(LEVEL).format(n=i + 1, of=len(ph.levels), rx=short)
    return level_id


# --- the coach's overlay (tailoring) ------------------------------------------------------------

TAILORED = "🛠 {Who} tailored your program (change {version}): {changes}."
TAILORED_NOTHING = "no change"
# One phrase per tailored field, in the runner's words; "{v}" is the value.
TAILOR_SAYS = {
    "start_level": "running starts at {v}",
    "hold_sessions": "each level is held for {v} symptom-free sessions before the next step",
    "hold_days": "each level is held for at least {v} days",
    "rest_days": "at least {v} rest day(s) between two runs",
    "weekdays": "you train on {v}",
    "pain_threshold": (
        "pain up to {v}/10 during a session still counts as mild; above it you step back"
    ),
    "maintenance_factor": "maintenance runs are {v}% of their usual running time",
}
TAILOR_UNSET = "{field} is back to the standard plan"
TAILOR_FIELD = {
    "start_level": "the start level",
    "hold_sessions": "how many sessions a level is held",
    "hold_days": "how many days a level is held",
    "rest_days": "rest days between runs",
    "weekdays": "your training days",
    "pain_threshold": "the pain limit",
    "maintenance_factor": "maintenance volume",
}
STATUS_OVERLAY = "🛠 Tailored by {who} (change {version}): {changes}."


def tailor_value(rules: Rules, protocol_id: str, name: str, value: object) -> str:
    """One tailored value as the runner reads it."""
    if name == "start_level":
        return level_label(rules, protocol_id, str(value))
    if name == "weekdays":
        assert isinstance(value, Iterable)
        return days_label(int(d) for d in value)
    if name == "maintenance_factor":
        assert isinstance(value, (int, float))
        return str(round(value * 100))
    return str(value)


def tailor_changes(
    rules: Rules, protocol_id: str, overlay: Mapping[str, object], names: list[str]
) -> str:
    """The changed (or all) fields of an overlay, in plain words, joined."""
    parts = []
    for name in names:
        if name in overlay:
            v = tailor_value(rules, protocol_id, name, overlay[name])
            parts.append(_m(TAILOR_SAYS)[name].format(v=v))
        elif name in TAILOR_FIELD:
            parts.append(_(TAILOR_UNSET).format(field=_m(TAILOR_FIELD)[name]))
    return "; ".join(parts) or _(TAILORED_NOTHING)


def tailor_who(by: str) -> str:
    """Who made a tailoring, from its recorded author ("coach:3", "operator:Dr Jones")."""
    kind, _, name = by.partition(":")
    if kind == "coach":
        return _m(WHO)["coach"]  # the runner has one coach; their internal id means nothing here
    if kind == "operator":
        return f"{name} ({_m(WHO)['operator']})" if name else _m(WHO)["operator"]
    return by


def overlay_status(rules: Rules, protocol_id: str, overlay: Mapping[str, object]) -> str:
    """The runner's tailoring for /status: version, who, and every tailored field in words."""
    names = [n for n in TAILOR_SAYS if n in overlay]
    return _(STATUS_OVERLAY).format(
        who=tailor_who(str(overlay.get("by", ""))),
        version=overlay.get("version", ""),
        changes=tailor_changes(rules, protocol_id, overlay, names),
    )


# --- two-way messages with the coach (issue 12) ----------------------------------------------
OFFER_TO_COACH = "Send this to your coach?\n\n“{text}”"
BTN_SEND_TO_COACH = "Send to my coach"
BTN_DONT_SEND = "Don't send"
SENT_TO_COACH = "Sent to your coach {coach}. Their answer arrives here."
NOT_SENT = "Not sent."
NO_COACH_TO_WRITE = (
    "I didn't catch that, and you have no coach linked to pass it on to (a coach's invite link "
    "links you). /today shows today's session; /help lists everything."
)
USAGE_COACH = "Usage: /coach <your message> — it goes straight to your coach."


# --- the road ahead (/path) -----------------------------------------------------------------------

PATH_TITLE = "🛤 The road ahead"
PATH_DONE = "Done: {phases}"
PATH_NONE_DONE = "Done: nothing yet; this is the first phase."
PATH_NOW = "Now: {phase}"
PATH_AHEAD = "To come: {phases}"
PATH_NONE_AHEAD = "To come: nothing more; this is the last phase."
PATH_PLATEAUS = (
    "Plateaus passed: {passed} of {total} run/walk steps. Each one held until your body showed "
    "it handled the load."
)
PATH_WEEKS = "{weeks} weeks since your diagnosis."
PATH_TYPICAL_SITE = (
    "Runners with this injury typically get back to their sport {min}–{max} weeks after "
    "diagnosis ({source})."
)
PATH_TYPICAL_GRADE = (
    "With your imaging grade, runners typically get back to their sport {min}–{max} weeks after "
    "diagnosis ({source})."
)
PATH_TYPICAL_NONE = (
    "There is no published range close enough to your injury to quote; your coach can tell you "
    "more."
)
PATH_BOSS = (
    "That is a range, never a promise: the body is the boss. Each step waits until yours is "
    "ready, however long that takes, and that is how it heals for good."
)


def path_text(road: Road) -> str:
    lines = [_(PATH_TITLE)]
    # Phase names are the rules' words: translated one by one.
    done = " → ".join(_(p) for p in road.done)
    ahead = " → ".join(_(p) for p in road.ahead)
    lines.append(_(PATH_DONE).format(phases=done) if road.done else _(PATH_NONE_DONE))
    lines.append(_(PATH_NOW).format(phase=_(road.current)))
    lines.append(_(PATH_AHEAD).format(phases=ahead) if road.ahead else _(PATH_NONE_AHEAD))
    if road.plateaus_total:
        lines.append(
            _(PATH_PLATEAUS).format(passed=road.plateaus_passed, total=road.plateaus_total)
        )
    lines.append(_(PATH_WEEKS).format(weeks=road.weeks_since_diagnosis))
    t = road.typical
    if t is None:
        lines.append(_(PATH_TYPICAL_NONE))
    else:
        template = _(PATH_TYPICAL_GRADE) if road.typical_from_grade else _(PATH_TYPICAL_SITE)
        lines.append(template.format(min=t.min_weeks, max=t.max_weeks, source=t.source))
    lines.append(_(PATH_BOSS))
    return "\n".join(lines)


# --- reminders: "Later today", the session timer switch ------------------------------------------

BTN_LATER = "Later today ⏰"
SNOOZED = "OK, I'll remind you again at {time}."
NO_SLOT_TODAY = (
    "There's no time left today outside your quiet hours for another reminder. Tap Done when "
    "you've done it, or Move to next day."
)
SETTINGS_TIMER = "Session timer with run reminders: {state}"
SETTINGS_LANGUAGE = "Language: {language}"
SETTINGS_COACH_DAYS = "Training days set by your coach: {days} (they decide the plan while set)"
TIMER_STATE_ON = "on"
TIMER_STATE_OFF = "off"
BTN_TIMER_OFF = "Timer off"
BTN_TIMER_ON = "Timer on"
TIMER_NOW_ON = "The session timer comes with your run reminders again."
TIMER_NOW_OFF = "OK, no session timer with your run reminders. /settings turns it back on."
