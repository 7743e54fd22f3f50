"""Idle memory of the API process: RSS and PSS of `mlcanvas api` after start-up, and which
heavy libraries (torch, MLflow, scikit-learn, pandas) it has imported.

Starts a Prefect server with the e2e starter, then the API exactly as `mlcanvas api` runs it
(through a small launcher that can report the process's `sys.modules` on SIGUSR1), waits for
`/api/health`, lets it idle, and measures `/proc/PID/smaps_rollup`. Then it makes the calls a
freshly opened canvas makes (health, datasets, deployments; validate and compile of the
examples) and measures again. Both
processes are stopped by PID at the end, also on errors. No executor: it does not change the
API's memory, and the API starts without it (only `/api/jobs` needs it, so it is left out).

usage: uv run python bench/api_memory.py [--idle 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import httpx
from stack_probe import MIB, load_stack_module

HEAVY_MODULES = ("torch", "mlflow", "sklearn", "pandas")
MODULES_FILE_ENV = "MLCANVAS_BENCH_MODULES_FILE"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# What a freshly opened canvas asks for, and what editing a graph sends (no training).
CANVAS_CALLS = (
    ("GET", "/api/health", None),
    ("GET", "/api/datasets", None),
    ("GET", "/api/rf/datasets", None),
    ("GET", "/api/deploy/list", None),
    ("POST", "/api/model/validate", "digits_mlp.json"),
    ("POST", "/api/model/compile", "digits_mlp.json"),
    ("POST", "/api/rf/validate", "iris_forest.json"),
    ("POST", "/api/rf/compile", "iris_forest.json"),
)

log = logging.getLogger("bench.api_memory")


def serve_api() -> None:
    """The launcher: `mlcanvas api` itself, plus a SIGUSR1 handler that writes which heavy
    modules are loaded (the only way to read another process's `sys.modules`)."""

    def report_modules(_signum: int, _frame: FrameType | None) -> None:
        loaded = sorted(name for name in HEAVY_MODULES if name in sys.modules)
        target = Path(os.environ[MODULES_FILE_ENV])
        partial = target.with_suffix(".tmp")
        partial.write_text(" ".join(loaded) + "\n")
        partial.replace(target)

    signal.signal(signal.SIGUSR1, report_modules)
    from mlcanvas.cli import api

    api()


def memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value, *_ = line.split()
        fields[key.rstrip(":")] = int(value) * 1024
    return fields["Rss"], fields["Pss"]


def loaded_heavy_modules(pid: int, modules_file: Path, timeout: float = 10) -> list[str]:
    modules_file.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not modules_file.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the API did not report its modules")
        time.sleep(0.05)
    return modules_file.read_text().split()


def measure(label: str, pid: int, modules_file: Path) -> None:
    rss, pss = memory_of(pid)
    heavy = loaded_heavy_modules(pid, modules_file)
    log.info(
        "%-24s RSS %5.0f MiB  PSS %5.0f MiB  heavy modules: %s",
        label,
        rss / MIB,
        pss / MIB,
        ", ".join(heavy) or "none",
    )


def run(idle: float) -> None:
    stack_module = load_stack_module()
    with tempfile.TemporaryDirectory(prefix="mlcanvas-api-memory-") as tmp:
        stack = stack_module.make_stack(Path(tmp))
        modules_file = Path(tmp) / "modules.txt"
        stack.env.update(
            MLCANVAS_API_PORT=str(stack.api_port), **{MODULES_FILE_ENV: str(modules_file)}
        )
        try:
            stack.start_prefect()
            started = time.perf_counter()
            api = stack._spawn("api", [sys.executable, __file__, "--serve"])
            stack_module.wait_until(
                lambda: httpx.get(f"{stack.api}/api/health", timeout=2).status_code == 200,
                180,
                "API",
            )
            log.info(
                "API up in %.1f s (spawn to a healthy /api/health)", time.perf_counter() - started
            )
            time.sleep(idle)  # idle on purpose: what the process holds while nothing happens
            measure("idle after start-up", api.pid, modules_file)
            for method, path, example in CANVAS_CALLS:
                body = (EXAMPLES / example).read_bytes() if example else None
                called = time.perf_counter()
                response = httpx.request(
                    method,
                    f"{stack.api}{path}",
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=60,
                )
                response.raise_for_status()
                log.info("%-24s %6.0f ms", f"{method} {path}", (time.perf_counter() - called) * 1e3)
            time.sleep(idle)
            measure("after canvas calls", api.pid, modules_file)
        except Exception:
            api_log = stack.logs / "api.log"
            if api_log.exists():
                log.error("API log:\n%s", api_log.read_text()[-4000:])
            raise
        finally:
            stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before measuring")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_api()
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run(args.idle)


if __name__ == "__main__":
    main()
