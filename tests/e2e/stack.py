"""The real stack for e2e tests: Prefect server, executor (worker + forkserver) and API,
each a child process on a free 127.0.0.1 port, started once per session, stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mlcanvas.stack.serve import EMBEDDED_PREFECT_ENV, prefect_server_argv

ROOT = Path(__file__).resolve().parents[2]

Stream = tuple[list[dict[str, Any]], int | None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    api_port: int
    prefect_port: int
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.api_port}"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["MLCANVAS_DATA_DIR"])

    def read_stream(self, path: str, timeout: float = 180, until: str | None = None) -> Stream:
        """Messages of the websocket at `path` (e.g. /ws/training/<job_id>) until the server
        closes (or the first of type `until`), and the close code (None when `until` stopped)."""
        messages = []
        deadline = time.monotonic() + timeout
        with connect(f"{self.ws}{path}", open_timeout=30) as ws:
            try:
                while True:
                    remaining = max(0.1, deadline - time.monotonic())
                    messages.append(json.loads(ws.recv(timeout=remaining)))
                    if messages[-1]["type"] == until:
                        break
            except ConnectionClosed:
                pass
            return messages, ws.close_code

    def wait_status(
        self, family: str, job_id: str, wanted: set[str], timeout: float = 180
    ) -> dict[str, Any]:
        """Polls GET /api/<family>/status (family "model" or "rf") until the job's status is
        one of `wanted`; an API that is down (being restarted) just counts as no status yet."""
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                reply = httpx.get(
                    f"{self.api}/api/{family}/status", params={"job_id": job_id}, timeout=60
                )
                body = reply.json()
            except httpx.TransportError:
                body = {}
            if body.get("status") in wanted:
                return body
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} never reached {wanted}: {body}")

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_prefect(self) -> None:
        self._spawn("prefect", prefect_server_argv("127.0.0.1", self.prefect_port))
        url = f"http://127.0.0.1:{self.prefect_port}/api/health"
        wait_until(lambda: httpx.get(url, timeout=1).status_code == 200, 90, "Prefect server")

    def start_executor(self, wait: bool = True) -> None:
        self._spawn("executor", [sys.executable, "-m", "flows.executor"])
        if wait:
            self.wait_executor()

    def wait_executor(self) -> None:
        sock = self.data_dir / "run" / "forkserver.sock"

        def ready() -> bool:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(sock))
            return True

        wait_until(ready, 240, "executor forkserver")

    def start_executor_and_api(self) -> None:
        """Both import torch & co.; starting them together halves the wait."""
        self.start_executor(wait=False)
        self.start_api()
        self.wait_executor()

    def start_api(self) -> None:
        self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.api_port),
            ],
        )
        wait_until(
            lambda: httpx.get(f"{self.api}/api/health", timeout=2).json()["dependencies"][
                "executor"
            ]["ok"],
            120,
            "API",
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in ("api", "executor", "prefect"):
            self.stop(name)


def make_stack(tmp: Path) -> Stack:
    prefect_port = free_port()
    data = tmp / "data"
    logs = tmp / "logs"
    logs.mkdir(parents=True)
    env = {
        **os.environ,
        "MLCANVAS_DATA_DIR": str(data),
        "MLCANVAS_MLRUNS_DIR": str(tmp / "mlruns"),
        "MLCANVAS_PREFECT_PORT": str(prefect_port),
        "MLCANVAS_WORK_POOL": "mlcanvas-test",
        "MLCANVAS_WORKER_POLL_SECONDS": "0.5",
        "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp / 'prefect.db'}",
        "PREFECT_SERVER_UI_ENABLED": "false",
        **EMBEDDED_PREFECT_ENV,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "KAGGLE_CONFIG_DIR": str(tmp / "kaggle"),
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("KAGGLE_USERNAME", "KAGGLE_KEY", "MLCANVAS_PREFECT_API_URL"):
        env.pop(key, None)
    return Stack(tmp=tmp, env=env, api_port=free_port(), prefect_port=prefect_port, logs=logs)
