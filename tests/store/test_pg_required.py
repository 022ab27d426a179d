"""PostgreSQL tests skip without BONELOAD_TEST_PG_URL, but fail under CI instead."""

from __future__ import annotations

import pytest

from bot.store.fixtures import require_pg
from bot.store.testing import PG_URL_ENV


def test_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PG_URL_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_pg()


def test_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PG_URL_ENV, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI"):
        require_pg()


def test_uses_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PG_URL_ENV, "postgresql+asyncpg://u@h/db")
    assert require_pg() == "postgresql+asyncpg://u@h/db"
