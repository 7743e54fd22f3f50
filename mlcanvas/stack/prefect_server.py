"""`python -m mlcanvas.stack.prefect_server ARGS`: Prefect's own `python -m prefect ARGS` (here
`server start ...`), with every SQLite transaction Prefect opens begun IMMEDIATE and each JSON
schema checked once.

Prefect begins most SQLite transactions DEFERRED. When one that has read then writes while
another connection has written, SQLite fails it at once with "database is locked" (the busy
timeout does not cover that upgrade) and Prefect answers 503, which its clients retry after
seconds. With flow runs, worker polls and run creation all writing, that was ~50 503s per
`bench/api_latency.py` run and 2-5 s stalls of POST /train. IMMEDIATE takes the write lock at
BEGIN, where SQLite's busy timeout makes a writer wait its turn instead. Reads outside
transactions are untouched (WAL), and a Prefect on Postgres is not affected at all.

It also checks each JSON schema against the JSON Schema metaschema once per process. Prefect
checks the work pool's variables schema twice per flow-run creation (`is_valid_schema`, then
`jsonschema.validate`), each walk of the 2020-12 metaschema ~1.5 ms; that was 5-15 ms of the
server's ~35 ms of CPU per POST /train (docs/benchmarks.md). Schemas that fail are not
remembered, so they fail every time as before.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Callable
from typing import Any

from prefect.server.database.configurations import AioSqliteConfiguration
from prefect.utilities.schema_tools import validation

CHECKED_SCHEMAS_KEPT = 256


def begin_sqlite_transactions_immediate() -> None:
    """Make Prefect's SQLite `begin_transaction` always take the write lock up front."""
    original: Callable[..., Any] = AioSqliteConfiguration.begin_transaction
    if getattr(original, "always_immediate", False):
        return

    def begin_transaction(
        self: AioSqliteConfiguration, session: Any, with_for_update: bool = False
    ) -> Any:
        return original(self, session, with_for_update=True)

    begin_transaction.always_immediate = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[method-assign]


def check_each_schema_once() -> None:
    """Remember which schemas passed Prefect's metaschema check (`_VALIDATOR.check_schema`)."""
    validator = validation._VALIDATOR
    original: Callable[..., None] = validator.check_schema.__func__  # type: ignore[attr-defined]
    if getattr(original, "checks_each_schema_once", False):
        return
    passed: set[str] = set()

    def check_schema(cls: type, schema: Any, *args: Any, **kwargs: Any) -> None:
        key = json.dumps(schema, sort_keys=True, default=repr)
        if key in passed:
            return
        original(cls, schema, *args, **kwargs)  # raises for an invalid schema: not remembered
        if len(passed) >= CHECKED_SCHEMAS_KEPT:
            passed.clear()
        passed.add(key)

    check_schema.checks_each_schema_once = True  # type: ignore[attr-defined]
    validator.check_schema = classmethod(check_schema)  # type: ignore[method-assign,assignment]


def main() -> None:
    begin_sqlite_transactions_immediate()
    check_each_schema_once()
    sys.argv = ["prefect", *sys.argv[1:]]
    runpy.run_module("prefect", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
