"""The catalog check (CI): every text of the code and every runner-facing text of rules/*.yaml
has a German translation, none fuzzy, none stale; and the i18n helpers (language from Telegram's
language_code, plurals and numbers from the catalog and Babel) behave."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.i18n import (
    SUPPORTED,
    day_month,
    gettext,
    in_every_language,
    negotiate,
    ngettext,
    number,
    use_language,
)
from bot.i18n.catalog import po_path, read_catalog
from bot.i18n.extract import code_messages, missing, rules_messages
from bot.localised import texts, texts_coach

PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


@pytest.mark.parametrize("lang", [lang for lang in SUPPORTED if lang != "en"])
def test_no_message_is_missing_fuzzy_or_stale(lang: str) -> None:
    report = missing(lang)
    problems = [f"{domain}: {p}" for domain, ps in report.items() for p in ps]
    assert not problems, "run `python -m bot.i18n.extract` and translate:\n" + "\n".join(problems)


def test_the_check_sees_the_code_and_the_rules() -> None:
    code = code_messages()
    assert "Where is your bone stress injury?" in code
    assert ("{n} missed follow-up", "{n} missed follow-ups") in code
    rules = rules_messages()
    assert "Pain at the injury site during the session?" in rules  # a question
    assert "Navicular (midfoot)" in rules  # a site
    assert "pain at rest" in rules  # a reason ("says")


@pytest.mark.parametrize("lang", [lang for lang in SUPPORTED if lang != "en"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    """A translation names the same fields as its English id (a format spec may differ:
    '{since:%d %b}' becomes '{since:%d.%m.}')."""
    for domain in ("boneload", "rules"):
        for m in read_catalog(po_path(lang, domain), lang):
            if not m.id:
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            wanted = set(PLACEHOLDER.findall(ids[-1]))
            for s in strings:
                assert set(PLACEHOLDER.findall(s)) <= wanted | {"n"}, (m.id, s)


def test_language_from_telegram() -> None:
    assert negotiate("de") == "de"
    assert negotiate("de-AT") == "de"
    assert negotiate("de_CH") == "de"
    assert negotiate("fr") == "en"
    assert negotiate(None) == "en"
    assert negotiate("") == "en"


def test_constants_functions_plurals_and_numbers_follow_the_language() -> None:
    assert texts.YES == "Yes"
    with use_language("de"):
        assert texts.YES == "Ja"
        assert texts.NOTICES["gate_not_yet"].startswith("Noch nicht")
        assert texts_coach.rest_days(1) == "1 Ruhetag"
        assert texts_coach.rest_days(3) == "3 Ruhetagen"
        assert ngettext("{n} missed follow-up", "{n} missed follow-ups", 2) == (
            "{n} verpasste 24-h-Checks"
        )
        assert number(1234.5) == "1.234,5"
        assert day_month(date(2026, 12, 3)) == "3. Dez."
        assert gettext("Navicular (midfoot)") == "Kahnbein (Mittelfuß)"
    assert texts_coach.rest_days(3) == "3 rest days"
    assert number(1234.5) == "1,234.5"
    assert day_month(date(2026, 12, 3)) == "03 Dec"
    assert in_every_language(texts.BTN_REPORT_PAIN) == ["🩹 Report pain", "🩹 Schmerz melden"]


def test_an_unknown_language_reads_english() -> None:
    with use_language("xx"):
        assert texts.YES == "Yes"


def test_diagnosis_buttons_use_the_plural_rule() -> None:
    from bot.texts import DIAG_WEEK, DIAG_WEEKS

    assert ngettext(DIAG_WEEK, DIAG_WEEKS, 1).format(n=1) == "1 week ago"
    with use_language("de"):
        assert ngettext(DIAG_WEEK, DIAG_WEEKS, 1).format(n=1) == "vor 1 Woche"
        assert ngettext(DIAG_WEEK, DIAG_WEEKS, 4).format(n=4) == "vor 4 Wochen"


def test_literal_calls_are_extracted_by_the_babel_mapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.i18n.extract import ROOT, literal_messages

    (tmp_path / "babel.cfg").write_text((Path(ROOT) / "babel.cfg").read_text())
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "x.py").write_text('_("Hello")\nngettext("{n} cat", "{n} cats", n)\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "y.py").write_text('_("not the bot")\n')
    assert literal_messages(tmp_path) == ["Hello", ("{n} cat", "{n} cats")]
