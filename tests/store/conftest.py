"""Fixtures: every adapter behind one ``store`` fixture, so the contract suite runs against each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crowdfill.store import Store
from tests.store.backends import Backend, backend_named


@pytest.fixture(params=["sqlite", "memory", "postgresql", "mongodb"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with backend_named(request.param, tmp_path, request) as value:
        yield value


@pytest.fixture(params=["sqlite", "postgresql", "mongodb"])
async def persistent_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with backend_named(request.param, tmp_path, request) as value:
        yield value


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = backend.make()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
