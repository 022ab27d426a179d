"""Logging: JSON and text output, extra fields, and that tokens never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFilter, configure_logging, redact

TOKEN = "123456789:AAE_secretSECRETsecret-0123456789abcd"
TOKEN_URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes global state; put the root and library loggers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "telegram", "apscheduler")
    }
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, lib_level in libraries.items():
        logging.getLogger(name).setLevel(lib_level)


def configured(fmt: str, level: str = "DEBUG", **kwargs: object) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level, fmt, stream=stream, **kwargs)  # type: ignore[arg-type]
    return stream


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_redact_pattern() -> None:
    assert redact(TOKEN_URL) == "https://api.telegram.org/bot<token>/sendMessage"
    # Too short to be a real token: ordinary "12:30" style text survives.
    assert redact("run at 12:30, id 42:abc") == "run at 12:30, id 42:abc"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_token_in_message_and_args_is_redacted(fmt: str) -> None:
    stream = configured(fmt)
    log = logging.getLogger("httpx")
    log.warning('HTTP Request: POST %s "HTTP/1.1 200 OK"', TOKEN_URL)
    logging.getLogger("bot.test").error(f"failed {TOKEN_URL}", extra={"url": TOKEN_URL})
    output = stream.getvalue()
    assert TOKEN not in output
    assert "bot<token>/sendMessage" in output
    assert output.count("<token>") == 3


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_token_in_traceback_is_redacted(fmt: str) -> None:
    stream = configured(fmt)
    try:
        raise RuntimeError(f"connect failed: {TOKEN_URL}")
    except RuntimeError:
        logging.getLogger("bot.test").exception("send failed", extra={"agenda_id": 7})
    output = stream.getvalue()
    assert "RuntimeError" in output
    assert TOKEN not in output


def test_token_in_non_string_extra_is_redacted() -> None:
    stream = configured("json")
    logging.getLogger("bot.test").info("event", extra={"detail": {"url": TOKEN_URL}})
    assert TOKEN not in stream.getvalue()


def test_literal_secrets_are_redacted() -> None:
    # A local stand-in's fake token is too short for the pattern; registering it still hides it.
    stream = configured("text", secrets=["123:fake-token", "webhook-secret-xyz", "tiny"])
    logging.getLogger("bot.test").info("GET /bot123:fake-token/getMe secret webhook-secret-xyz")
    logging.getLogger("bot.test").info("a tiny word")
    output = stream.getvalue()
    assert "123:fake-token" not in output
    assert "webhook-secret-xyz" not in output
    assert "a tiny word" in output  # secrets under 8 characters are not scrubbed


def test_json_lines_parse_and_carry_extra_fields() -> None:
    stream = configured("json", level="INFO")
    log = logging.getLogger("bot.agenda")
    log.info(
        "agenda message sent",
        extra={"runner_id": 42, "update_id": 1001, "agenda_id": 7, "kind": "followup"},
    )
    log.debug("not shown at INFO")
    log.warning("retrying in %s s", 3, extra={"ts": "caller's own ts"})
    first, second = json_lines(stream)
    assert first["event"] == "agenda message sent"
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.agenda"
    assert isinstance(first["ts"], str) and first["ts"].endswith("Z")
    assert (first["runner_id"], first["update_id"], first["agenda_id"], first["kind"]) == (
        42,
        1001,
        7,
        "followup",
    )
    assert second["event"] == "retrying in 3 s"
    assert second["extra_ts"] == "caller's own ts"
    assert second["ts"] != "caller's own ts"


def test_text_format_shows_extras() -> None:
    stream = configured("text", level="INFO")
    logging.getLogger("bot.agenda").info("sent", extra={"runner_id": 42, "kind": "followup"})
    line = stream.getvalue().strip()
    assert " INFO " in line
    assert "bot.agenda: sent" in line
    assert "runner_id=42" in line
    assert "kind='followup'" in line


def test_library_loggers_are_held_back() -> None:
    stream = configured("json", level="DEBUG")
    logging.getLogger("httpx").info("HTTP Request: POST %s", TOKEN_URL)
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")
    # PTB's DEBUG lines dump whole updates, i.e. what runners wrote.
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", "{'text': 'x'}")
    logging.getLogger("telegram.ext.Application").info("Application started")
    events = [line["event"] for line in json_lines(stream)]
    assert events == ["Application started"]
    assert logging.getLogger("httpx").level == logging.WARNING


def test_configure_twice_replaces_own_handler() -> None:
    configured("json")
    stream = configured("text")
    root = logging.getLogger()
    assert (
        sum(1 for h in root.handlers if any(isinstance(f, RedactingFilter) for f in h.filters)) == 1
    )
    logging.getLogger("bot.test").warning("once")
    assert stream.getvalue().count("once") == 1


def test_bad_format_string_does_not_leak_or_raise() -> None:
    # Checked on the filter alone: pytest's own capture handler sits before ours on the root.
    record = logging.LogRecord(
        "bot.test", logging.WARNING, __file__, 1, "oops %s %s", (TOKEN,), None
    )
    assert RedactingFilter().filter(record)
    assert record.args is None
    assert TOKEN not in record.getMessage()
    assert "unformattable" in record.getMessage()


def test_rejects_unknown_level_and_format() -> None:
    with pytest.raises(ValueError, match="level"):
        configure_logging("LOUD", "json")
    with pytest.raises(ValueError, match="format"):
        configure_logging("INFO", "xml")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_literal_secrets_in_extra_fields_are_redacted(fmt: str) -> None:
    # A stand-in's short token and the webhook secret match no pattern: only the literal list
    # finds them, and they must be found in every kind of extra field, not only plain strings.
    secrets = ["123:fake-token", "webhook-secret-xyz"]
    stream = configured(fmt, secrets=secrets)

    class Holder:
        def __str__(self) -> str:
            return "url=https://x/bot123:fake-token/getMe"

    logging.getLogger("bot.test").info(
        "event",
        extra={
            "url": "https://x/bot123:fake-token/getMe",
            "detail": {"secret": "webhook-secret-xyz", "nested": ["123:fake-token"]},
            "pair": ("webhook-secret-xyz", 1),
            "obj": Holder(),
            "count": 3,
        },
    )
    output = stream.getvalue()
    for secret in secrets:
        assert secret not in output, output
    assert output.count("<token>") >= 5
    assert "3" in output
