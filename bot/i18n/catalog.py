"""Load a language's catalogs: its .po files compiled into memory with Babel, once per process.

Two catalogs per language: `boneload` (the bot's own texts) and `rules` (the runner-facing
texts of `rules/*.yaml`); a lookup tries the first, then the second. Fuzzy entries are not used
(a fuzzy translation is a guess; English is shown instead, and the catalog check fails).
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAINS = ("boneload", "rules")


def po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The language's translations (English, or a language without catalogs: the ids)."""
    chain: gettext.NullTranslations | None = None
    for domain in DOMAINS:
        path = po_path(lang, domain)
        if not path.exists():
            continue
        t = _compiled(read_catalog(path, lang))
        if chain is None:
            chain = t
        else:
            chain.add_fallback(t)
    return chain if chain is not None else gettext.NullTranslations()
