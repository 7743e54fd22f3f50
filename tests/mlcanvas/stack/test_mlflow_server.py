"""Our MLflow entry point: the stack's MLflow server is one process, MLflow's own uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from mlcanvas.stack.serve import MLFLOW_SERVER_ENV, mlflow_server_argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mlflow_server_runs_as_one_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    argv = mlflow_server_argv(store, (tmp_path / "artifacts").as_uri(), "127.0.0.1", port)
    server = subprocess.Popen(
        argv,
        env={**os.environ, **MLFLOW_SERVER_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "the MLflow server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the MLflow server never answered /health"
            time.sleep(0.5)
        process = psutil.Process(server.pid)
        assert process.cmdline()[1:3] == ["-m", "uvicorn"]  # the started PID became the server
        assert "mlflow.server.fastapi_app:app" in process.cmdline()
        assert process.children(recursive=True) == []
        experiments = httpx.get(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search",
            params={"max_results": 10},
            timeout=10,
        )
        assert experiments.status_code == 200  # on the store it was given
        assert (tmp_path / "mlflow.db").exists()

        server.send_signal(signal.SIGTERM)  # uvicorn shuts down, then re-raises the signal
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
