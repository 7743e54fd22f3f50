"""Our Prefect entry point makes every SQLite transaction of Prefect's server begin IMMEDIATE."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.server.database.configurations import SQLITE_BEGIN_MODE, AioSqliteConfiguration

from mlcanvas.stack.prefect_server import (
    begin_sqlite_transactions_immediate,
    check_each_schema_once,
)


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


def test_each_schema_is_checked_against_the_metaschema_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.utilities.schema_tools import validation

    checked: list[object] = []
    real = validation._VALIDATOR.check_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type, schema: object, *args: object, **kwargs: object) -> None:
        checked.append(schema)
        real(cls, schema, *args, **kwargs)

    # restored after the test: the patch is process-wide
    monkeypatch.setattr(validation._VALIDATOR, "check_schema", classmethod(counting))
    check_each_schema_once()
    check_each_schema_once()  # idempotent
    schema = {"type": "object", "properties": {"command": {"type": "string"}}}

    validation.is_valid_schema(schema, preprocess=False)
    validation.is_valid_schema(dict(schema), preprocess=False)  # an equal copy
    validation.validate({"command": "x"}, schema, raise_on_error=True, preprocess=False)
    with pytest.raises(validation.ValidationError):  # instances are still validated
        validation.validate({"command": 1}, schema, raise_on_error=True, preprocess=False)
    assert len(checked) == 1

    invalid = {"type": "no-such-type"}
    for _ in range(2):  # an invalid schema fails every time
        with pytest.raises(ValueError, match="Invalid schema"):
            validation.is_valid_schema(invalid, preprocess=False)
    assert len(checked) == 3
