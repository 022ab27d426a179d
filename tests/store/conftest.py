"""Fixtures for the store tests (shared with the other delivery tests)."""

from __future__ import annotations

from tests.delivery_fixtures import *  # noqa: F403
from tests.delivery_fixtures import _db_choice, _pg_choice  # noqa: F401
