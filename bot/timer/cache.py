"""Rendered timers, kept by plan: a prescription is rendered once per process, and once per
cache directory across restarts.

Files, not a database table: a timer is derived data, re-made from the rules in a fraction of
a second, so it needs no backup, migration or transaction, and keeping megabytes of audio out
of the database keeps its backups small. A lost or unwritable directory only costs a re-render.
Telegram's `file_id` of an uploaded timer is remembered too (in memory: it is per bot), so the
same timer is resent without uploading it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from bot.timer.audio import render_voice
from bot.timer.plan import TimerPlan

__all__ = ["TimerCache"]

log = logging.getLogger(__name__)


class TimerCache:
    def __init__(
        self,
        directory: Path | None = None,
        *,
        max_items: int = 32,
        render: Callable[[TimerPlan], bytes] = render_voice,
    ) -> None:
        self.directory = directory
        self.max_items = max_items
        self.renders = 0  # how many times audio was actually rendered
        self._render = render
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._file_ids: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, plan: TimerPlan) -> bytes:
        """The audio for `plan`, from memory, the directory, or rendered now."""
        key = plan.key
        audio = self._memory.get(key)
        if audio is None:
            audio = self._read(key)
            if audio is None:
                audio = self._render(plan)
                self.renders += 1
                self._write(key, audio)
        self._remember(key, audio)
        return audio

    async def get_async(self, plan: TimerPlan) -> bytes:
        """`get` off the event loop, one render per plan even when asked for at once."""
        if plan.key in self._memory:
            return self.get(plan)
        lock = self._locks.setdefault(plan.key, asyncio.Lock())
        async with lock:
            return await asyncio.to_thread(self.get, plan)

    def file_id(self, plan: TimerPlan) -> str | None:
        return self._file_ids.get(plan.key)

    def remember_file_id(self, plan: TimerPlan, file_id: str) -> None:
        self._file_ids[plan.key] = file_id

    def forget_file_id(self, plan: TimerPlan) -> None:
        self._file_ids.pop(plan.key, None)

    def _remember(self, key: str, audio: bytes) -> None:
        self._memory[key] = audio
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_items:
            self._memory.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"timer-{key}.ogg"

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("timer cache unreadable", extra={"error": type(exc).__name__})
            return None

    def _write(self, key: str, audio: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: another process never reads half a file.
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(audio)
            partial.replace(path)
        except OSError as exc:
            log.warning("timer cache not written", extra={"error": type(exc).__name__})
