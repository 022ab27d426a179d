"""End-to-end throughput and reply latency of a real `boneload run` process over real HTTP,
beside a bare PTB echo bot driven by the same harness in the same run.

Each side is a separate process long-polling its own fresh local Bot API stand-in
(`bot.standin.BotApiStandIn`, in this process). The runners are simulated here, all at once,
each waiting for the bot's reply before its next press (a person does not press ahead):

- boneload: a fresh copy of a SQLite file in which `bench/_e2e_plan.py` enrolled the runners in
  the run/walk phase with today's run reminder already due. At start the bot's agenda sends the
  reminders; once every runner has one, each presses Done on it, answers the post-session
  questions, then the 24-hour follow-up, one button per question (10 presses a runner). The
  follow-up is answered straight after the session (its scheduled message is a day away);
  the press goes to the bot's last message, which the bot edits into the next question.
- echo (`bench/echo_bot.py`): each runner types a first message and waits for its echo (the
  stand-in for the reminder), then presses the same 10 buttons; the bot answers each press and
  edits the message to the pressed data.

Measured from the moment every runner has its first message to the last reply:
- updates/s: presses / that span;
- bot CPU ms per update: the bot process's user + system CPU over that span (/proc/<pid>/stat)
  per press, the agenda's own sends in that span (habit prompts) included;
- reply latency: from the update being queued at the stand-in (available to getUpdates) to the
  arrival of the bot's reply call, the one that shows the runner the next question or the
  thanks (not the spinner's answerCallbackQuery).

Both settings of the outbound budget run: lifted, then SEND_RATE_PER_SECOND=25 (the default), to
show whether a runner's own replies wait behind the agenda's bulk budget (the agenda's own
sends in the span are counted: the runners' habit prompts, and with --bulk N as many notices a
runner, due as the runners start). Each figure is the min / median over --rounds rounds, echo
and boneload taking turns in each. The targets (issue 10) are judged on the medians:
throughput >= 0.3x the echo bot's, p99 reply latency <= 2x the echo bot's. Beside them: the
bot's CPU off its event-loop thread (aiosqlite's threads), its CPU as a share of one core, and
this process's CPU (near 100 % the harness, not the bot, would be what limits).

    python bench/e2e_throughput.py                 # 100 runners, 1 round a setting: ~2 minutes
    python bench/e2e_throughput.py --rounds 3      # min / median of 3 rounds: ~6 minutes
    python bench/e2e_throughput.py --runners 20    # quick look
    python bench/e2e_throughput.py --checkout ../other   # another checkout's boneload
    python bench/e2e_throughput.py --profile /tmp/prof   # + where the bot's CPU goes
    python bench/e2e_throughput.py --bulk 3        # + 3 agenda notices a runner as they press

`--checkout` runs that checkout's `boneload run` (python -m bot, that checkout first on
PYTHONPATH) and enrols the runners with its code; the stand-in, the runners and the echo bot
are this checkout's. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.standin import BotApiStandIn, RecordedCall

ROOT = Path(__file__).resolve().parents[1]
PLAN_SCRIPT = Path(__file__).resolve().parent / "_e2e_plan.py"
ECHO_SCRIPT = Path(__file__).resolve().parent / "echo_bot.py"
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
LIFTED_RATE = 1_000_000.0
DEFAULT_RATE = 25.0
# Targets from issue 10, boneload against the echo bot in the same run.
TARGET_THROUGHPUT_RATIO = 0.3
TARGET_P99_RATIO = 2.0
# The bot is up within this many seconds, and has sent every reminder within as many more.
START_TIMEOUT_S = 60.0
# A reply slower than this is a hung runner, not a slow one.
REPLY_TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- what the runners see -----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A message call of the bot to a chat, as it arrived at the stand-in."""

    at: float  # time.monotonic() on arrival (the stand-in's RecordedCall.time)
    method: str
    message_id: int | None
    text: str | None
    button_data: frozenset[str]


@dataclass
class ChatLog:
    replies: list[Reply] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)
        # Wake whoever waits on this chat; the next wait takes a fresh event.
        self.arrived.set()
        self.arrived = asyncio.Event()


class RunnerFailed(AssertionError):
    """A runner did not get the reply it waited for, or the database did not decide what the
    runners answered: the figures of such a run mean nothing."""


