"""Settings: defaults, .env loading and precedence, and one clear, secret-free line per problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings

TOKEN = "123456789:AAE_secretSECRETsecret-0123456789abcd"
DB_PASSWORD = "s3cretDbPassw0rd"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the developer's shell or a .env in the repository."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problem_lines(env_file: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file)
    return str(caught.value).splitlines()


def test_defaults() -> None:
    settings = load_settings(None)
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite+aiosqlite:///boneload.db"
    assert settings.rules_dir == Path("rules")
    assert settings.webhook_url is None
    assert settings.webhook_secret is None
    assert settings.webhook_listen == "0.0.0.0"
    assert settings.webhook_port == 8443
    assert settings.send_rate_per_second == 25
    assert settings.send_in_flight is None  # the dispatcher derives it from the rate
    assert settings.log_level == "INFO"
    assert settings.log_format == "json"
    assert settings.dispatch_interval_seconds == 5
    assert settings.default_timezone == "UTC"
    assert settings.default_zone.key == "UTC"
    assert settings.instance_name.endswith(f"-{os.getpid()}")
    assert not settings.webhook_enabled


def test_missing_env_file_is_fine() -> None:
    assert load_settings("does-not-exist.env").webhook_port == 8443


def test_reads_dot_env_in_working_directory(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDEFAULT_TIMEZONE=Europe/Berlin\nWEBHOOK_PORT=8080\n"
        "SOMETHING_ELSE=ignored\n"
    )
    settings = load_settings()
    assert settings.require_token() == TOKEN
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.webhook_port == 8080


def test_reads_named_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "conf" / "boneload.env"
    env_file.parent.mkdir()
    env_file.write_text('LOG_FORMAT=text\nLOG_LEVEL=debug\nRULES_DIR="/srv/rules"\n')
    settings = load_settings(str(env_file))
    assert settings.log_format == "text"
    assert settings.log_level == "DEBUG"
    assert settings.rules_dir == Path("/srv/rules")


def test_environment_overrides_env_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text("SEND_RATE_PER_SECOND=10\nDISPATCH_INTERVAL_SECONDS=3\n")
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "12.5")
    settings = load_settings()
    assert settings.send_rate_per_second == 12.5
    assert settings.dispatch_interval_seconds == 3


def test_env_file_none_ignores_dot_env(clean_env: Path) -> None:
    (clean_env / ".env").write_text("WEBHOOK_PORT=8080\n")
    assert load_settings(None).webhook_port == 8443


def test_empty_value_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "")
    settings = load_settings(None)
    assert settings.telegram_bot_token is None
    assert settings.default_timezone == "UTC"


def test_require_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^TELEGRAM_BOT_TOKEN: is not set"):
        load_settings(None).require_token()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f"  {TOKEN}\n")
    assert load_settings(None).require_token() == TOKEN


def test_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "webhook-secret_value")
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://boneload:{DB_PASSWORD}@db/boneload")
    settings = load_settings(None)
    for text in (repr(settings), str(settings), settings.database_url_for_display()):
        assert TOKEN not in text
        assert "webhook-secret_value" not in text
        assert DB_PASSWORD not in text
    assert settings.webhook_enabled
    assert sorted(settings.secret_values()) == sorted([TOKEN, "webhook-secret_value", DB_PASSWORD])
    assert settings.database_url_for_display() == "postgresql+asyncpg://boneload:***@db/boneload"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "not a url", "is not a valid SQLAlchemy URL"),
        ("DATABASE_URL", f"postgresql://boneload:{DB_PASSWORD}@db/boneload", "postgresql+asyncpg"),
        ("DATABASE_URL", "postgres://u:p@db/boneload", "postgresql+asyncpg"),
        ("DATABASE_URL", "postgresql+psycopg2://u@db/boneload", "postgresql+asyncpg"),
        ("DATABASE_URL", "sqlite:///boneload.db", "sqlite+aiosqlite"),
        ("DATABASE_URL", "mysql+aiomysql://u@db/boneload", "unsupported driver"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus_Mons", "not an IANA time zone"),
        ("DEFAULT_TIMEZONE", "../../etc/passwd", "not an IANA time zone"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "does not look like a bot token"),
        ("TELEGRAM_BOT_TOKEN", "12345:has spaces inside", "does not look like a bot token"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot", "http(s) URL"),
        ("WEBHOOK_URL", "bot.example.org/hook", "https URL"),
        ("WEBHOOK_SECRET", "has spaces!", "1-256 characters"),
        ("WEBHOOK_SECRET", "x" * 257, "1-256 characters"),
        ("WEBHOOK_PORT", "http", "whole number"),
        ("WEBHOOK_PORT", "70000", "65535"),
        ("SEND_RATE_PER_SECOND", "0", "greater than 0"),
        ("SEND_RATE_PER_SECOND", "fast", "number"),
        ("SEND_IN_FLIGHT", "0", "greater than or equal to 1"),
        ("SEND_IN_FLIGHT", "2.5", "whole number"),
        ("DISPATCH_INTERVAL_SECONDS", "0.5", "greater than or equal to 1"),
        ("DISPATCH_INTERVAL_SECONDS", "31", "less than or equal to 30"),
        ("LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_FORMAT", "xml", "'json' or 'text'"),
    ],
)
def test_each_problem_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    if variable != "TELEGRAM_BOT_TOKEN":
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv(variable, value)
    lines = problem_lines()
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"{variable}: "), line
    assert expected in line
    assert "Traceback" not in line
    assert TOKEN not in line
    assert DB_PASSWORD not in line
    if variable in ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET"):
        assert value not in line


def test_webhook_url_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    (line,) = problem_lines()
    assert line.startswith("WEBHOOK_SECRET: must be set when WEBHOOK_URL is set")
    assert TOKEN not in line


def test_postgres_hint_names_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/boneload")
    (line,) = problem_lines()
    assert "write postgresql+asyncpg://" in line


def test_several_problems_give_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "nope")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Nowhere/Land")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/boneload")
    lines = problem_lines()
    assert sorted(line.split(":", 1)[0] for line in lines) == [
        "DATABASE_URL",
        "DEFAULT_TIMEZONE",
        "TELEGRAM_BOT_TOKEN",
    ]


def test_error_from_env_file_hides_token_and_cause(clean_env: Path) -> None:
    bad_token = "9999999999:" + "x" * 20 + "!"
    (clean_env / ".env").write_text(f"TELEGRAM_BOT_TOKEN={bad_token}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    error = caught.value
    assert bad_token not in str(error)
    assert bad_token not in repr(error)
    # A chained ValidationError would print the raw input in a traceback.
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert error.problems == [str(error)]
