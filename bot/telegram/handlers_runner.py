"""The runner's sessions and check-ins: reminder buttons, post-session questions, the 24-hour
follow-up (or the watch check before running), phase gates, the symptom check at any time
(/pain, the "Report pain" keyboard button), habit questions, settings, pause/resume, export and
delete.

Every press is re-checked against the stored state: a button from a question that has moved on
answers "this question has closed" and changes nothing. Every answer is judged as it comes: a
red flag submits the flow at once, with the questions still unanswered left unasked.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot import texts
from bot.conversation import checks, onboarding, questions
from bot.conversation.callbacks import BadCallback, Callback, Kind, cb, decode
from bot.conversation.numbers import parse_int
from bot.conversation.prompts import Button, Prompt
from bot.program.events import (
    ClearanceClaimed,
    Event,
    FollowupAnswered,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionReported,
    SettingsChanged,
    SymptomsReported,
)
from bot.program.plan import project
from bot.program.rules import Question
from bot.program.state import Outcome, Status
from bot.services import runners as svc
from bot.services.turn import wake_agenda
from bot.telegram import handlers_onboarding
from bot.telegram.context import deps_of
from bot.telegram.render import (
    followup_questions,
    gate_question_list,
    post_questions,
    report_question_list,
    session_buttons,
    symptom_offer,
    yes_no,
)
from bot.telegram.ui import edit_or_send, markup, report_keyboard

log = logging.getLogger(__name__)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button press of a runner lands here and is routed by its kind."""
    query = update.callback_query
    if query is None:
        return
    try:
        cbk = decode(query.data)
    except BadCallback:
        await query.answer(texts.STALE)
        return
    if cbk.kind is Kind.ONBOARD:
        if not await handlers_onboarding.on_answer(update, context, cbk, None):
            await query.answer(texts.STALE)
        return
    d = deps_of(context)
    runner = await svc.find_runner(d, query.from_user.id)
    if runner is None or runner.state is None:
        await query.answer(texts.NOT_ENROLLED, show_alert=True)
        return
    handler = _ROUTES.get(cbk.kind)
    if handler is None:
        await query.answer(texts.STALE)
        return
    await handler(update, context, runner, cbk)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text goes to whatever question is open; otherwise a short pointer to /help."""
    msg = update.message
    if msg is None or msg.text is None or update.effective_user is None:
        return
    if await handlers_onboarding.on_answer(update, context, None, msg.text):
        return
    d = deps_of(context)
    runner = await svc.find_runner(d, update.effective_user.id)
    if runner is None:
        await msg.reply_text(texts.NOT_ENROLLED)
        return
    user_id = update.effective_user.id
    dialog = await svc.load_dialog(d, user_id)
    # The latest flow first, then the older ones still open: a question left unanswered (the
    # session slid, the follow-up closed) must not swallow every later message as "closed".
    others = [f for f in reversed(dialog.flows) if f != dialog.active]
    for flow in ([dialog.active] if dialog.active in dialog.flows else []) + others:
        if flow == "settings":
            await _settings_text(update, context, runner, msg.text)
            return
        kind, _, ref = flow.partition(":")
        if kind not in _CB_KIND or _questions_for(kind, ref, runner, d, dialog.flows) is None:
            await svc.clear_flow(d, user_id, flow)
            continue
        await _question_step(update, context, runner, kind, ref, None, msg.text)
        return
    if runner.state is not None and checks.looks_like_symptom(msg.text):
        offer = symptom_offer()
        await msg.reply_text(offer.text, reply_markup=markup(offer))
        return
    await msg.reply_text(texts.HELP_HINT)


# --- sessions -------------------------------------------------------------------------------


async def _on_session(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, cbk: Callback
) -> None:
    d = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    st = runner.state
    today = svc.local_today(d, st)
    seq = -1 if (n := parse_int(cbk.ref)) is None else n
    if (
        st.status is not Status.ACTIVE
        or st.next is None
        or st.next.seq != seq
        or st.next.day != today
    ):
        await query.answer(texts.STALE)
        return
    await query.answer()
    if query.message is not None:
        await query.edit_message_reply_markup(None)
    if cbk.value in ("skip", "move"):
        decision = await svc.apply_event(
            d,
            runner.id,
            SessionReported(seq, Outcome.SKIPPED),
            actor="runner",
            report=(seq, Outcome.SKIPPED, None, None),
        )
        new = decision.state
        nxt = texts.next_session(
            new.next.day if new.next else None, new.next.prescription if new.next else None, today
        )
        said = texts.MOVED if cbk.value == "move" else texts.SKIPPED
        await context.bot.send_message(runner.chat_id, said.format(next=nxt))
        return
    outcome = Outcome.PARTIAL if cbk.value == "partial" else Outcome.DONE
    flow = f"post:{seq}"
    await svc.save_flow(
        d, query.from_user.id, runner.id, flow, {"answers": {}, "outcome": outcome.value}
    )
    qs = post_questions(st, d.rules)
    await edit_or_send(
        None, runner.chat_id, context.bot, questions.question_prompt(Kind.POST, str(seq), qs[0])
    )


# --- question flows: post-session, follow-up, gate, symptom check -------------------------------


def _questions_for(
    kind: str, ref: str, runner: svc.RunnerCtx, d: Any, flows: dict[str, Any]
) -> list[Question] | None:
    """The questions of an open flow, or None when that flow has closed."""
    st = runner.state
    assert st is not None
    if kind == "post":
        ok = st.status is Status.ACTIVE and st.next is not None and str(st.next.seq) == ref
        return post_questions(st, d.rules) if ok else None
    if kind == "followup":
        # The run's 24-hour follow-up, or the watch check after a session before running.
        seq = parse_int(ref)
        return (followup_questions(st, seq, d.rules) or None) if seq is not None else None
    if kind == "pain":
        return report_question_list(st, d.rules) if f"pain:{ref}" in flows else None
    if kind == "gate":
        proto = d.rules.protocols[st.protocol_id]
        i = proto.index(st.phase_id)
        ahead = proto.phases[i + 1].id if i + 1 < len(proto.phases) else None
        if ref != ahead or st.status is not Status.ACTIVE:
            return None
        return gate_question_list(st, ref, d.rules)
    return None


_KIND_OF = {Kind.POST: "post", Kind.FOLLOWUP: "followup", Kind.GATE: "gate", Kind.REPORT: "pain"}
_CB_KIND = {v: k for k, v in _KIND_OF.items()}
# Where the answers of each flow are recorded (the answers table's stage).
_STAGE = {"post": "post", "followup": "followup", "gate": "gate", "pain": "report"}


async def _on_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, cbk: Callback
) -> None:
    ref, _, qid = cbk.ref.rpartition(":")
    await _question_step(update, context, runner, _KIND_OF[cbk.kind], ref, qid, cbk.value)


async def _question_step(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    runner: svc.RunnerCtx,
    kind: str,
    ref: str,
    qid: str | None,
    raw: str,
) -> None:
    d = deps_of(context)
    query = update.callback_query
    user = update.effective_user
    assert user is not None and runner.state is not None
    dialog = await svc.load_dialog(d, user.id)
    qs = _questions_for(kind, ref, runner, d, dialog.flows)
    flow = f"{kind}:{ref}"
    if qs is None:
        await svc.clear_flow(d, user.id, flow)
        await _reply(update, texts.STALE)
        return
    data = dict(dialog.flows.get(flow, {"answers": {}}))
    answers: dict[str, int | bool] = dict(data.get("answers", {}))
    result = questions.accept(qs, answers, qid, raw)
    if result.stale:
        await _reply(update, texts.STALE)
        return
    if result.error:
        await _reply(update, result.error)
        if query is None:  # typed text: show the question again under the hint
            current = questions.next_question(qs, answers)
            if current is not None:
                prompt = questions.question_prompt(_CB_KIND[kind], ref, current)
                await edit_or_send(None, runner.chat_id, context.bot, prompt)
        return
    if query:
        await query.answer()
    answers = dict(result.data["answers"])  # type: ignore[call-overload]
    seq = parse_int(ref) if kind != "pain" else None
    answered = [q for q in qs if q.id in answers and q.id not in data.get("answers", {})]
    new_answers = {q.id: answers[q.id] for q in answered}
    stage = _STAGE[kind]
    # A red-flag answer acts at once: the flow is submitted with what is answered so far.
    if not result.done and not checks.red_flag_now(kind, answers, d.rules):
        await svc.save_step(
            d, user.id, runner.id, stage, seq, new_answers, flow, {**data, "answers": answers}
        )
        nxt = questions.next_question(qs, answers)
        assert nxt is not None
        prompt = questions.question_prompt(_CB_KIND[kind], ref, nxt)
        await edit_or_send(query.message if query else None, runner.chat_id, context.bot, prompt)
        return
    if query and query.message:
        await query.edit_message_reply_markup(None)
    # The last answer, the decision it leads to and the end of the flow: one transaction.
    event, report = _submitted(kind, ref, seq, data, answers)
    decision = await svc.apply_event(
        d,
        runner.id,
        event,
        actor="runner",
        report=report,
        answers=(stage, seq, new_answers),
        close_flow=(user.id, flow),
    )
    await context.bot.send_message(
        runner.chat_id, texts.STALE if decision.stale else texts.SESSION_THANKS
    )
    wake_agenda(d)


def _submitted(
    kind: str, ref: str, seq: int | None, data: dict[str, Any], answers: dict[str, int | bool]
) -> tuple[Event, tuple[int, Outcome, int | None, int | None] | None]:
    """The event a finished (or red-flagged) flow submits, and the session report with it."""
    if kind == "pain":
        return SymptomsReported(answers), None
    if kind == "post":
        assert seq is not None
        outcome = Outcome(str(data.get("outcome", "done")))
        pain = int(answers.get("pain_during", 0))
        rpe = int(answers["rpe"]) if "rpe" in answers else None
        return SessionReported(seq, outcome, pain, rpe), (seq, outcome, pain, rpe)
    if kind == "followup":
        assert seq is not None
        return FollowupAnswered(seq, answers), None
    return GateAnswered(ref, {k: bool(v) for k, v in answers.items()}), None


async def _on_habit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, cbk: Callback
) -> None:
    d = deps_of(context)
    query = update.callback_query
    assert query is not None
    _habit, _, qid = cbk.ref.rpartition(":")
    q = d.rules.question_by_id.get(qid)
    if q is None:
        await query.answer(texts.STALE)
        return
    try:
        value = questions.parse_value(q, cbk.value)
    except ValueError:
        await query.answer(texts.STALE)
        return
    await svc.record_answers(d, runner.id, "habit", None, {qid: value})
    await query.answer(texts.SESSION_THANKS)
    if query.message is not None:
        await query.edit_message_reply_markup(None)


# --- confirmations, settings ------------------------------------------------------------------


async def _on_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, cbk: Callback
) -> None:
    d = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    yes = cbk.value == "y"
    if cbk.ref == "delete":
        await query.answer()
        if yes:
            await svc.delete_runner(d, runner.id, query.from_user.id)
            await query.edit_message_text(texts.DELETED)
        else:
            await query.edit_message_text(texts.DELETE_KEPT)
        return
    if cbk.ref == "review":
        await query.answer()
        if not yes or not runner.state.status.stopped:
            await query.edit_message_text(texts.FLAGGED_STATE if not yes else texts.STALE)
            return
        # "I've been seen" asks the coach to confirm; it lifts nothing. The notice that says
        # so (and whether anyone could be asked) follows from the agenda.
        decision = await svc.apply_event(
            d, runner.id, RunnerResumed(clinician_reviewed=True), actor="runner"
        )
        await query.edit_message_text(texts.STALE if decision.stale else texts.REVIEW_NOTED)
        wake_agenda(d)
        return
    if cbk.ref == "claim":
        decision = await svc.apply_event(d, runner.id, ClearanceClaimed(), actor="runner")
        if decision.stale:
            await query.answer(texts.CLAIM_STALE)
        else:
            await query.answer(texts.SESSION_THANKS)
        if query.message is not None:
            await query.edit_message_reply_markup(None)
        wake_agenda(d)
        return
    if cbk.ref == "pain" and yes:
        await query.answer()
        if query.message is not None:
            await query.edit_message_reply_markup(None)
        await _open_report(context, runner, query.from_user.id)
        return
    await query.answer(texts.STALE)


_SETTING_STEPS = {"days": "days", "time": "time", "tz": "tz"}


async def _on_settings(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, cbk: Callback
) -> None:
    d = deps_of(context)
    query = update.callback_query
    assert query is not None and runner.state is not None
    user_id = query.from_user.id
    p = runner.state.profile
    if cbk.ref == "menu":
        step = _SETTING_STEPS.get(cbk.value)
        if step is None:
            await query.answer(texts.STALE)
            return
        data = {"step": step, "days": sorted(p.available_days)}
        await svc.save_flow(d, user_id, runner.id, "settings", data)
        await query.answer()
        prompt = onboarding.prompt(step, data, d.rules, d.clock(), kind=Kind.SETTINGS)
        await edit_or_send(query.message, runner.chat_id, context.bot, prompt)
        return
    await _settings_input(update, context, runner, cbk.ref, cbk.value)


async def _settings_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, text: str
) -> None:
    d = deps_of(context)
    assert update.effective_user is not None
    dialog = await svc.load_dialog(d, update.effective_user.id)
    step = str(dialog.flows.get("settings", {}).get("step", ""))
    await _settings_input(update, context, runner, step, text)


async def _settings_input(
    update: Update, context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, step: str, value: str
) -> None:
    d = deps_of(context)
    query = update.callback_query
    user = update.effective_user
    assert user is not None and runner.state is not None
    dialog = await svc.load_dialog(d, user.id)
    data = dict(dialog.flows.get("settings", {}))
    if data.get("step") != step:
        await _reply(update, texts.STALE)
        return
    result = onboarding.accept(step, value, data, d.rules, d.clock())
    if result.error:
        await _reply(update, result.error)
        return
    if query:
        await query.answer()
    new = dict(result.data)
    finished = (step == "days" and new.get("days_done")) or (step in ("time", "tz") and step in new)
    if not finished:
        await svc.save_flow(d, user.id, runner.id, "settings", new)
        prompt = onboarding.prompt(step, new, d.rules, d.clock(), kind=Kind.SETTINGS)
        await edit_or_send(query.message if query else None, runner.chat_id, context.bot, prompt)
        return
    chosen = new.get("days", [])
    assert isinstance(chosen, list)
    ev = SettingsChanged(
        timezone=str(new["tz"]) if step == "tz" else None,
        preferred_time=onboarding.parse_time(str(new["time"])) if step == "time" else None,
        available_days=frozenset(int(x) for x in chosen) if step == "days" else None,
    )
    if step == "tz":
        await svc.set_runner_timezone(d, runner.id, str(new["tz"]))
    decision = await svc.apply_event(d, runner.id, ev, actor="runner")
    await svc.clear_flow(d, user.id, "settings")
    st = decision.state
    today = svc.local_today(d, st)
    nxt = texts.next_session(
        st.next.day if st.next else None, st.next.prescription if st.next else None, today
    )
    await context.bot.send_message(
        runner.chat_id, texts.SETTINGS_SAVED.format(next=texts.NEXT.format(next=nxt))
    )
    wake_agenda(d)


# --- commands -------------------------------------------------------------------------------


async def _enrolled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> svc.RunnerCtx | None:
    d = deps_of(context)
    user, msg = update.effective_user, update.message
    if user is None or msg is None:
        return None
    runner = await svc.find_runner(d, user.id)
    if runner is None or runner.state is None:
        await msg.reply_text(texts.NOT_ENROLLED)
        return None
    return runner


async def cmd_today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    d = deps_of(context)
    st = runner.state
    today = svc.local_today(d, st)
    keyboard = report_keyboard()  # a message has one markup: the session's buttons win
    if st.status is Status.PAUSED:
        await update.message.reply_text(texts.PAUSED_STATE, reply_markup=keyboard)
    elif st.status is not Status.ACTIVE:
        await update.message.reply_text(texts.FLAGGED_STATE, reply_markup=keyboard)
    elif st.next is not None and st.next.day == today:
        prompt = Prompt(texts.reminder(st.next.prescription), session_buttons(st.next.seq))
        await update.message.reply_text(prompt.text, reply_markup=markup(prompt))
    else:
        nxt = texts.next_session(
            st.next.day if st.next else None, st.next.prescription if st.next else None, today
        )
        await update.message.reply_text(
            texts.NO_SESSION_TODAY.format(next=nxt), reply_markup=keyboard
        )


async def cmd_pain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pain, or the "🩹 Report pain" keyboard button: the symptom check, at any time."""
    runner = await _enrolled(update, context)
    if runner is None or update.effective_user is None:
        return
    await _open_report(context, runner, update.effective_user.id)


