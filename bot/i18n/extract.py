"""Collect every message id and keep the catalogs in step: `python -m bot.i18n.extract`.

Message ids come from three places:
- the text modules `bot.texts` and `bot.texts_coach`: every text constant, read from the modules
  themselves (so a constant built from others, or a new one, is never missed);
- literal `_("...")` / `ngettext("...", "...", n)` calls anywhere in `bot/` (Babel's extractor,
  mapping in `babel.cfg`);
- the runner-facing texts of `rules/*.yaml` (the keys in `RULES_TEXT_KEYS`), into the `rules`
  catalog.

Running it writes the templates (`bot/locale/*.pot`) and merges them into each language's .po
(new ids untranslated, gone ids dropped). `missing(lang)` is what the catalog check tests.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

from bot.i18n import SUPPORTED
from bot.i18n.catalog import LOCALE_DIR, po_path, read_catalog

ROOT = Path(__file__).resolve().parents[2]
BOT_DIR = ROOT / "bot"
RULES_DIR = ROOT / "rules"
# The rules' words a runner (or coach) reads; `source`, `notes` and ids are not shown.
RULES_TEXT_KEYS = frozenset(
    {
        "name",
        "description",
        "text",
        "says",
        "label",
        "typical",
        "intro",
        "low_label",
        "high_label",
        "progression",
        "message",
    }
)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")

Message = str | tuple[str, str]  # an id, or (singular, plural)


_NAMED_DATE = re.compile(r"%[aAbB]")


def _wordy(text: str) -> bool:
    """Has words to translate: not only placeholders, emoji, digits and punctuation (a date
    placeholder naming a weekday or month, like {day:%a %d %b}, is words too)."""
    return bool(_NAMED_DATE.search(text)) or any(c.isalpha() for c in _PLACEHOLDER.sub("", text))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        yield value[1]  # (command, description)


def module_messages(module: ModuleType) -> list[Message]:
    plurals: dict[str, str] = getattr(module, "PLURALS", {})
    found: list[Message] = []
    for name, value in vars(module).items():
        if name.startswith("_") or not name.isupper() or name == "PLURALS":
            continue
        for s in _strings(value):
            if s in plurals:
                found.append((s, plurals[s]))
            elif s not in plurals.values() and _wordy(s):
                found.append(s)
    return found


def literal_messages(root: Path = ROOT) -> list[Message]:
    """Literal ids in calls of `_`, `gettext` and `ngettext`, in the files `babel.cfg` maps
    (the bot's own code, not tests or benchmarks)."""
    with (root / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    bot = root / "bot"

    def in_bot(dirpath: str) -> bool:
        path = Path(dirpath)
        return path in (root, bot) or bot in path.parents

    found: list[Message] = []
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
        str(root), method_map, options_map, keywords=keywords, directory_filter=in_bot
    ):
        if isinstance(msg, tuple):
            found.append((msg[0], msg[1]))
        elif msg:
            found.append(msg)
    return found


def code_messages() -> list[Message]:
    from bot import texts, texts_coach

    return [*module_messages(texts), *module_messages(texts_coach), *literal_messages()]


def _rules_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in RULES_TEXT_KEYS and isinstance(v, str):
                yield v
            else:
                yield from _rules_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _rules_strings(v)


def rules_messages(rules_dir: Path = RULES_DIR) -> list[Message]:
    found: list[Message] = []
    for path in sorted(rules_dir.rglob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            found.extend(s for s in _rules_strings(yaml.safe_load(f)) if _wordy(s))
    return found


def template(messages: Iterable[Message], domain: str) -> Catalog:
    cat = Catalog(project="boneload", domain=domain, fuzzy=False)
    for m in messages:
        if m not in cat:
            cat.add(m)
    return cat


def templates() -> dict[str, Catalog]:
    return {
        "boneload": template(code_messages(), "boneload"),
        "rules": template(rules_messages(), "rules"),
    }


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def missing(lang: str) -> dict[str, list[str]]:
    """Per domain, the message ids of the code and rules the language's .po lacks, has only
    fuzzy or empty, or has stale (no longer used); empty lists when the catalog is complete."""
    report: dict[str, list[str]] = {}
    for domain, tmpl in templates().items():
        problems: list[str] = []
        path = po_path(lang, domain)
        cat = read_catalog(path, lang) if path.exists() else Catalog(locale=lang)
        for m in tmpl:
            if not m.id:
                continue
            got = cat.get(m.id)
            if got is None:
                problems.append(f"missing: {_key(m.id)!r}")
            elif got.fuzzy:
                problems.append(f"fuzzy: {_key(m.id)!r}")
            elif isinstance(m.id, tuple) != isinstance(got.id, tuple):
                problems.append(f"plural form differs: {_key(m.id)!r}")
            elif not all(got.string) if isinstance(got.string, tuple) else not got.string:
                problems.append(f"untranslated: {_key(m.id)!r}")
        for m in cat:
            if m.id and tmpl.get(m.id) is None:
                problems.append(f"stale: {_key(m.id)!r}")
        report[domain] = problems
    return report


def update() -> None:
    for domain, tmpl in templates().items():
        with (LOCALE_DIR / f"{domain}.pot").open("wb") as f:
            write_po(f, tmpl, width=100, omit_header=False)
        for lang in SUPPORTED:
            if lang == "en":
                continue
            path = po_path(lang, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            cat = read_catalog(path, lang) if path.exists() else Catalog(locale=lang, domain=domain)
            cat.update(tmpl, no_fuzzy_matching=True)
            cat.obsolete.clear()
            cat.fuzzy = False
            cat.project, cat.version = "boneload", ""
            cat.msgid_bugs_address = cat.last_translator = cat.language_team = ""
            cat.copyright_holder = "boneload"
            with path.open("wb") as f:
                write_po(f, cat, width=100, include_previous=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report missing translations")
    args = parser.parse_args()
    if not args.check:
        update()
    bad = 0
    for lang in SUPPORTED:
        if lang == "en":
            continue
        for domain, problems in missing(lang).items():
            for p in problems:
                print(f"{lang}/{domain}: {p}")
            bad += len(problems)
    raise SystemExit(1 if bad and args.check else 0)


if __name__ == "__main__":
    main()