class ObservedStandIn(BotApiStandIn):
    """The stand-in, also filing each answered message call under its chat, so that a runner
    waits on its own chat's few replies instead of re-scanning every call the bot made."""

    def __init__(self) -> None:
        super().__init__()
        self.chats: dict[int, ChatLog] = {}

    def chat(self, chat_id: int) -> ChatLog:
        return self.chats.setdefault(chat_id, ChatLog())

    async def _dispatch(self, call: RecordedCall, handler: Any) -> tuple[int, dict[str, Any]]:
        status, body = await super()._dispatch(call, handler)
        if status == 200:
            self._observe(call, body)
        return status, body

    def _observe(self, call: RecordedCall, body: dict[str, Any]) -> None:
        params = call.params
        if call.method == "answerCallbackQuery":
            # Only a spoken answer matters here (a stale press is answered with a text).
            text = params.get("text")
            pressed = self._callbacks.get(str(params.get("callback_query_id")))
            if text and pressed is not None:
                said = Reply(call.time, call.method, None, text, frozenset())
                self.chat(pressed.user_id).add(said)
            return
        if call.method not in ("sendMessage", "editMessageText"):
            return
        if call.method == "sendMessage":
            message_id = int(body["result"]["message_id"])
        else:
            message_id = int(params["message_id"])
        _, buttons, _ = self._markup(params)
        data = frozenset(str(button[1]) for row in buttons for button in row if button[1])
        reply = Reply(call.time, call.method, message_id, params.get("text"), data)
        self.chat(int(params["chat_id"])).add(reply)


@dataclass(frozen=True)
class Expect:
    """What the reply to a press looks like: it carries a button with this data ("button"),
    or it is exactly this text ("text")."""

    kind: str
    value: str

    def met_by(self, reply: Reply) -> bool:
        if self.kind == "button":
            return self.value in reply.button_data
        return reply.text == self.value


@dataclass(frozen=True)
class Step:
    press: str  # callback data
    expect: Expect


@dataclass(frozen=True)
class Script:
    """One runner: an optional first typed message, the first reply to wait for (the message
    to press on), then the presses."""

    chat: int
    opening_text: str | None
    opening: Expect
    steps: tuple[Step, ...]


def boneload_scripts(plan: dict[str, Any]) -> list[Script]:
    scripts = []
    for runner in plan["runners"]:
        steps = tuple(Step(press, Expect(kind, value)) for press, kind, value in runner["steps"])
        # The reminder: the message that carries the first button (Done).
        scripts.append(Script(runner["chat"], None, Expect("button", steps[0].press), steps))
    return scripts


def echo_scripts(scripts: Sequence[Script]) -> list[Script]:
    """The same runners pressing the same buttons at the echo bot, which echoes each press."""
    return [
        Script(
            s.chat,
            "start",
            Expect("text", "start"),
            tuple(Step(step.press, Expect("text", step.press)) for step in s.steps),
        )
        for s in scripts
    ]


async def wait_reply(
    log: ChatLog, since: int, expect: Expect, stale: str | None, chat: int, within_s: float
) -> Reply:
    """The first reply to `chat` from index `since` on that meets `expect`."""
    seen = since
    try:
        async with asyncio.timeout(within_s):
            while True:
                for reply in log.replies[seen:]:
                    if expect.met_by(reply):
                        return reply
                    if stale is not None and reply.text == stale:
                        raise RunnerFailed(f"runner {chat}: answered as stale, waiting {expect}")
                seen = len(log.replies)
                await log.arrived.wait()
    except TimeoutError:
        recent = [(r.method, r.text, sorted(r.button_data)) for r in log.replies[-4:]]
        raise RunnerFailed(f"runner {chat}: no reply {expect} in {within_s}s; {recent}") from None


@dataclass
class Drive:
    """Shared by one side's runners: the start line and what they measured."""

    standin: ObservedStandIn
    runners: int
    stale: str | None
    opened: int = 0
    all_opened: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    last_reply_at: float = 0.0
    sent_replies: int = 0  # replies that were new messages (sendMessage), not edits


async def run_runner(drive: Drive, script: Script) -> None:
    standin = drive.standin
    log = standin.chat(script.chat)
    if script.opening_text is not None:
        standin.push_text(script.chat, script.opening_text)
    # From the chat's first reply: a reminder may have come before this task started. The
    # reminders come from the bot's agenda at start, so the wait is a start's, not a reply's.
    reply = await wait_reply(log, 0, script.opening, drive.stale, script.chat, START_TIMEOUT_S)
    drive.opened += 1
    if drive.opened == drive.runners:
        drive.all_opened.set()
    await drive.go.wait()
    for step in script.steps:
        assert reply.message_id is not None
        since = len(log.replies)
        pushed = time.monotonic()
        standin.press(script.chat, reply.message_id, step.press)
        reply = await wait_reply(log, since, step.expect, drive.stale, script.chat, REPLY_TIMEOUT_S)
        drive.latencies.append(reply.at - pushed)
        drive.sent_replies += reply.method == "sendMessage"
        drive.last_reply_at = max(drive.last_reply_at, reply.at)


