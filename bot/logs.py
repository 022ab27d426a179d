"""Logging for boneload: one stream of JSON lines (or plain text), with secrets scrubbed out.

The privacy rule, for every module of the bot: boneload handles health data, so a log line may
carry ids and kinds, never content. Log `runner_id`, `update_id`, `agenda_id`, `kind`, rule ids,
counts and durations; never log message texts, symptom answers, names, notes or whole Telegram
updates. Pass the ids as `extra` so they become fields rather than prose:

    log.info("agenda message sent", extra={"agenda_id": row.id, "kind": row.kind})

What this module enforces on top of that rule:
- `RedactingFilter`, installed on the root handler, replaces anything shaped like a bot token
  (python-telegram-bot and httpx log request URLs of the form `.../bot<TOKEN>/sendMessage`)
  and any registered literal secret with `<token>`, in the message, its arguments, `extra` fields,
  tracebacks and stack dumps. The formatters run the same pattern over their output again.
- Library loggers that would write request URLs or update contents are held back whatever
  LOG_LEVEL says: httpx/httpcore and apscheduler (one line per ticker run) at WARNING, and
  `telegram` at INFO, because its DEBUG lines dump whole updates and API call parameters, i.e.
  the runners' messages; `sqlalchemy`, `aiosqlite` and `asyncpg` at WARNING, because their
  DEBUG/INFO lines carry statement parameters and rows (names, answers, coach messages, invite
  codes). Engines are also made with `hide_parameters=True` (bot.store.db), so not even an
  error message quotes a parameter.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "TOKEN_PATTERN",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "configure_logging",
    "redact",
]

TOKEN_PATTERN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
REDACTED = "<token>"

# Literal secrets shorter than this are not scrubbed: replacing e.g. "abc" everywhere would mangle
# ordinary text while protecting nothing that a guess could not find anyway.
_MIN_LITERAL_SECRET = 8

# Minimum level per library logger, applied whatever LOG_LEVEL asks for (see module docstring).
_LIBRARY_FLOORS: Mapping[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "telegram": logging.INFO,
    # Parameter and row logging would write names, answers, coach messages and invite codes.
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "alembic": logging.INFO,
}

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_BLANK_RECORD = logging.LogRecord("", logging.INFO, "", 0, "", None, None)
_RECORD_ATTRS = frozenset(_BLANK_RECORD.__dict__) | {"message", "asctime", "taskName"}

# Marks the handler configure_logging installed, so calling it twice replaces rather than doubles.
_OWN_HANDLER_ATTR = "_boneload_handler"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with bot-token-shaped substrings and the given literal secrets replaced."""
    text = TOKEN_PATTERN.sub(REDACTED, text)
    for secret in secrets:
        if len(secret) >= _MIN_LITERAL_SECRET:
            text = text.replace(secret, REDACTED)
    return text


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller attached with `extra=`, in the order they were given."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS}


class RedactingFilter(logging.Filter):
    """Scrubs secrets out of a record before any formatter sees it; never drops a record.

    On a handler (not a logger) so it sees records from every logger that propagates to root.
    It rewrites the record in place: the message is rendered once and its arguments dropped,
    because an argument such as an `httpx.URL` only shows the token once it is formatted.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= _MIN_LITERAL_SECRET)

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _scrub(self, value: Any, depth: int = 0) -> Any:
        """`value` with every secret replaced: strings, and strings inside containers; any other
        object whose text shows a secret becomes that (redacted) text."""
        if isinstance(value, str):
            return self._redact(value)
        if value is None or isinstance(value, bool | int | float) or depth > 5:
            return value
        if isinstance(value, Mapping):
            return {self._scrub(k, depth + 1): self._scrub(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._scrub(v, depth + 1) for v in value]
        try:
            text = str(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"
        redacted = self._redact(text)
        return value if redacted == text else redacted

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string would make the handler print msg and args raw to stderr.
            message = f"{record.msg} <unformattable arguments>"
        record.msg = self._redact(message)
        record.args = None

        for key, value in extra_fields(record).items():
            setattr(record, key, self._scrub(value))

        if record.exc_info and not record.exc_text:
            # Formatters reuse a cached exc_text, so scrubbing it here covers every handler.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def _iso_utc(created: float) -> str:
    return (
        datetime.fromtimestamp(created, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": _iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            # An extra named like a core key must not overwrite it, nor be lost.
            payload[f"extra_{key}" if key in payload else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        # default=str: an id may be a UUID or a datetime; a log call must never raise.
        return redact(json.dumps(payload, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """`<ts> <LEVEL> <logger>: <event> key=value ...` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        head = f"{_iso_utc(record.created)} {record.levelname:<8} {record.name}"
        line = f"{head}: {record.getMessage()}"
        extras = extra_fields(record)
        if extras:
            line += " " + " ".join(f"{key}={value!r}" for key, value in extras.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return redact(line)


def configure_logging(
    level: str,
    fmt: str,
    *,
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> logging.Handler:
    """Send all logging to one stream (stderr by default) as `fmt` ("json" or "text").

    `secrets` are literal values to scrub besides token-shaped text, e.g. the configured token
    (a stand-in's short fake token does not match the pattern) and the webhook secret.
    Calling it again replaces the handler it installed before; other handlers are left alone.
    Returns the installed handler.
    """
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level {level!r}")
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    elif fmt == "text":
        formatter = TextFormatter()
    else:
        raise ValueError(f"unknown log format {fmt!r}; expected 'json' or 'text'")

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter(secrets))
    setattr(handler, _OWN_HANDLER_ATTR, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OWN_HANDLER_ATTR, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)

    for name, floor in _LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, numeric_level))
    return handler
