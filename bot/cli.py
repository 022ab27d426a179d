"""The `boneload` command line: one place that wires every command to the code that does it.

Bad input never ends in a traceback: a command prints one clear message and exits 1.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bot.conversation.numbers import parse_int
from bot.program.engine import BadEvent, chosen_protocol, protocol_choices
from bot.program.loader import Rules, RulesError, load_rules, write_json_schemas
from bot.program.simulate import (
    PopulationResult,
    Script,
    SimProfile,
    simulate,
    simulate_population,
)

app = typer.Typer(
    help="boneload: back to running after a bone stress injury, with the coach in the loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Check and describe the protocol files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

# Wide enough for the simulate table when piped to a file or a pager.
out = Console(width=None if sys.stdout.isatty() else 140)
# An error is one line, whatever the width: not wrapped when not on a terminal (logs, CI).
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 10_000)

_QUIET_ACTS = ("plan", "record")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _load(rules_dir: Path) -> Rules:
    try:
        return load_rules(rules_dir)
    except RulesError as exc:
        for p in exc.problems:
            err.print(f"[red]✗[/] {p}", highlight=False)
        n = len(exc.problems)
        raise fail(f"{n} problem{'s' if n != 1 else ''} in {rules_dir}") from None


@rules_app.command("check")
def rules_check(
    directory: Annotated[Path, typer.Argument(help="Rules directory.")] = Path("rules"),
) -> None:
    """Validate every protocol file; errors name file, path and reason; exit 1 on error."""
    rules = _load(directory)
    sites = len(rules.sites.sites)
    out.print(
        f"[green]✓[/] {directory}: {sites} sites, {len(rules.questions.questions)} questions, "
        f"{len(rules.protocols)} protocols ({', '.join(sorted(rules.protocols))}), "
        f"{len(rules.all_rule_ids())} rule ids",
        highlight=False,
    )


@rules_app.command("schema")
def rules_schema(
    target: Annotated[Path, typer.Argument(help="Where to write *.schema.json.")] = Path("schemas"),
) -> None:
    """Write JSON Schemas of the rules files so editors can help the clinician."""
    for p in write_json_schemas(target):
        out.print(f"wrote {p}", highlight=False)


def _parse_days(spec: str) -> frozenset[int]:
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        if part in WEEKDAYS:
            days.add(WEEKDAYS.index(part))
        elif (day := parse_int(part, lo=0, hi=6)) is not None:
            days.add(day)
        elif part:
            raise fail(f"--available: {part!r} is not a weekday (mon..sun or 0..6)")
    if not days:
        raise fail("--available: name at least one weekday")
    return frozenset(days)


def _parse_time(spec: str) -> time:
    try:
        hh, mm = spec.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise fail(f"--time: {spec!r} is not a time like 07:00") from None


def _read_script(path: Path) -> Script:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"--answers: cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise fail(f"--answers: {path} is not valid {path.suffix[1:].upper()}: {exc}") from None
    try:
        return Script.model_validate(data or {})
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        ]
        raise fail("--answers:\n" + "\n".join(lines)) from None


def _fmt_s(s: int) -> str:
    return f"{s // 60}:{s % 60:02d}"


def _session_text(s: dict[str, Any]) -> str:
    kind = s.get("kind", "rest")
    if kind == "rest":
        return "rest"
    status = s.get("status", "")
    mark = {"skipped": " (skipped)", "missed": " (missed)", "partial": " (partial)"}.get(status, "")
    if kind == "run":
        body = f"run {_fmt_s(s['run_s'])}"
        if s.get("walk_s") and s.get("walk_first"):
            body = f"walk {_fmt_s(s['walk_s'])} / run {_fmt_s(s['run_s'])} ×{s['repeats']}"
        elif s.get("walk_s"):
            body += f" / walk {_fmt_s(s['walk_s'])} ×{s['repeats']}"
        elif s.get("repeats", 1) > 1:
            body += f" ×{s['repeats']}"
        if s.get("warmup_walk_min"):
            body = f"walk {s['warmup_walk_min']} min + " + body
        if s.get("cooldown_walk_min"):
            body += f" + walk {s['cooldown_walk_min']} min"
        if s.get("deload"):
            body += " deload"
        return body + mark
    body = f"{kind.replace('_', '-')} {s.get('minutes', '')} min"
    if s.get("contacts"):
        body += f", {s['contacts']} contacts"
    if s.get("exercises"):
        body += f", {len(s['exercises'])} exercises"
    return body + mark


@app.command("simulate")
def simulate_cmd(
    site: Annotated[
        str | None,
        typer.Option(
            help="Injury site id (see rules/sites.yaml); one runner: posteromedial-tibia."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(help="Protocol id (rules/protocols): every runner follows it."),
    ] = None,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-05",
    days: Annotated[int, typer.Option(min=1, max=730, help="How many days to show.")] = 84,
    answers: Annotated[
        Path | None, typer.Option(help="YAML/JSON script of what the runner reports.")
    ] = None,
    rules_dir: Annotated[Path, typer.Option("--rules", help="Rules directory.")] = Path("rules"),
    as_json: Annotated[bool, typer.Option("--json", help="Emit a JSON list of days.")] = False,
    timezone: Annotated[str, typer.Option("--tz", help="IANA timezone.")] = "UTC",
    at: Annotated[str, typer.Option("--time", help="Preferred local time.")] = "07:00",
    available: Annotated[str, typer.Option(help="Weekdays, e.g. mon,wed,fri.")] = (
        "mon,tue,wed,thu,fri,sat,sun"
    ),
    population: Annotated[
        int, typer.Option(min=0, help="Instead: N random runners, share reaching 30 min.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed for --population.")] = 1,
    weeks: Annotated[
        int, typer.Option(min=1, max=104, help="Weeks a --population is followed for.")
    ] = 26,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            help="With --population: the same runners under two rules directories, side by side.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, help="Processes for --population (default: one per CPU)."),
    ] = None,
    overlay: Annotated[
        Path | None,
        typer.Option(help="YAML file of a coach's tailoring to preview (see `boneload tailor`)."),
    ] = None,
) -> None:
    """Print a runner's program day by day for a profile and scripted answers."""
    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        raise fail(f"--start: {start!r} is not a date like 2026-01-05") from None
    if compare is not None and not population:
        raise fail("--compare needs --population N (the runners to compare the rules on)")
    if population:
        run = PopulationRun(population, start_day, seed, weeks, site, protocol)
        workers = jobs or os.cpu_count() or 1
        if compare is not None:
            _compare(run, _load(compare[0]), _load(compare[1]), compare, as_json, workers)
        else:
            _population(run, _load(rules_dir), as_json, workers)
        return
    rules = _load(rules_dir)
    site = site or "posteromedial-tibia"
    _check_choice(rules, site, protocol)
    try:
        from bot.program.calendar import zone

        zone(timezone)
    except Exception:
        raise fail(f"--tz: {timezone!r} is not an IANA timezone (e.g. Europe/Berlin)") from None
    script = _read_script(answers) if answers else Script()
    tailored = _read_overlay(overlay, rules, chosen_protocol(rules, rules.site(site), protocol))
    profile = SimProfile(
        site_id=site,
        start=start_day,
        days=days,
        timezone=timezone,
        preferred_time=_parse_time(at),
        available_days=_parse_days(available),
        protocol_id=protocol,
        overlay=tailored,
    )
    try:
        rows = simulate(rules, profile, script)
    except BadEvent as exc:  # e.g. a scripted protocol switch the site does not allow
        raise fail(f"--answers: {exc}") from None
    if as_json:
        json.dump([r.as_dict() for r in rows], sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return
    followed = chosen_protocol(rules, rules.site(site), protocol)
    table = Table(title=f"{rules.site(site).name}: {followed.name}")
    for col in ("date", "phase", "level", "session", "answers", "decisions (rule)"):
        table.add_column(col, overflow="fold")
    for r in rows:
        ans = ", ".join(f"{k}={v}" for k, v in r.answers.items() if v not in (0, False))
        dec = "; ".join(
            f"{d['action']} ({d['rule']})" for d in r.decisions if d["action"] not in _QUIET_ACTS
        )
        table.add_row(
            f"{r.day:%a %Y-%m-%d}",
            r.phase + ("" if r.status in ("", "active") else f" [{r.status}]"),
            r.level or "",
            _session_text(r.session),
            ans,
            dec,
        )
    out.print(table)


def _read_overlay(path: Path | None, rules: Rules, protocol: Any) -> Any:
    """The overlay file of `simulate --overlay`, read and checked against tailoring.yaml."""
    if path is None:
        return None
    from bot.program.engine import check_overlay
    from bot.program.overlay_spec import overlay_from_mapping

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"--overlay {path}: {_first_line(exc)}") from None
    if not isinstance(data, dict):
        raise fail(f"--overlay {path}: must be a mapping of fields to values")
    try:
        tailored = overlay_from_mapping(data)
    except ValueError as exc:
        raise fail(f"--overlay {path}: {exc}") from None
    problems = check_overlay(tailored, protocol, rules)
    if problems:
        raise fail(f"--overlay {path}: " + "; ".join(problems))
    return tailored


