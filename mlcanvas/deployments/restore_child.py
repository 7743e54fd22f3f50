"""Deployment records restored by a short-lived child process, so the caller never imports MLflow.

The API reads every record back at start-up (running ones come back stopped, with their log
entry), and from then on answers lists and status from memory. Reading the registry needs
MLflow, which would stay in the API process for its whole life (~160 MiB RSS, bench/api_memory.py)
for one read. The child (`python -m mlcanvas.deployments.restore_child`) runs
`DeploymentStore.restore` with the caller's settings (JSON on stdin), prints the records as one
JSON line and exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback

from mlcanvas.deployments.record import Deployment
from mlcanvas.deployments.store import DeploymentStore
from mlcanvas.errors import DependencyUnavailableError
from mlcanvas.settings import Settings

RESTORE_TIMEOUT_SECONDS = 120.0


def restore_in_child(settings: Settings) -> list[Deployment]:
    """Every record, as `DeploymentStore.restore` left them; DependencyUnavailableError when
    the child failed (MLflow unreachable, a broken store), with the child's last error line."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mlcanvas.deployments.restore_child"],
            input=settings.model_dump_json(),
            capture_output=True,
            text=True,
            timeout=RESTORE_TIMEOUT_SECONDS,
            env=settings.child_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise DependencyUnavailableError(
            f"Restoring deployments took more than {RESTORE_TIMEOUT_SECONDS:.0f} s"
        ) from exc
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        raise DependencyUnavailableError(f"Restoring deployments failed: {why}")
    records = json.loads(done.stdout.strip().splitlines()[-1])
    return [Deployment.from_json(record) for record in records]


def main() -> None:
    settings = Settings.model_validate_json(sys.stdin.read())
    try:
        store = DeploymentStore.open(settings)
        store.restore()
    except Exception as exc:  # the traceback, then one line for the parent's error message
        traceback.print_exc()
        sys.stderr.write(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}\n")
        sys.exit(1)
    sys.stdout.write(json.dumps([record.to_json() for record in store.list()]) + "\n")


if __name__ == "__main__":
    main()
