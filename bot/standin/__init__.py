"""A local stand-in for the Telegram Bot API, for end-to-end tests and the offline sandbox.

The real bot talks to it over real HTTP through PTB's ``base_url``; see ``server`` for the
server, ``faults`` for injectable failures, ``records`` for what it records, and
``terminal`` for the text front end of ``boneload try``.
"""

from bot.standin import faults
from bot.standin.records import (
    AnsweredCallback,
    Button,
    RecordedCall,
    SentFile,
    SentMessage,
    UploadedFile,
)
from bot.standin.server import BotApiStandIn

__all__ = [
    "AnsweredCallback",
    "BotApiStandIn",
    "Button",
    "RecordedCall",
    "SentFile",
    "SentMessage",
    "UploadedFile",
    "faults",
]