@dataclass(frozen=True)
class PopulationRun:
    """What `simulate --population` was asked for."""

    runners: int
    start: date
    seed: int
    weeks: int
    site: str | None
    protocol: str | None

    @property
    def milestones(self) -> list[int]:
        """The weeks the "reached 30 min" table shows: every 4th and the last."""
        return sorted({*range(4, self.weeks + 1, 4), self.weeks})


def _check_choice(rules: Rules, site: str | None, protocol: str | None) -> None:
    """Unknown ids, or a protocol not written for the site's risk, end with a clear message."""
    if site is not None and site not in rules.site_by_id:
        known = ", ".join(sorted(rules.site_by_id))
        raise fail(f"unknown site {site!r}; known sites: {known}")
    if protocol is not None and protocol not in rules.protocols:
        raise fail(f"unknown protocol {protocol!r}; known protocols: {', '.join(rules.protocols)}")
    if site is not None and protocol is not None:
        try:
            chosen_protocol(rules, rules.site(site), protocol)  # the engine's own rule
        except BadEvent as exc:
            raise fail(str(exc)) from None


def _population_sites(rules: Rules, run: PopulationRun) -> list[str]:
    """The sites the runners are drawn from: the one asked for, or every site the protocol
    asked for may be followed at, or every site."""
    _check_choice(rules, run.site, run.protocol)
    if run.site is not None:
        return [run.site]
    sites = rules.sites.sites
    if run.protocol is not None:
        return [s.id for s in sites if run.protocol in {p.id for p in protocol_choices(rules, s)}]
    return [s.id for s in sites]