# --- the bot processes --------------------------------------------------------------------


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU so far (fields 14 and 15 of /proc/<pid>/stat) of a process, or of one
    of its threads (/proc/<pid>/task/<tid>/stat)."""
    where = f"/proc/{pid}" if thread is None else f"/proc/{pid}/task/{thread}"
    stat = Path(f"{where}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _polls(calls: Sequence[RecordedCall]) -> int:
    return sum(1 for c in calls if c.method == "getUpdates")


@dataclass(frozen=True)
class Side:
    """How to start one bot process against a stand-in."""

    label: str
    command: Callable[[ObservedStandIn, Path], list[str]]
    env: Callable[[ObservedStandIn, Path], dict[str, str]]
    stale: str | None


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("WEBHOOK_URL", "METRICS_PORT", "PYTHONPATH"):
        env.pop(name, None)
    return env


def boneload_side(
    checkout: Path,
    template: Path,
    send_rate: float,
    stale: str,
    profile: Path | None,
    dispatch_interval: float | None = None,
) -> Side:
    def command(standin: ObservedStandIn, workdir: Path) -> list[str]:
        # A fresh copy of the enrolled database for every run.
        shutil.copyfile(template, workdir / "bench.db")
        profiled = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
        return [sys.executable, *profiled, "-m", "bot", "run"]

    def env(standin: ObservedStandIn, workdir: Path) -> dict[str, str]:
        # The bot's own default unless asked: its first tick that sends comes one interval
        # after start, and the runners wait for their reminders until then.
        interval = (
            {}
            if dispatch_interval is None
            else {"DISPATCH_INTERVAL_SECONDS": f"{dispatch_interval:g}"}
        )
        return {
            **_base_env(),
            **interval,
            "PYTHONPATH": str(checkout),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": standin.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
            "RULES_DIR": str(checkout / "rules"),
            "SEND_RATE_PER_SECOND": str(send_rate),
            "LOG_LEVEL": "WARNING",
        }

    return Side("boneload", command, env, stale)


def echo_side() -> Side:
    def command(standin: ObservedStandIn, workdir: Path) -> list[str]:
        return [sys.executable, str(ECHO_SCRIPT)]

    def env(standin: ObservedStandIn, workdir: Path) -> dict[str, str]:
        return {**_base_env(), "ECHO_TOKEN": TOKEN, "ECHO_BASE_URL": standin.base_url}

    return Side("echo", command, env, None)


@dataclass(frozen=True)
class RunResult:
    label: str
    updates: int
    span_s: float
    bot_cpu_s: float
    bot_loop_cpu_s: float  # of which the event loop's thread
    harness_cpu_s: float  # this process: the stand-in and the runners
    latencies: tuple[float, ...]
    agenda_sends: int  # sendMessage calls in the span that no runner waited for

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.span_s

    @property
    def cpu_ms_per_update(self) -> float:
        return self.bot_cpu_s * 1000 / self.updates

    def latency_ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies)
        # Nearest rank: the smallest latency with at least `quantile` of them at or below it.
        return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)] * 1000


async def run_side(side: Side, scripts: Sequence[Script], workdir: Path) -> RunResult:
    standin = ObservedStandIn()
    await standin.start()
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a local mkdir, before any timing)
    with (workdir / f"{side.label}.stderr").open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *side.command(standin, workdir),
            env=side.env(standin, workdir),
            cwd=workdir,  # no .env of any checkout is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    drive = Drive(standin, len(scripts), side.stale)
    runners: list[asyncio.Task[None]] = []
    try:
        await standin.wait_for(lambda calls: _polls(calls) > 0 or None, timeout=START_TIMEOUT_S)
        runners = [asyncio.create_task(run_runner(drive, script)) for script in scripts]
        opened = asyncio.create_task(drive.all_opened.wait())
        await asyncio.wait([opened, *runners], return_when=asyncio.FIRST_COMPLETED)
        if not opened.done():  # a runner failed before the start line
            opened.cancel()
            await asyncio.gather(*runners)
        # The event loop runs in the main thread (tid = pid); the rest is other threads,
        # aiosqlite's connection threads above all.
        cpu_before = cpu_seconds(proc.pid), cpu_seconds(proc.pid, proc.pid)
        harness_before = time.process_time()
        started = time.monotonic()
        drive.go.set()
        await asyncio.gather(*runners)
        cpu_after = cpu_seconds(proc.pid), cpu_seconds(proc.pid, proc.pid)
        harness_cpu_s = time.process_time() - harness_before
    except BaseException:
        for task in runners:
            task.cancel()
        tail = (workdir / f"{side.label}.stderr").read_text(errors="replace")[-2000:]
        print(f"--- {side.label} process output (tail) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await standin.stop()
    return RunResult(
        side.label,
        len(drive.latencies),
        drive.last_reply_at - started,
        cpu_after[0] - cpu_before[0],
        cpu_after[1] - cpu_before[1],
        harness_cpu_s,
        tuple(drive.latencies),
        sum(
            1
            for call in standin.calls_to("sendMessage")
            if started <= call.time <= drive.last_reply_at
        )
        - drive.sent_replies,
    )


# --- the plan, built and checked with the measured checkout's code -------------------------


async def plan_script(checkout: Path, *args: str) -> Any:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PLAN_SCRIPT),
        *args,
        env={**_base_env(), "PYTHONPATH": str(checkout)},
        cwd=checkout,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{PLAN_SCRIPT.name} {args[0]} failed:\n{err.decode()[-3000:]}")
    return json.loads(out)


@dataclass
class Setting:
    send_rate: float
    rounds: list[tuple[RunResult, RunResult]] = field(default_factory=list)  # (echo, boneload)


async def measure(
    checkout: Path,
    runners: int,
    rounds: int,
    rates: Sequence[float],
    workdir: Path,
    profile: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
    dispatch_interval: float | None = None,
    bulk: int = 0,
) -> list[Setting]:
    """Every round of every send-rate setting; raises if a runner's follow-up was not decided."""
    template = workdir / "template.db"
    plan = await plan_script(
        checkout, "build", str(template), str(runners), str(checkout / "rules"), str(bulk)
    )
    if plan["bot_package"] != str(checkout / "bot"):
        raise RuntimeError(f"enrolled with {plan['bot_package']}, not {checkout}'s bot")
    # What each runner presses, kept beside the runs (the test reads it).
    (workdir / "plan.json").write_text(json.dumps(plan))
    scripts = boneload_scripts(plan)
    echoed = echo_scripts(scripts)
    settings = []
    for rate in rates:
        setting = Setting(rate)
        for n in range(rounds):
            run_dir = round_dir(workdir, rate, n)
            echo = await run_side(echo_side(), echoed, run_dir)
            side = boneload_side(checkout, template, rate, plan["stale"], None, dispatch_interval)
            full = await run_side(side, scripts, run_dir)
            await check_decided(checkout, run_dir / "bench.db", runners)
            setting.rounds.append((echo, full))
            progress(
                f"  rate {rate:g}/s round {n + 1}: echo {echo.updates_per_s:.0f}/s "
                f"p99 {echo.latency_ms(0.99):.0f} ms, boneload {full.updates_per_s:.0f}/s "
                f"p99 {full.latency_ms(0.99):.0f} ms"
            )
        if profile is not None:
            # One more run under cProfile, not counted: the profiler slows the bot down.
            run_dir = workdir / f"rate{rate:g}-profiled"
            prof = profile / f"boneload-rate{rate:g}.prof"
            side = boneload_side(checkout, template, rate, plan["stale"], prof, dispatch_interval)
            await run_side(side, scripts, run_dir)
            await check_decided(checkout, run_dir / "bench.db", runners)
        settings.append(setting)
    return settings