async def _open_report(
    context: ContextTypes.DEFAULT_TYPE, runner: svc.RunnerCtx, user_id: int
) -> None:
    """Open a new symptom check (flow `pain:<n>`), closing any older one left unanswered."""
    d = deps_of(context)
    assert runner.state is not None
    qs = report_question_list(runner.state, d.rules)
    dialog = await svc.load_dialog(d, user_id)
    for old in [f for f in dialog.flows if f.startswith("pain:")]:
        await svc.clear_flow(d, user_id, old)
    ref = str(int(d.clock().timestamp()))
    await svc.save_flow(d, user_id, runner.id, f"pain:{ref}", {"answers": {}})
    prompt = questions.question_prompt(Kind.REPORT, ref, qs[0], texts.PAIN_INTRO)
    await edit_or_send(None, runner.chat_id, context.bot, prompt)


async def cmd_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    d = deps_of(context)
    today = svc.local_today(d, runner.state)
    if runner.state.status is not Status.ACTIVE:
        await update.message.reply_text(
            texts.PAUSED_STATE if runner.state.status is Status.PAUSED else texts.FLAGGED_STATE
        )
        return
    await update.message.reply_text(texts.plan_lines(project(runner.state, d.rules, today), today))


async def cmd_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    d = deps_of(context)
    text = await svc.status_text(d, runner)
    for part in texts.split_long(text):
        await update.message.reply_text(part)