def _run_population(
    run: PopulationRun, rules: Rules, jobs: int, bar: Progress, label: str
) -> PopulationResult:
    task = bar.add_task(label, total=run.runners)
    return simulate_population(
        rules,
        run.runners,
        start=run.start,
        seed=run.seed,
        weeks=tuple(run.milestones),
        days=run.weeks * 7,
        sites=_population_sites(rules, run),
        protocol_id=run.protocol,
        jobs=jobs,
        progress=lambda i: bar.update(task, completed=i, refresh=True),
    )


def _progress(as_json: bool) -> Progress:
    # Redrawn when a share of the runners is done, not by a thread of its own: with no other
    # thread running, the worker processes can be forked (see simulate_population). Shown on a
    # terminal only: never in --json output or a log.
    hidden = as_json or not err.is_terminal
    return Progress(console=err, transient=True, disable=hidden, auto_refresh=False)


def _population_json(res: PopulationResult) -> dict[str, Any]:
    return {
        "runners": res.runners,
        "reached_30_min_by_week": res.reached,
        "red_flags": res.red_flags,
        "escalations": res.escalations,
        "summary": res.summary(),
    }


def _who(run: PopulationRun) -> str:
    who = f"site {run.site}" if run.site else "random sites"
    if run.protocol:
        who += f", protocol {run.protocol}"
    return f"{run.runners} runners, {who}, {run.weeks} weeks (seed {run.seed})"


def _population(run: PopulationRun, rules: Rules, as_json: bool, jobs: int) -> None:
    began = perf_counter()
    with _progress(as_json) as bar:
        res = _run_population(run, rules, jobs, bar, "simulating runners")
    took = perf_counter() - began
    if as_json:
        json.dump(_population_json(res), sys.stdout)
        sys.stdout.write("\n")
        return
    table = Table(title=_who(run))
    table.add_column("by week")
    table.add_column("reached 30 min continuous")
    table.add_column("share")
    for w in res.weeks:
        table.add_row(str(w), str(res.reached[w]), f"{res.reached[w] / run.runners:.0%}")
    out.print(table)
    out.print(_summary_table(run, [("", res.summary())]))
    out.print(f"red flags: {res.red_flags}, escalations: {res.escalations}", highlight=False)
    out.print(_speed(run, took), highlight=False)


def _speed(run: PopulationRun, seconds: float) -> str:
    runner_days = run.runners * run.weeks * 7
    return f"{runner_days:,} runner-days in {seconds:.1f} s ({runner_days / seconds:,.0f}/s)"


def _days(spread: dict[str, Any]) -> str:
    if spread["median"] is None:
        return f"nobody ({spread['share']:.0%})"
    return (
        f"{spread['median']} d ({spread['p10']}-{spread['p90']}), {spread['share']:.0%} of runners"
    )


_SUMMARY_ROWS = (
    ("first run/walk: median days (p10-p90), share", "first_run_walk_days"),
    ("30 min continuous: median days (p10-p90), share", "continuous_30_min_days"),
    ("red flags per 100 runners", "red_flags_per_100"),
    ("escalations per 100 runners", "escalations_per_100"),
    ("sessions per runner", "sessions_per_runner"),
)


def _cell(summary: dict[str, Any], key: str) -> str:
    value = summary[key]
    return _days(value) if isinstance(value, dict) else f"{value:g}"


