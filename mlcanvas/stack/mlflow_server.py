"""`python -m mlcanvas.stack.mlflow_server ARGS`: MLflow's own `mlflow ARGS` (here `server ...`),
with the web server exec'd in place instead of started as a child.

`mlflow server` prepares the stores, builds a uvicorn command and its environment, starts it as
a child process and then only waits on it, with all of MLflow still imported: ~250 MiB of the
stack's idle memory doing nothing (docs/benchmarks.md, API latency). Here MLflow builds the same
command and environment, and this process becomes that uvicorn (same PID, so the supervisor's
signals and its PID-based stop reach the server itself). Only used where MLflow would not wait
on anything else: job execution is off in the stack (`MLFLOW_SERVER_ENABLE_JOB_EXECUTION`).
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any, NoReturn


def exec_in_place(
    cmd: Sequence[Any], *, extra_env: dict[str, str] | None = None, **_: Any
) -> NoReturn:
    """Stands in for `mlflow.utils.process._exec_cmd` when MLflow starts its server."""
    argv = [str(part) for part in cmd]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], argv, {**os.environ, **(extra_env or {})})


def main() -> None:
    import mlflow.server

    mlflow.server._exec_cmd = exec_in_place  # type: ignore[attr-defined]
    sys.argv = ["mlflow", *sys.argv[1:]]
    runpy.run_module("mlflow", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
