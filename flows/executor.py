"""`mlcanvas executor`: register the work pool and deployments, start the warm forkserver and
a standard Prefect process worker, sweep dead runs, and keep both children alive.

usage: python -m flows.executor
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.deployments import register_deployments
from flows.sweeper import sweep_dead_runs
from mlcanvas.settings import Settings, get_settings
from mlcanvas.stack.supervisor import ChildSpec, Supervisor

log = logging.getLogger("mlcanvas.executor")


async def _register(settings: Settings) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            async with get_client() as client:
                await client.api_healthcheck()
                ids = await register_deployments(client, settings)
                swept = await sweep_dead_runs(client, settings)
            log.info("deployments registered: %s", ", ".join(ids))
            if swept:
                log.warning("reconciled %d dead run(s): %s", len(swept), ", ".join(swept))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def _sweep(settings: Settings) -> None:
    async with get_client() as client:
        await sweep_dead_runs(client, settings)


def _socket_ready(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    env = settings.child_env()
    os.environ.update(env)
    # Prefect read its settings at import; point this process at the stack's server too.
    with temporary_settings(updates={PREFECT_API_URL: settings.prefect_url}):
        _serve(settings, env)


def _serve(settings: Settings, env: dict[str, str]) -> None:
    sock = settings.forkserver_socket
    sock.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(_register(settings))

    supervisor = Supervisor(on_tick=lambda: asyncio.run(_sweep(settings)), tick_seconds=15)
    supervisor.install_signal_handlers()
    try:
        supervisor.start(
            ChildSpec(
                name="forkserver",
                argv=[sys.executable, "-m", "flows.forkserver", str(sock)],
                env=env,
                ready=lambda: _socket_ready(str(sock)),
                restart=True,
            )
        )
        worker_env = {
            **env,
            "PREFECT_WORKER_QUERY_SECONDS": str(settings.worker_poll_seconds),
            "PREFECT_WORKER_PREFETCH_SECONDS": "1",
        }
        supervisor.start(
            ChildSpec(
                name="worker",
                argv=[
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    settings.work_pool,
                    "--type",
                    "process",
                    "--name",
                    f"mlcanvas-{socket.gethostname()}",
                ],
                env=worker_env,
                restart=True,
            )
        )
        log.info("executor ready (pool %s, forkserver %s)", settings.work_pool, sock)
        supervisor.run()
    finally:
        supervisor.stop_all()


if __name__ == "__main__":
    main()
