"""Runtime configuration: every knob boneload reads from the environment, validated once at start.

Values come from the process environment and, below it, an optional `.env` file (see
`.env.example` at the repository root for the documented list). An empty value counts as unset,
so a copied `.env.example` with blank lines behaves like the defaults.

`load_settings()` is the only entry point the rest of the code should use: it turns pydantic's
validation report into a `ConfigError` whose text is one line per problem, naming the variable,
what is wrong and how to fix it, so `boneload run` can print it and exit without a traceback.

Secrets never leave this module in clear by accident: the bot token and the webhook secret are
`SecretStr` (masked in repr and str), the database URL (which may carry a password) is kept out of
the repr, and no error message ever echoes a secret's value.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["ConfigError", "Settings", "bot_id_of", "load_settings"]

# The async drivers the store is built and tested against; anything else would fail much later,
# deep inside SQLAlchemy, with a far less helpful message.
SUPPORTED_DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")

# What @BotFather hands out is `<bot id>:<secret>`; only the shape is checked, so a local Bot API
# stand-in may use a short fake token.
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
# Telegram's own rule for `secret_token` in setWebhook.
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_RESERVED_PATHS = ("/healthz", "/metrics")

_TOKEN_HELP = "copy it exactly as @BotFather gave it, e.g. 123456789:AAE... (no quotes or spaces)"


class ConfigError(Exception):
    """The configuration cannot be used; `str()` is the human-readable report, one line each."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def problems(self) -> list[str]:
        return self.message.splitlines()


def bot_id_of(token: str) -> int:
    """The numeric bot id a token starts with (update ids are counted per bot); 0 if none."""
    head = token.split(":", 1)[0]
    return int(head) if head.isascii() and head.isdigit() else 0


