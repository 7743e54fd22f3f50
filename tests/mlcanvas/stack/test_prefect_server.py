"""Our Prefect entry point makes every SQLite transaction of Prefect's server begin IMMEDIATE."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.server.database.configurations import SQLITE_BEGIN_MODE, AioSqliteConfiguration

from mlcanvas.stack.prefect_server import begin_sqlite_transactions_immediate


async def _begin_modes(config: AioSqliteConfiguration) -> list[str | None]:
    engine = await config.engine()
    try:
        modes = []
        for with_for_update in (False, True):
            session = await config.session(engine)
            async with session, config.begin_transaction(session, with_for_update=with_for_update):
                modes.append(SQLITE_BEGIN_MODE.get())
        return modes
    finally:
        await engine.dispose()


def test_every_transaction_begins_immediate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(  # restored after the test: the patch is process-wide
        AioSqliteConfiguration, "begin_transaction", AioSqliteConfiguration.begin_transaction
    )
    config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert asyncio.run(_begin_modes(config)) == ["DEFERRED", "IMMEDIATE"]  # Prefect's own

    begin_sqlite_transactions_immediate()
    begin_sqlite_transactions_immediate()  # idempotent

    assert asyncio.run(_begin_modes(config)) == ["IMMEDIATE", "IMMEDIATE"]