async def cmd_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    text = await svc.history_text(deps_of(context), runner)
    for part in texts.split_long(text):
        await update.message.reply_text(part)


async def cmd_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    p = runner.state.profile
    prompt = Prompt(
        texts.SETTINGS.format(
            days=texts.days_label(p.available_days), time=f"{p.preferred_time:%H:%M}", tz=p.timezone
        ),
        (
            (
                Button(texts.BTN_DAYS, cb(Kind.SETTINGS, "menu", "days")),
                Button(texts.BTN_TIME, cb(Kind.SETTINGS, "menu", "time")),
                Button(texts.BTN_TZ, cb(Kind.SETTINGS, "menu", "tz")),
            ),
        ),
    )
    await update.message.reply_text(prompt.text, reply_markup=markup(prompt))


async def cmd_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    d = deps_of(context)
    if runner.state.status is not Status.ACTIVE:
        await update.message.reply_text(
            texts.PAUSED_STATE if runner.state.status is Status.PAUSED else texts.FLAGGED_STATE
        )
        return
    await svc.apply_event(d, runner.id, RunnerPaused(), actor="runner")
    await update.message.reply_text(texts.PAUSED)


async def cmd_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or runner.state is None or update.message is None:
        return
    d = deps_of(context)
    status = runner.state.status
    if status is Status.ACTIVE:
        await update.message.reply_text(texts.ALREADY_ACTIVE)
        return
    if status in (Status.RED_FLAG, Status.ESCALATED):
        prompt = Prompt(texts.NEED_REVIEW, yes_no(Kind.CONFIRM, "review"))
        await update.message.reply_text(prompt.text, reply_markup=markup(prompt))
        return
    decision = await svc.apply_event(d, runner.id, RunnerResumed(), actor="runner")
    await update.message.reply_text(_resumed_text(d, decision.state))
    wake_agenda(d)