def _default_instance_name() -> str:
    # Lease owner in the agenda table: must differ between instances and between restarts of one
    # instance, so a restarted process never mistakes a dead predecessor's lease for its own.
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    """Validated settings; field `x_y` is read from the environment variable `X_Y`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        case_sensitive=False,
        # A shared .env may hold other tools' variables (e.g. POSTGRES_PASSWORD).
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = Field(default="sqlite+aiosqlite:///boneload.db", repr=False)
    rules_dir: Path = Path("rules")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    send_rate_per_second: float = Field(default=25.0, gt=0)
    # The most agenda sends on the wire at once (= the most duplicates a crash can cause); the
    # dispatcher's window follows the Bot API latency below it. Unset: one second of the rate.
    send_in_flight: int | None = Field(default=None, ge=1)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    dispatch_interval_seconds: float = Field(default=5.0, ge=1, le=30)
    default_timezone: str = "UTC"
    instance_name: str = Field(default_factory=_default_instance_name, min_length=1)
    # Health: unhealthy when the last agenda tick (any instance) is older than this, or the oldest
    # due-but-unsent agenda row has waited longer than this.
    health_max_tick_age_seconds: float = Field(default=120.0, gt=0)
    health_max_agenda_lag_seconds: float = Field(default=900.0, gt=0)
    # Given as `X-Healthz-Token` header or `?token=`, /healthz shows its details; else ok/fail.
    healthz_token: SecretStr | None = None
    # Polling mode: a port serving /metrics and /healthz (webhook mode serves them on its port).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_listen: str = "127.0.0.1"
    # Telegram update ids are remembered this long to recognise a redelivered update.
    processed_updates_keep_days: float = Field(default=7.0, ge=1)
    # The session timer (a voice message of beeps) sent with each run's reminder.
    session_timer: bool = True
    # Where rendered timers are kept across restarts; unset: in memory only (re-rendered after
    # a restart, in well under a second each).
    timer_cache_dir: Path | None = None

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Stray whitespace from copy-paste is forgiven; the message below must never echo the value.
        token = value.get_secret_value().strip()
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(
                f"does not look like a bot token (<digits>:<characters>); {_TOKEN_HELP}"
            )
        return SecretStr(token)

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError(
                "must be an http(s) URL ending where the token is appended, "
                "e.g. https://api.telegram.org/bot"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme in ("postgresql", "postgres") or scheme.startswith(("postgresql+", "postgres+")):
            if scheme != "postgresql+asyncpg":
                raise ValueError(
                    f"uses the '{scheme}' driver, which is not async; "
                    "write postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB"
                )
        elif (scheme == "sqlite" or scheme.startswith("sqlite+")) and scheme != "sqlite+aiosqlite":
            raise ValueError(
                f"uses the '{scheme}' driver, which is not async; "
                "write sqlite+aiosqlite:///path/to/boneload.db"
            )
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            # The value is not echoed: a malformed URL may still contain a password.
            raise ValueError(
                "is not a valid SQLAlchemy URL; expected e.g. sqlite+aiosqlite:///boneload.db "
                "or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB"
            ) from None
        if url.drivername not in SUPPORTED_DATABASE_DRIVERS:
            raise ValueError(
                f"uses the unsupported driver '{url.drivername}'; "
                f"use one of: {', '.join(SUPPORTED_DATABASE_DRIVERS)}"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        # The URL is exactly what Telegram calls; the listener serves its path (nothing is
        # appended). Telegram only calls https; plain http is accepted for a local test only.
        if value is None:
            return None
        url = urlsplit(value)
        local = url.scheme == "http" and url.hostname in _LOCAL_HOSTS
        if (url.scheme != "https" and not local) or not url.hostname:
            raise ValueError(
                "must be the public https URL Telegram posts updates to, exactly as Telegram "
                "should call it, e.g. https://bot.example.org/telegram (http only for "
                "127.0.0.1 or localhost)"
            )
        if (url.path or "/") in _RESERVED_PATHS or url.query or url.fragment:
            raise ValueError(
                "must have a path of its own (not /healthz or /metrics) and no query, "
                "e.g. https://bot.example.org/telegram"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().upper() not in _LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
            return value.strip().upper()
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _normalise_log_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not an IANA time zone name; use e.g. UTC, Europe/Berlin "
                "or America/New_York"
            ) from None
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without a secret anyone who guesses the URL can post forged updates to the bot.
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET: must be set when WEBHOOK_URL is set, so forged updates are "
                "rejected; generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path the webhook listener serves: WEBHOOK_URL's own path."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def bot_id(self) -> int:
        """The bot's numeric id, the token's prefix (0 without a token)."""
        return bot_id_of(
            self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        )

    @property
    def webhook_enabled(self) -> bool:
        """Webhook mode when WEBHOOK_URL is set, long polling otherwise."""
        return self.webhook_url is not None

    @property
    def default_zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    def require_token(self) -> str:
        """The bot token in clear, for the Telegram client only; ConfigError when it is unset."""
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN: is not set; put the token from @BotFather in the "
                "environment or in .env (see .env.example)"
            )
        return self.telegram_bot_token.get_secret_value()

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for `configure_logging(secrets=...)` to scrub."""
        values = [
            s.get_secret_value()
            for s in (self.telegram_bot_token, self.webhook_secret, self.healthz_token)
            if s
        ]
        password = make_url(self.database_url).password
        if password:
            values.append(str(password))
        return values

    def database_url_for_display(self) -> str:
        """The database URL with its password masked, fit for logs and `boneload doctor`."""
        return make_url(self.database_url).render_as_string(hide_password=True)


def _env_name(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]).upper() if loc else ""


def _describe(error: Any) -> str:
    """One line for one pydantic error; never uses `error["input"]`, which may be a secret."""
    message = str(error["msg"])
    # pydantic prefixes our ValueErrors with "Value error, ", which tells an operator nothing.
    message = message.removeprefix("Value error, ")
    name = _env_name(tuple(error["loc"]))
    if not name:
        # Cross-field checks name their variable themselves.
        return message
    if error["type"] == "int_parsing":
        return f"{name}: must be a whole number"
    if error["type"] == "float_parsing":
        return f"{name}: must be a number"
    # pydantic's built-in wording ("Input should be greater than 0") reads oddly after a name.
    if message.startswith("Input should be"):
        message = "must be" + message.removeprefix("Input should be")
    return f"{name}: {message}"


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read and validate the settings; `env_file=None` reads the process environment only.

    A missing env file is not an error. Raises ConfigError listing every problem, one per line.
    """
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        lines = [_describe(error) for error in exc.errors(include_input=False, include_url=False)]
        # `from None`: the chained ValidationError would print the raw input, i.e. the token.
        raise ConfigError("\n".join(lines)) from None
    except SettingsError as exc:
        raise ConfigError(f"could not read the settings: {exc}") from None
