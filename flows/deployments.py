"""Registers the work pool and the `train-nn` / `train-rf` deployments (idempotent).

The deployments' job command hands each run to the warm forkserver through the stdlib launcher;
the same deployments run unchanged on any standard Prefect worker if the command is overridden.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.exceptions import ObjectAlreadyExists
from prefect.workers.process import ProcessWorker

from mlcanvas.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FLOWS = {
    "train-nn": (
        "flows/train_nn.py",
        "train_nn",
        "Train a canvas neural network; tracked in MLflow.",
    ),
    "train-rf": ("flows/train_rf.py", "train_rf", "Grow a canvas random forest with progress."),
}
# Written out rather than derived from the flow functions, so registering does not import
# torch & co. into the executor's supervisor (~700 MiB and ~20 s here).
PARAMETER_SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "graph": {
            "title": "graph",
            "type": "object",
            "description": "The canvas graph JSON: nodes, edges, training (contract §2/§6).",
            "position": 0,
        }
    },
    "required": ["graph"],
}


def launcher_command(settings: Settings) -> str:
    return shlex.join(
        [
            sys.executable,
            "-I",
            "-S",
            str(ROOT / "flows" / "launcher.py"),
            str(settings.forkserver_socket),
            str(settings.cancel_grace_seconds),
        ]
    )


JOB_VARIABLES = ("command", "working_dir")


def job_variables(settings: Settings) -> dict[str, str]:
    return {"command": launcher_command(settings), "working_dir": str(ROOT)}


def base_job_template() -> dict[str, Any]:
    """The process worker's default template cut to the job variables our deployments set.

    Prefect's server checks the pool's variables schema, and the run's variables against it,
    with jsonschema on every flow-run creation: ~20 ms of each POST /train here with the
    default six variables, ~7 ms with these two. Other fields keep the worker's defaults.
    """
    default = ProcessWorker.get_default_base_job_template()
    variables = default["variables"]
    return {
        "job_configuration": {key: default["job_configuration"][key] for key in JOB_VARIABLES},
        "variables": {
            **variables,
            "properties": {key: variables["properties"][key] for key in JOB_VARIABLES},
        },
    }


async def ensure_work_pool(client: PrefectClient, settings: Settings) -> None:
    """Create the pool, or give an existing one (an older data dir) today's template."""
    template = base_job_template()
    try:
        await client.create_work_pool(
            WorkPoolCreate(name=settings.work_pool, type="process", base_job_template=template)
        )
    except ObjectAlreadyExists:
        await client.update_work_pool(
            settings.work_pool, WorkPoolUpdate(base_job_template=template)
        )


async def register_deployments(client: PrefectClient, settings: Settings) -> dict[str, UUID]:
    """Create or update both deployments; returns {flow name: deployment id}."""
    await ensure_work_pool(client, settings)
    ids: dict[str, UUID] = {}
    for name, (path, func, description) in FLOWS.items():
        flow_id = await client.create_flow_from_name(name)
        ids[name] = await client.create_deployment(
            flow_id=flow_id,
            name=name,
            work_pool_name=settings.work_pool,
            entrypoint=f"{path}:{func}",
            path=str(ROOT),
            pull_steps=[
                {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
            ],
            job_variables=job_variables(settings),
            parameter_openapi_schema=PARAMETER_SCHEMA,
            description=description,
            tags=["mlcanvas"],
            enforce_parameter_schema=False,
        )
    return ids
