"""The text modules as the recipient reads them: `from bot.localised import texts`.

`bot.texts` and `bot.texts_coach` hold the English words (the message ids). Their stand-ins here
translate each constant when it is read, into the language of the current context
(`bot.i18n.current()`), so call sites keep `texts.NAME.format(...)` and the module layout stays
as it is. Functions are passed through: they translate their own words when called.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from bot.i18n import localise


class _Localised:
    def __init__(self, module: ModuleType) -> None:
        self._module = module
        # The forms of a plural pair stay English: `plural`/ngettext looks them up as a pair.
        plurals: dict[str, str] = getattr(module, "PLURALS", {})
        self._plural_forms = frozenset(plurals) | frozenset(plurals.values())

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if isinstance(value, str) and value in self._plural_forms:
            return value
        return localise(value)


if TYPE_CHECKING:
    from bot import texts as texts
    from bot import texts_coach as texts_coach
else:
    from bot import texts as _texts
    from bot import texts_coach as _texts_coach

    texts = _Localised(_texts)
    texts_coach = _Localised(_texts_coach)