def round_dir(workdir: Path, send_rate: float, n: int) -> Path:
    """Where round `n` of a send-rate setting keeps its database and the bots' output."""
    return workdir / f"rate{send_rate:g}-round{n}"


async def check_decided(checkout: Path, db_file: Path, runners: int) -> None:
    """Every runner's session was reported and its follow-up decided, in the database."""
    decided = await plan_script(checkout, "verify", str(db_file))
    if decided["SessionReported"] != runners or decided["FollowupAnswered"] != runners:
        raise RunnerFailed(f"{runners} runners, but the database decided {decided}")


# --- the report ---------------------------------------------------------------------------


def _min_median(values: Sequence[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


METRICS: list[tuple[str, Callable[[RunResult], float], str]] = [
    ("updates/s", lambda r: r.updates_per_s, "{:.0f}"),
    ("bot CPU ms/update", lambda r: r.cpu_ms_per_update, "{:.2f}"),
    (
        "  off the loop thread",
        lambda r: (r.bot_cpu_s - r.bot_loop_cpu_s) * 1000 / r.updates,
        "{:.2f}",
    ),
    # Near 100 % the bot is bound by its own CPU (PTB handles one update at a time).
    ("bot CPU % of a core", lambda r: r.bot_cpu_s * 100 / r.span_s, "{:.0f}"),
    # The agenda's own messages (habit prompts, --bulk notices) sent while the runners pressed.
    ("agenda sends in span", lambda r: r.agenda_sends, "{:.0f}"),
    # Near 100 % the stand-in and the runners are what limits, not the bot.
    ("harness CPU %", lambda r: r.harness_cpu_s * 100 / r.span_s, "{:.0f}"),
    ("reply p50 ms", lambda r: r.latency_ms(0.50), "{:.1f}"),
    ("reply p99 ms", lambda r: r.latency_ms(0.99), "{:.1f}"),
]


def report(setting: Setting, runners: int, bulk: int) -> bool:
    """Print one setting's table; True when both targets are met (on the medians)."""
    echo_runs = [echo for echo, _ in setting.rounds]
    full_runs = [full for _, full in setting.rounds]
    rate = "lifted" if setting.send_rate >= LIFTED_RATE else f"{setting.send_rate:g}/s"
    updates = full_runs[0].updates
    print(
        f"\nSEND_RATE_PER_SECOND {rate}: {runners} runners, {updates} updates a side, "
        f"{len(setting.rounds)} round(s), {bulk} bulk notice(s) a runner; min / median"
    )
    print(f"{'':20} {'echo':>17} {'boneload':>17} {'ratio':>9}  target")
    medians: dict[str, float] = {}
    for name, figure, fmt in METRICS:
        echo_min, echo_med = _min_median([figure(r) for r in echo_runs])
        full_min, full_med = _min_median([figure(r) for r in full_runs])
        ratio = full_med / echo_med if echo_med else math.inf
        medians[name] = ratio
        target = ""
        if name == "updates/s":
            ok = ratio >= TARGET_THROUGHPUT_RATIO
            target = f">= {TARGET_THROUGHPUT_RATIO}x  {'met' if ok else 'MISSED'}"
        elif name == "reply p99 ms":
            ok = ratio <= TARGET_P99_RATIO
            target = f"<= {TARGET_P99_RATIO:g}x  {'met' if ok else 'MISSED'}"
        echo_cell = f"{fmt.format(echo_min)} / {fmt.format(echo_med)}"
        full_cell = f"{fmt.format(full_min)} / {fmt.format(full_med)}"
        shown = f"{ratio:>8.3f}x" if echo_med else f"{'':>9}"  # nothing to compare with
        print(f"{name:20} {echo_cell:>17} {full_cell:>17} {shown}  {target}")
    return (
        medians["updates/s"] >= TARGET_THROUGHPUT_RATIO
        and medians["reply p99 ms"] <= TARGET_P99_RATIO
    )


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"\nboneload CPU by function ({path.name}, top {top} by own time):")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runners", type=int, default=100)
    ap.add_argument(
        "--rounds", type=int, default=1, help="rounds per setting (figures: min / median)"
    )
    ap.add_argument(
        "--checkout", type=Path, default=ROOT, help="the checkout whose boneload is measured"
    )
    ap.add_argument(
        "--rate",
        type=float,
        action="append",
        help=f"a SEND_RATE_PER_SECOND to run (default: {LIFTED_RATE:g}, then {DEFAULT_RATE:g})",
    )
    ap.add_argument(
        "--profile", type=Path, help="a directory: one more boneload run a setting, in cProfile"
    )
    ap.add_argument(
        "--dispatch-interval",
        type=float,
        help="DISPATCH_INTERVAL_SECONDS of the bot (default: the bot's own)",
    )
    ap.add_argument(
        "--bulk",
        type=int,
        default=0,
        help="agenda notices per runner due as the runners start (bulk through the budget)",
    )
    args = ap.parse_args()
    checkout = args.checkout.resolve()
    rates = args.rate or [LIFTED_RATE, DEFAULT_RATE]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"boneload from {checkout}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="boneload-e2e-") as tmp:
        settings = asyncio.run(
            measure(
                checkout,
                args.runners,
                args.rounds,
                rates,
                Path(tmp),
                args.profile,
                progress=lambda line: print(line, flush=True),
                dispatch_interval=args.dispatch_interval,
                bulk=args.bulk,
            )
        )
    met = [report(setting, args.runners, args.bulk) for setting in settings]
    if args.profile is not None:
        for setting in settings:
            print_profile(args.profile / f"boneload-rate{setting.send_rate:g}.prof")
    sys.exit(0 if all(met) else 1)


if __name__ == "__main__":
    main()
