"""`python -m mlcanvas.stack.prefect_server ARGS`: Prefect's own `python -m prefect ARGS` (here
`server start ...`), with every SQLite transaction Prefect opens begun IMMEDIATE.

Prefect begins most SQLite transactions DEFERRED. When one that has read then writes while
another connection has written, SQLite fails it at once with "database is locked" (the busy
timeout does not cover that upgrade) and Prefect answers 503, which its clients retry after
seconds. With flow runs, worker polls and run creation all writing, that was ~50 503s per
`bench/api_latency.py` run and 2-5 s stalls of POST /train. IMMEDIATE takes the write lock at
BEGIN, where SQLite's busy timeout makes a writer wait its turn instead. Reads outside
transactions are untouched (WAL), and a Prefect on Postgres is not affected at all.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from typing import Any

from prefect.server.database.configurations import AioSqliteConfiguration


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


def main() -> None:
    begin_sqlite_transactions_immediate()
    sys.argv = ["prefect", *sys.argv[1:]]
    runpy.run_module("prefect", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
