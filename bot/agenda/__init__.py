"""The durable agenda's runtime: the ticker that sends what falls due (`dispatcher`), the
Telegram error rules (`errors`), the send budget (`ratelimit`) and the sender seam (`sender`).
The table and its queries live in `bot.store.agenda`; the contract is docs/delivery.md.
"""

from bot.agenda.dispatcher import Dispatcher, TickStats, run_dispatcher
from bot.agenda.sender import AgendaItem, PlainSender, Sender

__all__ = ["AgendaItem", "Dispatcher", "PlainSender", "Sender", "TickStats", "run_dispatcher"]
