"""Plain records the stand-in keeps of what the bot did: calls, uploaded files, sent messages.

They are snapshots: the stand-in hands out fresh copies, so a test holding one sees the
state at the time it asked, and edits made later show up only in a new snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.standin.textformat import to_plain

if TYPE_CHECKING:
    from bot.standin.faults import Fault

#: One inline button as ``(text, callback_data)``; ``callback_data`` is None for URL buttons.
Button = tuple[str, str | None]


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the stand-in received it."""

    filename: str
    content: bytes
    content_type: str | None = None

    def __repr__(self) -> str:
        # Keeps failure messages readable when the upload is megabytes long.
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes, {self.content_type!r})"


@dataclass(frozen=True)
class SentFile:
    """A document or photo the bot sent, with the file id the stand-in gave it."""

    file_id: str
    file_unique_id: str
    filename: str
    content: bytes
    mime_type: str | None = None

    def __repr__(self) -> str:
        return f"SentFile({self.file_id!r}, {self.filename!r}, {len(self.content)} bytes)"


@dataclass
class RecordedCall:
    """One Bot API request, recorded when it arrives and completed when it is answered.

    ``status`` stays None while the request is in flight, and also when the client went away
    before the answer (a simulated stall the client gave up on).
    """

    method: str
    params: dict[str, Any]
    time: float
    http_method: str = "POST"
    token: str = ""
    status: int | None = None
    fault: Fault | None = None
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def done(self) -> bool:
        return self.response is not None


@dataclass
class SentMessage:
    """What the bot sent to a chat, as the user would now see it (edits applied).

    ``text`` is exactly what the bot sent, markup and all; ``plain_text`` strips HTML or
    MarkdownV2 formatting the way a Telegram client would show it. ``buttons`` are the inline
    keyboard's ``(text, callback_data)`` rows, ``reply_keyboard`` the labels of a reply
    keyboard, and ``reply_markup`` the markup exactly as sent (or as last edited).
    """

    message_id: int
    chat_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    document: SentFile | None = None
    photo: SentFile | None = None
    voice: SentFile | None = None
    voice_duration: int | None = None  # seconds, as the bot declared it
    previous_texts: list[str | None] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def edited(self) -> bool:
        return self.edit_date is not None

    @property
    def plain_text(self) -> str | None:
        body = self.text if self.text is not None else self.caption
        if body is None:
            return None
        return to_plain(body, self.parse_mode)

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]


@dataclass(frozen=True)
class AnsweredCallback:
    """A successful answerCallbackQuery call, tied back to the press that caused it."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    user_id: int | None
    data: str | None
    message_id: int | None
