"""The Bot API transport, wrapped so that nothing is said before it is stored.

Every request a handler makes (a reply, a spinner answer, an edit) first commits the turn of the
update it is handling (`bot.services.turn.commit_before_sending`): a runner never reads "saved"
about an answer a crash could still take back. Requests made outside an update's task (the
agenda, polling) pass straight through.
"""

from __future__ import annotations

from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.services.turn import commit_before_sending


class CommitFirst(BaseRequest):
    def __init__(self, inner: BaseRequest) -> None:
        self._inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await commit_before_sending()
        return await self._inner.do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