def _difference(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
    """B minus A: days for the milestones (median), a count for the rates."""
    first, second = a[key], b[key]
    if isinstance(first, dict):
        if first["median"] is None or second["median"] is None:
            return ""
        first, second = first["median"], second["median"]
        return f"{second - first:+d} d"
    return f"{second - first:+.1f}"


def _summary_table(run: PopulationRun, columns: list[tuple[str, dict[str, Any]]]) -> Table:
    table = Table(title="" if len(columns) == 1 else _who(run))
    table.add_column("")
    for name, _ in columns:
        table.add_column(name or "result")
    if len(columns) == 2:
        table.add_column("B - A")
    for label, key in _SUMMARY_ROWS:
        cells = [_cell(summary, key) for _, summary in columns]
        if len(columns) == 2:
            cells.append(_difference(columns[0][1], columns[1][1], key))
        table.add_row(label, *cells)
    return table


def _compare(
    run: PopulationRun,
    rules_a: Rules,
    rules_b: Rules,
    dirs: tuple[Path, Path],
    as_json: bool,
    jobs: int,
) -> None:
    """The same runners (same seed: sites and answer streams) under two rules directories."""
    began = perf_counter()
    with _progress(as_json) as bar:
        res_a = _run_population(run, rules_a, jobs, bar, f"A: {dirs[0]}")
        res_b = _run_population(run, rules_b, jobs, bar, f"B: {dirs[1]}")
    took = perf_counter() - began
    a, b = res_a.summary(), res_b.summary()
    if as_json:
        doc = {
            "a": {"rules": str(dirs[0]), **_population_json(res_a)},
            "b": {"rules": str(dirs[1]), **_population_json(res_b)},
            "difference": {key: _difference(a, b, key) for _, key in _SUMMARY_ROWS},
        }
        json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return
    out.print(_summary_table(run, [(f"A: {dirs[0]}", a), (f"B: {dirs[1]}", b)]))
    out.print(_speed(replace(run, runners=2 * run.runners), took), highlight=False)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"boneload {version('boneload')}")
        except PackageNotFoundError:  # run from a checkout without installing
            print("boneload (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version."),
    ] = False,
) -> None:
    """boneload: back to running after a bone stress injury, with the coach in the loop."""


def main() -> None:
    app()


# --- commands that need the database and the settings -------------------------------------------


def _settings() -> Any:
    from bot.settings import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    _check_sqlite_folder(settings)
    return settings


def _check_sqlite_folder(settings: Any) -> None:
    """Fail at once when a SQLite file's folder is missing: the driver would only say "unable
    to open database file", from a worker thread that outlives the event loop."""
    from sqlalchemy import make_url

    from bot.store.db import is_sqlite

    if not is_sqlite(settings.database_url):
        return
    path = make_url(settings.database_url).database or ""
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise fail(
            f"cannot open the SQLite database {path}: the folder {folder} does not exist; "
            "create it or fix DATABASE_URL"
        )


class _LazyRules:
    """The rules, loaded on first use: `coach list`, `export`... need none, so they work
    outside the checkout (no rules directory)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._rules: Rules | None = None

    def __getattr__(self, name: str) -> Any:
        if self._rules is None:
            self._rules = _load(self._directory)
        return getattr(self._rules, name)


def _db_deps(settings: Any, rules: Rules | None = None) -> Any:
    from datetime import UTC, datetime
    from typing import cast

    from bot.services.deps import Deps
    from bot.store.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    deps = Deps(
        rules=rules or cast(Rules, _LazyRules(settings.rules_dir)),
        sessionmaker=make_sessionmaker(engine),
        clock=lambda: datetime.now(UTC),
    )
    return engine, deps


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def database_problem(exc: BaseException, url_for_display: str = "") -> str | None:
    """One line for an exception that means the database cannot be used; None otherwise."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, ExceptionGroup):
        exc = exc.exceptions[0]
    where = f" ({url_for_display})" if url_for_display else ""
    text = _first_line(exc).lower()
    if isinstance(exc, SQLAlchemyError) and (
        "no such table" in text or ("relation" in text and "does not exist" in text)
    ):
        return f"the database{where} is not migrated: run `boneload migrate` first"
    if isinstance(exc, SQLAlchemyError | OSError | TimeoutError) or type(exc).__module__.startswith(
        "asyncpg"
    ):
        if "unable to open database file" in text:
            return (
                f"cannot open the SQLite database{where}: its folder does not exist or is not "
                "writable; check DATABASE_URL"
            )
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _first_line(exc)
        return f"database unreachable{where}: {reason}; check DATABASE_URL"
    return None


def _run_async(coro: Any, settings: Any = None) -> Any:
    import asyncio

    try:
        return asyncio.run(coro)
    except Exception as exc:
        shown = settings.database_url_for_display() if settings is not None else ""
        problem = database_problem(exc, shown)
        if problem is None:
            raise
        raise fail(problem) from None


@app.command("migrate")
def migrate_cmd(
    revision: Annotated[str, typer.Option(help="Target revision (head, base, or an id).")] = "head",
) -> None:
    """Apply database migrations (or move to --revision, downgrading if it is older)."""
    from bot.store.db import current_revision, downgrade, migrate

    s = _settings()

    async def go() -> str | None:
        if revision in ("head",):
            await migrate(s.database_url)
        elif revision == "base":
            await downgrade(s.database_url, "base")
        else:
            cur = await current_revision(s.database_url)
            if cur is not None and cur > revision:
                await downgrade(s.database_url, revision)
            else:
                await migrate(s.database_url, revision)
        return await current_revision(s.database_url)

    out.print(f"database at revision {_run_async(go(), s)}", highlight=False)


