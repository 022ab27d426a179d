"""Languages: which one a person reads, and their words in it (gettext catalogs read with Babel).

The English wording in `bot/texts.py`, `bot/texts_coach.py` and `rules/*.yaml` is the message id;
`bot/locale/<lang>/LC_MESSAGES/{boneload,rules}.po` hold the translations. The .po files are
compiled in memory when first needed (no binary .mo in the repository).

The language of the person being answered is a context variable: the Telegram layer sets it for
an update (`bot.telegram.app`), the agenda's sender for each scheduled message at send time. Every
lookup (`gettext`, `ngettext`, the `bot.localised` text modules) reads it, so text is rendered in
the recipient's language at the moment it is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from bot.i18n.catalog import translations

DEFAULT = "en"
SUPPORTED = ("en", "de")
# The name of each language in itself, for /settings.
NAMES = {"en": "English", "de": "Deutsch"}

_LANGUAGE: ContextVar[str] = ContextVar("boneload_language", default=DEFAULT)


def negotiate(code: str | None) -> str:
    """A supported language for a Telegram `language_code` ("de-AT" -> "de"); English otherwise."""
    if not code:
        return DEFAULT
    base = code.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in SUPPORTED else DEFAULT


def current() -> str:
    return _LANGUAGE.get()


def set_language(lang: str | None) -> Token[str]:
    return _LANGUAGE.set(lang if lang in SUPPORTED else DEFAULT)


@contextmanager
def use_language(lang: str | None) -> Iterator[None]:
    """Render everything inside in `lang` (the previous language afterwards)."""
    token = set_language(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def gettext(message: str) -> str:
    """`message` (English, the message id) in the current language; itself when untranslated."""
    if not message or _LANGUAGE.get() == DEFAULT:
        return message
    return translations(_LANGUAGE.get()).gettext(message)


_ = gettext


def localise(value: Any) -> Any:
    """A text constant in the current language: strings, the values of a dict, the items of a
    list, and the description of a `(command, description)` pair. Anything else as it is."""
    if isinstance(value, str):
        return gettext(value)
    if isinstance(value, dict):
        return {k: localise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [localise(v) for v in value]
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return (value[0], gettext(value[1]))  # (command name, description): the name stays
    return value


K = TypeVar("K")


def localise_map(words: Mapping[K, str]) -> dict[K, str]:
    """A table of words (status, kind, ...) in the current language, keys unchanged."""
    return {k: gettext(v) for k, v in words.items()}


def in_every_language(message: str) -> list[str]:
    """`message` as each supported language says it (e.g. a keyboard button's label, which
    comes back as text in the language it was shown in)."""
    return [
        translations(lang).gettext(message) if lang != DEFAULT else message for lang in SUPPORTED
    ]


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for `n` by the language's own plural rule (from its catalog header)."""
    return translations(_LANGUAGE.get()).ngettext(singular, plural, n)


def locale() -> Locale:
    return Locale.parse(_LANGUAGE.get())


def number(value: int | float | Decimal) -> str:
    """A number in the current language's notation (1,234.5 / 1.234,5)."""
    return format_decimal(value, locale=_LANGUAGE.get())


# Day and date formats per language; English keeps the bot's original strftime forms exactly.
_DAY_MONTH = {"de": "d. MMM"}
_WEEKDAY_DAY_MONTH = {"de": "EEE d. MMM"}
_DAY_MONTH_TIME = {"de": "d. MMM HH:mm"}


def day_month(d: date) -> str:
    """'03 Dec' / '3. Dez.'"""
    lang = _LANGUAGE.get()
    if lang in _DAY_MONTH:
        return format_date(d, _DAY_MONTH[lang], locale=lang)
    return f"{d:%d %b}"


def weekday_day_month(d: date) -> str:
    """'Thu 03 Dec' / 'Do. 3. Dez.'"""
    lang = _LANGUAGE.get()
    if lang in _WEEKDAY_DAY_MONTH:
        return format_date(d, _WEEKDAY_DAY_MONTH[lang], locale=lang)
    return f"{d:%a %d %b}"


def day_month_time(t: datetime) -> str:
    """'03 Dec 14:05' / '3. Dez. 14:05'"""
    lang = _LANGUAGE.get()
    if lang in _DAY_MONTH_TIME:
        return format_datetime(t, _DAY_MONTH_TIME[lang], locale=lang)
    return f"{t:%d %b %H:%M}"
