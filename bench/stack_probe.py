"""The benchmark's view of the real stack: start it with the e2e starter, read the memory and
CPU of every process it runs (children and forked runs included), and stop it all by PID.

Used by `bench/api_latency.py`; not a test helper (tests use `tests/e2e/stack.py` directly).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from mlcanvas.stack.serve import MLFLOW_SERVER_ENV, mlflow_server_argv

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024**2

log = logging.getLogger("bench.stack_probe")


def load_stack_module() -> Any:
    """`tests/e2e/stack.py`, imported by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("e2e_stack", ROOT / "tests" / "e2e" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["e2e_stack"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class ProcessMemory:
    label: str
    rss: int
    pss: int


def stack_processes(stack: Any) -> dict[str, list[psutil.Process]]:
    """Each part we started with everything it started (forkserver, worker, flow runs...)."""
    tree: dict[str, list[psutil.Process]] = {}
    for name, proc in stack.procs.items():
        try:
            root = psutil.Process(proc.pid)
            tree[name] = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree[name] = []
    return tree


def describe(proc: psutil.Process) -> str:
    """A short name from the command line: `flows.forkserver`, `prefect worker`, ..."""
    try:
        args = [a for a in proc.cmdline()[1:] if not a.startswith("-")][:2]
        return " ".join(Path(a).name for a in args) or proc.name()
    except psutil.Error:
        return "?"


def measure_memory(stack: Any) -> dict[str, list[ProcessMemory]]:
    """Per part, per process. RSS counts pages shared between processes (forked children,
    the same libraries) once per process: the target's measure. PSS splits shared pages among
    their users, so PSS sums to what the machine really spends."""
    out: dict[str, list[ProcessMemory]] = {}
    for name, procs in stack_processes(stack).items():
        out[name] = []
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            out[name].append(ProcessMemory(describe(proc), info.rss, info.pss))
    return out


def cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds so far, per PID."""
    out = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        out[proc.pid] = times.user + times.system
    return out


def idle_cpu_share(stack: Any, seconds: float) -> dict[str, float]:
    """Per process, the share of one core it burns while no job runs (polls, heartbeats)."""
    procs = [p for ps in stack_processes(stack).values() for p in ps]
    labels = {p.pid: describe(p) for p in procs}
    before = cpu_seconds(procs)
    time.sleep(seconds)
    after = cpu_seconds(procs)
    return {
        labels[pid]: (after[pid] - cpu) / seconds for pid, cpu in before.items() if pid in after
    }


def wait_for_runs_to_exit(stack: Any, timeout: float = 30) -> None:
    """Until no flow-run launcher is left under the executor (runs end a moment after their
    Prefect state does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs = [p for ps in stack_processes(stack).values() for p in ps]
        if not any(describe(p).startswith("launcher.py") for p in procs):
            return
        time.sleep(0.5)


def start_mlflow(stack: Any, stack_module: Any) -> float:
    """The MLflow server `make serve` also runs (a UI: every process writes the store itself),
    with the same options as `mlcanvas.stack.serve`; seconds to healthy."""
    mlruns = Path(stack.env["MLCANVAS_MLRUNS_DIR"])
    mlruns.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{mlruns / 'mlflow.db'}"
    port = stack_module.free_port()
    stack.env.update(MLFLOW_SERVER_ENV)
    started = time.perf_counter()
    argv = mlflow_server_argv(store, (mlruns / "artifacts").as_uri(), "127.0.0.1", port)
    stack._spawn("mlflow", argv)
    url = f"http://127.0.0.1:{port}/health"
    stack_module.wait_until(
        lambda: httpx.get(url, timeout=1).status_code == 200, 180, "MLflow server"
    )
    return time.perf_counter() - started


def stop_everything(stack: Any) -> None:
    """SIGTERM each part's process group, then SIGKILL by PID whatever of its tree survived."""
    tree = [p for procs in stack_processes(stack).values() for p in procs]
    for name in ("mlflow", "api", "executor", "prefect"):
        try:
            stack.stop(name)
        except OSError:
            log.warning("could not stop %s", name, exc_info=True)
    for proc in tree:
        try:
            if proc.is_running():
                log.warning("killing leftover pid %d (%s)", proc.pid, describe(proc))
                proc.kill()
        except psutil.Error:
            pass