def _resumed_text(d: Any, st: Any) -> str:
    today = svc.local_today(d, st)
    nxt = texts.next_session(
        st.next.day if st.next else None, st.next.prescription if st.next else None, today
    )
    return texts.RESUMED.format(next=texts.NEXT.format(next=nxt))


async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    d = deps_of(context)
    json_bytes, csv_bytes = await svc.export_files(d, runner.id)
    await update.message.reply_document(
        InputFile(json_bytes, filename="boneload-export.json"),
        caption=texts.EXPORT_CAPTION.format(fmt="JSON"),
    )
    await update.message.reply_document(
        InputFile(csv_bytes, filename="boneload-sessions.csv"),
        caption=texts.EXPORT_CAPTION.format(fmt="CSV"),
    )


async def cmd_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    prompt = Prompt(texts.DELETE_CONFIRM, yes_no(Kind.CONFIRM, "delete"))
    await update.message.reply_text(prompt.text, reply_markup=markup(prompt))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is None or update.effective_user is None:
        return
    runner = await svc.find_runner(deps_of(context), update.effective_user.id)
    enrolled = runner is not None and runner.state is not None
    await update.message.reply_text(
        texts.HELP, reply_markup=report_keyboard() if enrolled else None
    )


async def cmd_unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None:
        await update.message.reply_text(texts.UNKNOWN_COMMAND)


async def _reply(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text)
    elif update.message is not None:
        await update.message.reply_text(text)


_ROUTES: dict[Kind, Any] = {
    Kind.SESSION: _on_session,
    Kind.POST: _on_question,
    Kind.FOLLOWUP: _on_question,
    Kind.GATE: _on_question,
    Kind.REPORT: _on_question,
    Kind.HABIT: _on_habit,
    Kind.CONFIRM: _on_confirm,
    Kind.SETTINGS: _on_settings,
}


async def cmd_unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The runner stops sharing with their coach; pending alerts about them are withdrawn."""
    runner = await _enrolled(update, context)
    if runner is None or update.message is None:
        return
    from bot.services import coaches as csvc

    unlinked = await csvc.unlink_runner(deps_of(context), runner.id)
    await update.message.reply_text(texts.UNLINKED if unlinked else texts.NO_COACH)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice...: a short pointer instead of silence."""
    if update.message is not None:
        await update.message.reply_text(texts.NOT_TEXT)
