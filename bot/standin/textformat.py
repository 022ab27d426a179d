"""Telegram text formatting as the stand-in sees it: HTML / MarkdownV2 checks and plain text.

The real API refuses a message whose markup it cannot parse ("Bad Request: can't parse
entities: ..."), which is one of the commonest ways a bot breaks in production: a user's
name with ``<`` in it, or an unescaped ``.`` in MarkdownV2. The stand-in does the same
checks, approximately, so such bugs surface in tests rather than in front of a runner.
The checks aim at the rules the Bot API documents, not at byte-exact error texts.
"""

from __future__ import annotations

import html
import re

# https://core.telegram.org/bots/api#html-style
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_MDV2_ALWAYS_ESCAPED = frozenset("#+-={}.!()")


def _offset(text: str, index: int) -> int:
    # Telegram reports byte offsets in the UTF-8 text, so emoji shift them.
    return len(text[:index].encode("utf-8"))


def _html_error(text: str) -> str | None:
    stack: list[str] = []
    pos = 0
    while (lt := text.find("<", pos)) != -1:
        match = _TAG.match(text, lt)
        if match is None:
            return f"Unsupported start tag at byte offset {_offset(text, lt)}"
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            return f'Unsupported start tag "{name}" at byte offset {_offset(text, lt)}'
        if not closing:
            stack.append(name)
        elif not stack:
            return f'Unexpected end tag "{name}" at byte offset {_offset(text, lt)}'
        elif stack[-1] != name:
            return (
                f'Can\'t find end tag corresponding to start tag "{stack[-1]}" '
                f"at byte offset {_offset(text, lt)}"
            )
        else:
            stack.pop()
        pos = match.end()
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def _markdown_v2_error(text: str) -> str | None:
    open_markers: dict[str, int] = {}
    link_open: int | None = None
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if text.startswith("```", i):
            end = _find_unescaped(text, "```", i + 3)
            if end == -1:
                return f"Can't find end of Pre entity at byte offset {_offset(text, i)}"
            i = end + 3
            continue
        if ch == "`":
            end = _find_unescaped(text, "`", i + 1)
            if end == -1:
                return f"Can't find end of Code entity at byte offset {_offset(text, i)}"
            i = end + 1
            continue
        marker = "__" if text.startswith("__", i) else "||" if text.startswith("||", i) else ch
        if marker in ("*", "_", "__", "~", "||"):
            if marker in open_markers:
                del open_markers[marker]
            else:
                open_markers[marker] = i
            i += len(marker)
            continue
        if ch == "[":
            link_open = i
            i += 1
            continue
        if ch == "]" and link_open is not None:
            if not text.startswith("(", i + 1):
                return f"Can't find end of TextUrl entity at byte offset {_offset(text, i)}"
            close = _find_unescaped(text, ")", i + 2)
            if close == -1:
                return f"Can't find end of TextUrl entity at byte offset {_offset(text, i)}"
            link_open = None
            i = close + 1
            continue
        if ch == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if ch in _MDV2_ALWAYS_ESCAPED or ch in "]>|":
            return f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        i += 1
    if link_open is not None:
        return f"Can't find end of TextUrl entity at byte offset {_offset(text, link_open)}"
    if open_markers:
        marker, start = min(open_markers.items(), key=lambda item: item[1])
        return f"Can't find end of the entity starting at byte offset {_offset(text, start)}"
    return None


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def parse_error(text: str, parse_mode: str | None) -> str | None:
    """The "can't parse entities" reason Telegram would give, or None if the text is fine.

    The legacy "Markdown" mode is accepted as is: it is lenient and deprecated.
    """
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _html_error(text)
    if mode == "markdownv2":
        return _markdown_v2_error(text)
    return None


_MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((?:\\.|[^)\\])*\)")
_MDV2_MARKERS = re.compile(r"\\(.)|```[^\n]*\n?|__|\|\||[*_~`]|^>", re.MULTILINE | re.DOTALL)


def to_plain(text: str, parse_mode: str | None) -> str:
    """Roughly what a Telegram client displays for ``text`` sent with ``parse_mode``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return html.unescape(_TAG.sub("", text))
    if mode in ("markdownv2", "markdown"):
        unlinked = _MD_LINK.sub(lambda m: m.group(1), text)
        return _MDV2_MARKERS.sub(lambda m: m.group(1) or "", unlinked)
    return text