coach_app = typer.Typer(help="Register and list coaches.", no_args_is_help=True)
app.add_typer(coach_app, name="coach")


@coach_app.command("add")
def coach_add(
    telegram_user_id: Annotated[int, typer.Argument(help="The coach's Telegram user id.")],
    name: Annotated[str, typer.Option(help="Name shown to runners.")],
    tz: Annotated[str, typer.Option(help="IANA timezone for the weekly digest.")] = "UTC",
) -> None:
    """Register a coach (or re-activate one)."""
    from bot.program.calendar import zone
    from bot.services import coaches
    from bot.store.db import migrate

    try:
        zone(tz)
    except Exception:
        raise fail(f"--tz: {tz!r} is not an IANA timezone") from None
    if not name.strip():
        raise fail("--name must not be empty")
    s = _settings()

    async def go() -> int:
        await migrate(s.database_url)
        engine, deps = _db_deps(s)
        try:
            return int(await coaches.add_coach(deps, telegram_user_id, name.strip(), tz))
        finally:
            await engine.dispose()

    coach_id = _run_async(go(), s)
    out.print(f"coach #{coach_id} {name} (Telegram user {telegram_user_id}) registered")


@coach_app.command("list")
def coach_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Registered coaches with their number of runners."""
    from bot.services import coaches

    s = _settings()

    async def go() -> list[dict[str, Any]]:
        engine, deps = _db_deps(s)
        try:
            return await coaches.list_coaches(deps)
        finally:
            await engine.dispose()

    rows = _run_async(go(), s)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "telegram user", "name", "active", "runners")
    for r in rows:
        table.add_row(
            str(r["id"]), str(r["telegram_user_id"]), r["name"], str(r["active"]), str(r["runners"])
        )
    out.print(table)


@coach_app.command("remove")
def coach_remove(telegram_user_id: Annotated[int, typer.Argument()]) -> None:
    """Deactivate a coach; their runners keep their programs and lose the link."""
    from bot.services import coaches

    s = _settings()

    async def go() -> bool:
        engine, deps = _db_deps(s)
        try:
            return await coaches.remove_coach(deps, telegram_user_id)
        finally:
            await engine.dispose()

    if not _run_async(go(), s):
        raise fail(f"no coach with Telegram user id {telegram_user_id}")
    out.print("coach deactivated")


@app.command("export")
def export_cmd(
    runner: Annotated[int, typer.Argument(help="Runner id.")],
    fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
) -> None:
    """One runner's full record (JSON) or their sessions (CSV), to standard output."""
    from bot.services import runners

    if fmt not in ("json", "csv"):
        raise fail("--format must be json or csv")
    s = _settings()

    async def go() -> tuple[bytes, bytes] | None:
        engine, deps = _db_deps(s)
        try:
            if await runners.exists(deps, runner) is False:
                return None
            return await runners.export_files(deps, runner)
        finally:
            await engine.dispose()

    files = _run_async(go(), s)
    if files is None:
        raise fail(f"no runner #{runner}")
    sys.stdout.write((files[0] if fmt == "json" else files[1]).decode())


@app.command("agenda")
def agenda_cmd(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
) -> None:
    """Pending and failed scheduled messages: kind, runner, due time in UTC and local."""
    from bot.store import admin

    s = _settings()
    rows = [r.as_dict() for r in _run_async(admin.list_agenda(s.database_url, limit=limit), s)]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(
        "id", "status", "kind", "runner", "coach", "due (UTC)", "due (local)", "tries", "last error"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            r["kind"],
            str(r["runner_id"] or ""),
            str(r["coach_id"] or ""),
            r["due_utc"],
            r["due_local"],
            str(r["attempts"]),
            r["last_error"] or "",
        )
    out.print(table)
    out.print(f"{len(rows)} row(s)")
    _print_no_coach(_waiting(s))


@app.command("try")
def try_cmd(
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep (default: temporary).")
    ] = None,
    rules_dir: Annotated[Path, typer.Option("--rules", help="Rules directory.")] = Path("rules"),
    lang: Annotated[
        str, typer.Option("--lang", help="Your Telegram language code, e.g. de (default: en).")
    ] = "en",
) -> None:
    """The offline sandbox: the real bot against a local Bot API stand-in, in your terminal."""
    from bot import sandbox
    from bot.logs import configure_logging

    configure_logging("WARNING", "text")
    sandbox.main(_load(rules_dir), db, lang)


