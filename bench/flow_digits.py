"""Time `digits` end to end through the `train-nn` flow on a running executor, and say where
the time goes. Needs a Prefect server and `mlcanvas executor` (e.g. `make serve`).

usage: uv run python bench/flow_digits.py [EPOCHS] [RUNS]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from prefect.client.orchestration import get_client

from mlcanvas.jobs.event_log import get_event_log
from mlcanvas.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


def import_cost() -> float:
    code = "import torch, sklearn.ensemble, mlflow, prefect, pandas, flows.train_nn"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - started


async def one_run(graph: dict) -> dict[str, float]:
    events = get_event_log(get_settings().events_url)
    async with get_client() as client:
        deployment = await client.read_deployment_by_name("train-nn/train-nn")
        t0 = time.time()
        run = await client.create_flow_run_from_deployment(
            deployment.id, parameters={"graph": graph}
        )
        while True:
            state = (await client.read_flow_run(run.id)).state
            if state and state.is_final():
                break
            await asyncio.sleep(0.1)
        done = time.time()
        history = await client.read_flow_run_states(run.id)
    job = {e.type: e.created_at for e in reversed(events.read(run.id.hex))}
    first = min(e.created_at for e in events.read(run.id.hex) if e.type == "epoch_update")
    last = max(e.created_at for e in events.read(run.id.hex) if e.type == "epoch_update")
    running = next(s.timestamp.timestamp() for s in history if s.type.value == "RUNNING")
    return {
        "submit→Running (worker poll + launcher + fork)": running - t0,
        "Running→training_backend (validate, MLflow run queued)": job["training_backend"] - running,
        "→first epoch_update (dataset, compile, epoch 1)": first - job["training_backend"],
        "epochs 2..N": last - first,
        "last epoch→training_done (evaluate, model.pt, MLflow model + bundle)": job["training_done"]
        - last,
        "training_done→Completed (Prefect)": done - job["training_done"],
        "total": done - t0,
    }


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    graph = json.loads((ROOT / "examples" / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = epochs
    results = [asyncio.run(one_run(graph)) for _ in range(runs)]
    sys.stdout.write(f"digits, {epochs} epochs, {runs} runs (median seconds)\n")
    for key in results[0]:
        sys.stdout.write(f"  {key:<72} {statistics.median(r[key] for r in results):6.2f}\n")
    sys.stdout.write(f"  {'cold imports a fresh interpreter would pay':<72} {import_cost():6.2f}\n")


if __name__ == "__main__":
    main()
