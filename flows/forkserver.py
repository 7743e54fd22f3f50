"""Warm forkserver: imports torch/sklearn/mlflow/prefect and our flows once, then forks a
child per flow run that runs Prefect's own engine (`python -m prefect.engine` semantics).

A fresh interpreter per run costs ~8 s of imports plus ~3.6 s for torch's lazy first
optimizer step on this machine; a forked warm child starts training in well under a second.
Prefect still owns the run: states, task runs, logs, cancel and crash reporting are its own.

The server is single-threaded (fork from a multi-threaded process is unsafe); the warm-up
step runs with one intra-op thread so no OpenMP pool exists before fork.

usage: python -m flows.forkserver SOCKET_PATH
"""

from __future__ import annotations

import ctypes
import importlib
import json
import logging
import os
import selectors
import signal
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import NoReturn

from mlcanvas.settings import Settings

log = logging.getLogger("mlcanvas.forkserver")

PR_SET_PDEATHSIG = 1
_MAX_FDS = 3


RUN_IMPORTS = (
    "alembic.command",
    "anyio._backends._asyncio",
    "git",
    "graphviz",
    "mlflow.models.display_utils",
    "mlflow.pyfunc",
    "mlflow.store.db.utils",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    "mlflow.tracing.export.utils",
    "mlflow.tracing.processor.base_mlflow",
    "mlflow.tracing.processor.otel",
    "mlflow.utils.crypto",
    "prefect.concurrency.asyncio",
    "prefect.concurrency.sync",
    "prefect.deployments.steps.core",
    "prefect.deployments.steps.pull",
    "prefect.runner",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "sklearn.datasets",
    "sqlalchemy.dialects.sqlite",
    "sqlite3",
    "torch.utils.serialization",
)
"""What a run imported after the fork when only the flows were preloaded: 479 modules (the
MLflow sqlite store with alembic and SQLAlchemy, GitPython for source tags, tracing, Prefect's
runner and deployment steps). Found by diffing `sys.modules` around one run; a one-epoch digits
run then took 3.8 s of CPU, 1.0-1.4 s with these preloaded (+45 MiB in the forkserver). A name
that no longer exists is skipped."""


def warm_up() -> None:
    """Import and exercise everything a run needs, so children start hot."""
    started = time.perf_counter()
    for name in RUN_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            log.warning("warm-up: %s not importable; runs will import what they need", name)
    import mlflow  # noqa: F401
    import mlflow.pytorch  # noqa: F401
    import mlflow.sklearn  # noqa: F401
    import pandas  # noqa: F401
    import prefect.engine  # noqa: F401
    import prefect.flow_engine  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import torch

    import flows.train_nn  # noqa: F401
    import flows.train_rf  # noqa: F401

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.Adam(model.parameters())
    loss = torch.nn.functional.cross_entropy(model(torch.zeros(2, 4)), torch.tensor([0, 1]))
    loss.backward()
    optimizer.step()
    os.environ["MLCANVAS_CHILD_THREADS"] = str(threads)
    log.info("forkserver warm in %.1f s", time.perf_counter() - started)


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, _MAX_FDS)
    if not data:
        raise EOFError("probe")  # a readiness probe connects and closes
    if len(data) < 8:
        raise ConnectionError("short request")
    size = int.from_bytes(data[:8], "big")
    body = data[8:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("request cut off")
        body += chunk
    return json.loads(body), list(fds)


def take_over(request: dict, fds: list[int]) -> None:
    """In the forked child: take the launcher's stdio, environment and directory, die with the
    forkserver, and drop to the training niceness before any thread exists (threads inherit
    it), so training yields the CPU to the API and Prefect server on this machine."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    os.nice(Settings().training_nice)


def _run_child(request: dict, fds: list[int]) -> NoReturn:
    """In the forked child: become the flow-run process. Never returns."""
    code = 1
    try:
        take_over(request, fds)
        import runpy

        import torch

        torch.set_num_threads(int(os.environ.get("MLCANVAS_CHILD_THREADS", "0")) or 1)
        sys.argv = ["prefect.engine"]  # the engine reads a run id from argv[1] if present
        warnings.filterwarnings(
            "ignore", message=".*found in sys.modules.*", category=RuntimeWarning
        )
        try:
            runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


ChildRunner = Callable[[dict, list[int]], NoReturn]


class ForkServer:
    """Single-threaded accept/fork/reap loop. `run_child` is what a forked child becomes
    (Prefect's engine); tests inject a small function so the protocol runs without Prefect."""

    def __init__(self, path: str, run_child: ChildRunner = _run_child) -> None:
        self.path = path
        self.run_child = run_child
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}
        self.grace: dict[int, float] = {}
        self.deadlines: dict[int, tuple[float, int]] = {}
        if os.path.exists(path):
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self._inode = os.stat(path).st_ino
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.running = True

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log.info("forkserver listening on %s", self.path)
        while self.running:
            for key, _mask in self.selector.select(timeout=0.05):
                if key.data == "accept":
                    self._accept()
                else:
                    self._launcher_closed(key.fileobj, key.data)  # type: ignore[arg-type]
            self._reap()
            self._enforce_deadlines()
        self._shutdown()

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            request, fds = _recv_request(conn)
        except EOFError:
            conn.close()
            return
        except (OSError, ValueError) as exc:
            log.warning("bad launcher request: %s", exc)
            conn.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self.listener.close()
            conn.close()  # the launcher must see EOF when the forkserver, not the child, dies
            for other in self.children.values():
                other.close()
            self.run_child(request, fds)
        for fd in fds:
            os.close(fd)
        run_id = request["env"].get("PREFECT__FLOW_RUN_ID", "?")
        log.info("forked pid %d for flow run %s", pid, run_id)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        self.children[pid] = conn
        self.grace[pid] = float(request.get("grace", 30.0))
        self.selector.register(conn, selectors.EVENT_READ, pid)

    def _launcher_closed(self, conn: socket.socket, pid: int) -> None:
        """The launcher went away (killed by its worker on a cancel): the child gets the grace
        period to notice the cancel and save, then SIGTERM, then SIGKILL."""
        try:
            data = conn.recv(1)
        except OSError:
            data = b""
        if data:
            return
        self.selector.unregister(conn)
        grace = self.grace.get(pid, 30.0)
        log.warning("launcher of pid %d is gone; terminating it in %.0f s", pid, grace)
        self.deadlines[pid] = (time.monotonic() + grace, signal.SIGTERM)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for pid, (deadline, sig) in list(self.deadlines.items()):
            if now < deadline:
                continue
            if pid not in self.children:
                del self.deadlines[pid]
                continue
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                del self.deadlines[pid]
                continue
            self.deadlines[pid] = (now + 5.0, signal.SIGKILL)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code
            conn = self.children.pop(pid, None)
            self.grace.pop(pid, None)
            self.deadlines.pop(pid, None)
            if conn is None:
                continue
            try:
                self.selector.unregister(conn)
            except (KeyError, ValueError):
                pass
            try:
                conn.sendall(json.dumps({"exit_code": code}).encode() + b"\n")
            except OSError:
                pass
            conn.close()

    def _stop(self, _signum: int, _frame: object) -> None:
        self.running = False

    def _shutdown(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        self.listener.close()
        try:  # a newer forkserver may own the path by now: only remove our own socket
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        except FileNotFoundError:
            pass


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Prefect call otherwise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "setup plugin" lines at warm-up
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    path = sys.argv[1]
    warm_up()
    server = ForkServer(path)
    server.serve()


if __name__ == "__main__":
    main()