@app.command("run")
def run_cmd() -> None:
    """Apply migrations if needed, then run the bot (long polling, or webhook with WEBHOOK_URL)."""
    from bot.runtime import run

    s = _settings()
    try:
        token = s.require_token()
    except Exception as exc:
        raise fail(str(exc)) from None
    rules = _load(s.rules_dir)
    from telegram.error import TelegramError

    try:
        run(s, rules, token)
    except TelegramError as exc:
        raise fail(f"Telegram refused to start the bot: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        problem = database_problem(exc, s.database_url_for_display())
        if problem is None:
            raise
        raise fail(problem) from None


@app.command("doctor")
def doctor_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Health: database reachable and migrated, the agenda ticker running, agenda lag, pending
    and failed rows, last send. Exit 0 when healthy (the container HEALTHCHECK), 1 otherwise.

    Never creates anything: a missing SQLite file is reported, not made.
    """
    from sqlalchemy import make_url

    from bot.runtime import HealthLimits, health
    from bot.store.db import current_revision, is_sqlite

    s = _settings()
    missing: dict[str, Any] | None = None
    if is_sqlite(s.database_url):
        path = make_url(s.database_url).database or ""
        if path not in ("", ":memory:") and not Path(path).is_file():
            missing = {
                "ok": False,
                "database": f"error: no database file at {path}",
                "problems": ["no database yet: run `boneload migrate` (or `boneload run`)"],
            }

    async def go() -> dict[str, Any]:
        from bot.store.db import make_engine, make_sessionmaker

        if missing is not None:
            return missing
        try:
            revision = await current_revision(s.database_url)
        except Exception as exc:
            problem = database_problem(exc, s.database_url_for_display())
            if problem is None:
                raise
            return {"ok": False, "database": "error: unreachable", "problems": [problem]}
        if revision is None:
            return {
                "ok": False,
                "database": "error: not migrated",
                "problems": ["the database is empty: run `boneload migrate`"],
            }
        engine = make_engine(s.database_url)
        try:
            report = await health(make_sessionmaker(engine), HealthLimits.of(s))
        finally:
            await engine.dispose()
        report["revision"] = revision
        return report

    report = _run_async(go(), s)
    # Reachable and migrated: the clinical side is checked even when the ticker is not healthy.
    clinical = _clinical_report(s) if report.get("revision") else None
    if clinical is not None:
        report.update(clinical)
        report["ok"] = report["ok"] and not clinical["unacknowledged_stops"]
    if as_json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            if k not in ("problems", "unacknowledged_stops", "waiting_no_coach"):
                out.print(f"{k:20} {v}", highlight=False)
        if clinical is not None:
            _print_clinical(clinical)
        for problem in report.get("problems", []):
            err.print(f"[bold red]problem:[/] {problem}", highlight=False)
    if not report["ok"]:
        raise typer.Exit(1)


# --- runners waiting for a clinician (doctor, agenda) and the operator's own acts ---------------


def _remind_after_hours(settings: Any) -> int:
    """The rules' delay before an unacknowledged stop counts as lost. `doctor` must run where
    no rules directory is (a container's health check): then the rules' own default holds."""
    from bot.program.loader import RulesError, load_rules
    from bot.program.rules import RedFlagRule

    try:
        return load_rules(settings.rules_dir).symptoms.actions.red_flag.remind_coach_after_hours
    except RulesError:
        default = RedFlagRule.model_fields["remind_coach_after_hours"].default
        return int(default)


def _waiting(settings: Any) -> list[Any]:
    from datetime import UTC, datetime

    from bot.store import admin

    hours = _remind_after_hours(settings)
    return list(
        _run_async(
            admin.waiting_for_clinician(
                settings.database_url, now=datetime.now(UTC), remind_after_hours=hours
            )
        )
    )


def _clinical_report(settings: Any) -> dict[str, Any]:
    """Stops nobody acknowledged after their alert was re-sent (unhealthy: a red flag must not
    be lost), and runners who wait for a clinician with no coach to ask (ids only)."""
    rows = _waiting(settings)
    return {
        "unacknowledged_stops": [r.as_dict() for r in rows if r.overdue],
        "waiting_no_coach": [r.as_dict() for r in rows if not r.has_coach],
    }


def _print_clinical(report: dict[str, Any]) -> None:
    stops = report["unacknowledged_stops"]
    if stops:
        out.print(
            f"[bold red]{len(stops)} stop(s) unacknowledged:[/] the alert was re-sent and still "
            "nobody acknowledged (`boneload ack RUNNER --by NAME` once a clinician has seen it)",
            highlight=False,
            soft_wrap=True,
        )
        for r in stops:
            coach = "" if r["has_coach"] else ", no coach linked"
            out.print(
                f"  runner #{r['runner_id']}: {r['waiting_for']} since {r['since']}{coach}",
                highlight=False,
                soft_wrap=True,
            )
    else:
        out.print(f"{'unacknowledged stops':20} none", highlight=False, soft_wrap=True)
    _print_no_coach(report["waiting_no_coach"])


def _print_no_coach(rows: list[Any]) -> None:
    waiting = [r if isinstance(r, dict) else r.as_dict() for r in rows]
    waiting = [r for r in waiting if not r["has_coach"]]
    if not waiting:
        out.print(f"{'waiting, no coach':20} none", highlight=False, soft_wrap=True)
        return
    out.print(
        f"{len(waiting)} runner(s) waiting for a clinician with no coach linked "
        "(send them a coach's invite, or `boneload clear`):",
        highlight=False,
        soft_wrap=True,
    )
    for r in waiting:
        what = "awaiting clearance" if r["waiting_for"] == "clearance" else r["waiting_for"]
        out.print(f"  runner #{r['runner_id']}: {what}", highlight=False, soft_wrap=True)


def _operator(runner: int, verb: Any, by: str, option: str | None) -> Any:
    from bot.services import coaches

    if not by.strip():
        raise fail("--by must name who decided (recorded as operator:NAME)")
    s = _settings()

    async def go() -> Any:
        engine, deps = _db_deps(s)
        try:
            return await coaches.operator_act(deps, runner, verb, by.strip(), option)
        finally:
            await engine.dispose()

    try:
        return _run_async(go())
    except coaches.OperatorRefused as exc:
        raise fail(str(exc)) from None


@app.command("clear")
def clear_cmd(
    runner: Annotated[int, typer.Argument(help="Runner id.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (a clinician's name).")],
    option: Annotated[
        str | None, typer.Option(help="Way back from a stop (rules' resume options).")
    ] = None,
) -> None:
    """Lift a red flag or an escalation along a resume option, or grant an awaited clearance."""
    from bot.program.events import CoachVerb

    res = _operator(runner, CoachVerb.CLEAR, by, option)
    decision = res.decision
    who = f"operator:{by.strip()}"
    rules = ", ".join(decision.rules)
    if res.before.status.stopped:
        from bot.texts import level_label

        resumed = next(a for a in decision.actions if a.act.value == "resume")
        to_level = resumed.detail.get("to_level")
        where = (
            f"at {level_label(_load(_settings().rules_dir), decision.state.protocol_id, to_level)}"
            if to_level
            else "in this phase"
        )
        out.print(
            f"runner #{runner}: {res.before.status.value} lifted along {resumed.rule}: resumes "
            f"{where} after {resumed.detail.get('rest_days', 0)} rest day(s); recorded as {who} "
            f"(rules: {rules})",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(
        f"runner #{runner}: clearance granted, now in phase {decision.state.phase_id}; "
        f"recorded as {who} (rules: {rules})",
        highlight=False,
        soft_wrap=True,
    )


@app.command("ack")
def ack_cmd(
    runner: Annotated[int, typer.Argument(help="Runner id.")],
    by: Annotated[str, typer.Option("--by", help="Who has seen the stop.")],
) -> None:
    """Acknowledge a red flag or an escalation: recorded, and the repeated alert is called off."""
    from bot.program.events import CoachVerb

    res = _operator(runner, CoachVerb.ACKNOWLEDGE, by, None)
    if res.decision is None:
        out.print(
            f"runner #{runner}: already acknowledged by {res.before.flag_ack}; nothing changed",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(
        f"runner #{runner}: {res.before.status.value} acknowledged, recorded as "
        f"operator:{by.strip()} (rules: {', '.join(res.decision.rules)})",
        highlight=False,
        soft_wrap=True,
    )


@app.command("protocol")
def protocol_cmd(
    runner: Annotated[int | None, typer.Argument(help="Runner id (to switch).")] = None,
    protocol: Annotated[str | None, typer.Argument(help="The protocol to switch to.")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who decided (a clinician's name).")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the protocols (for a site: those it allows).")
    ] = False,
    site: Annotated[str | None, typer.Option("--site", help="With --list: one site's.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Switch a runner's protocol as the operator (their history is kept, any stop stays), or
    list the protocols (`--list`, `--site S`: the ones a runner at site S may follow)."""
    if list_:
        if runner is not None or protocol is not None or by is not None:
            raise fail("--list takes no runner, protocol or --by")
        _list_protocols(_load(_settings().rules_dir), site, as_json)
        return
    if site is not None:
        raise fail("--site goes with --list")
    if runner is None or protocol is None:
        raise fail(
            "usage: boneload protocol RUNNER PROTOCOL --by NAME, or boneload protocol --list"
        )
    if by is None or not by.strip():
        raise fail("--by must name who decided (recorded as operator:NAME)")
    from bot.services import protocols as psvc

    s = _settings()
    rules = _load(s.rules_dir)
    try:
        psvc.check_protocol_id(rules, protocol)
    except psvc.ProtocolRefused as exc:
        raise fail(str(exc)) from None

    async def go() -> Any:
        engine, deps = _db_deps(s, rules)
        try:
            return await psvc.switch(deps, runner, protocol, by=by.strip())
        finally:
            await engine.dispose()

    try:
        decision = _run_async(go())
    except psvc.ProtocolRefused as exc:
        raise fail(str(exc)) from None
    state = decision.state
    switched = next((a for a in decision.actions if a.act.value == "switch_protocol"), None)
    if switched is None:
        out.print(
            f"runner #{runner} already follows {protocol}; nothing changed",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(
        f"runner #{runner}: {switched.detail['from_protocol']} -> {state.protocol_id}, now in "
        f"phase {state.phase_id}, level {switched.detail.get('level') or '-'} (status "
        f"{state.status.value}); recorded as operator:{by.strip()} (rules: "
        f"{', '.join(decision.rules)})",
        highlight=False,
        soft_wrap=True,
    )


def _list_protocols(rules: Rules, site_id: str | None, as_json: bool) -> None:
    """Every protocol, or the ones a site allows (its own / its risk class's marked default)."""
    if site_id is None:
        chosen = list(rules.protocols.values())
        default = None
    else:
        site = rules.site_by_id.get(site_id)
        if site is None:
            raise fail(f"unknown site {site_id!r}; known: {', '.join(sorted(rules.site_by_id))}")
        chosen = protocol_choices(rules, site)
        default = rules.protocol_for(site).id
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "for_risk": p.for_risk.value,
            "phases": [ph.kind.value for ph in p.phases],
            "default": p.id == default,
        }
        for p in sorted(chosen, key=lambda p: p.id)
    ]
    if as_json:
        out.print_json(data=rows)
        return
    for r in rows:
        mark = " (site default)" if r["default"] else ""
        out.print(
            f"{r['id']}: {r['name']} [risk {r['for_risk']}]{mark}", highlight=False, soft_wrap=True
        )


@app.command("tailor")
def tailor_cmd(
    runner: Annotated[int, typer.Argument(help="Runner id.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (recorded as operator:NAME).")] = "",
    start_level: Annotated[
        str | None, typer.Option(help="Level id of the first run phase to start running at.")
    ] = None,
    hold_sessions: Annotated[
        str | None, typer.Option(help="Symptom-free sessions each level is held for.")
    ] = None,
    hold_days: Annotated[str | None, typer.Option(help="Days each level is held for.")] = None,
    days_between: Annotated[
        str | None, typer.Option(help="Rest days between two runs (1 = every other day).")
    ] = None,
    weekdays: Annotated[str | None, typer.Option(help="Training weekdays, mon,wed,fri.")] = None,
    pain_threshold: Annotated[
        str | None, typer.Option(help="Highest pain during (0-10) still counted mild.")
    ] = None,
    maintenance: Annotated[
        str | None, typer.Option(help="Maintenance runs' volume factor, e.g. 0.8.")
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Print the overlay and its versions; change nothing.")
    ] = False,
) -> None:
    """Tailor one runner's program within rules/tailoring.yaml (the coach's overlay).

    Give a field the value `default` to put it back to the rules. Each change is a new version."""
    from bot.program.codec import overlay_to_dict
    from bot.program.overlay_spec import overlay_changes
    from bot.services import tailoring

    given = {
        "start_level": start_level,
        "hold_sessions": hold_sessions,
        "hold_days": hold_days,
        "days_between": days_between,
        "weekdays": weekdays,
        "pain_threshold": pain_threshold,
        "maintenance": maintenance,
    }
    try:
        changes = overlay_changes({k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise fail(str(exc)) from None
    s = _settings()

    async def show_it() -> tuple[Any, list[Any]]:
        engine, deps = _db_deps(s)
        try:
            return await tailoring.current(deps, runner), await tailoring.history(deps, runner)
        finally:
            await engine.dispose()

    if show or not changes:
        if not show:
            raise fail("name at least one field to tailor (see --help), or --show")
        state, versions = _run_async(show_it(), s)
        if state is None:
            raise fail(f"no runner #{runner} with a program")
        now = overlay_to_dict(state.overlay) if state.overlay else None
        json.dump(
            {
                "runner": runner,
                "overlay": now,
                "versions": [
                    {"version": v.version, "by": v.by, "at": v.at.isoformat(), "overlay": v.overlay}
                    for v in versions
                ],
            },
            sys.stdout,
            indent=1,
        )
        sys.stdout.write("\n")
        return
    if not by.strip():
        raise fail("--by must name who decided (recorded as operator:NAME)")
    who = f"operator:{by.strip()}"

    async def go() -> Any:
        engine, deps = _db_deps(s)
        try:
            return await tailoring.tailor(deps, runner, changes, coach_id=0, by=who)
        finally:
            await engine.dispose()

    try:
        done = _run_async(go(), s)
    except tailoring.TailorRefused as exc:
        raise fail(f"runner #{runner}: {exc}") from None
    ov = done.overlay
    fields = ", ".join(
        f"{k}={v}" for k, v in overlay_to_dict(ov).items() if k not in ("by", "version")
    )
    out.print(
        f"runner #{runner}: tailored (version {ov.version}): {fields or 'the rules as they are'}; "
        f"recorded as {who} (rules: {', '.join(done.decision.rules)})",
        highlight=False,
        soft_wrap=True,
    )
