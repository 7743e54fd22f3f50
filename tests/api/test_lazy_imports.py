"""The idle API imports none of torch, MLflow, scikit-learn, pandas (~700 MiB of RSS between
them, bench/api_memory.py); they load with the first model or deployment write that needs them.

Each check runs in a fresh interpreter: this test process has imported them all long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY_MODULES = ["torch", "mlflow", "sklearn", "pandas"]

START_UP_AND_CANVAS_CALLS = """
import asyncio, json, sys
from pathlib import Path

import httpx

from api.app import create_app
from mlcanvas.settings import Settings

HEAVY = {heavy!r}
examples = Path({examples!r})
settings = Settings(data_dir={data!r}, mlruns_dir={mlruns!r}, prefect_port=1)
loaded = {{}}


def record(stage):
    loaded[stage] = [name for name in HEAVY if name in sys.modules]


async def main():
    app = create_app(settings)
    record("create_app")
    async with app.router.lifespan_context(app):
        record("lifespan start-up")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for path in ("/api/datasets", "/api/rf/datasets"):
                (await client.get(path)).raise_for_status()
            for path, example in [
                ("/api/model/validate", "digits_mlp.json"),
                ("/api/model/compile", "digits_mlp.json"),
                ("/api/rf/validate", "iris_forest.json"),
                ("/api/rf/compile", "iris_forest.json"),
            ]:
                body = json.loads((examples / example).read_text())
                (await client.post(path, json=body)).raise_for_status()
        record("datasets, validate, compile")
    record("shutdown")


asyncio.run(main())
print(json.dumps(loaded))
"""

TORCH_FOR_SERVING = """
import threading

import torch

from api.services.models import import_torch_for_serving

import_torch_for_serving()
seen = []
worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
worker.start()
worker.join()
print(torch.get_num_threads(), seen[0])
"""


def run_python(source: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


def test_start_up_and_canvas_calls_import_no_heavy_library(tmp_path: Path) -> None:
    source = START_UP_AND_CANVAS_CALLS.format(
        heavy=HEAVY_MODULES,
        examples=str(Path(__file__).resolve().parents[2] / "examples"),
        data=str(tmp_path / "data"),
        mlruns=str(tmp_path / "mlruns"),
    )
    loaded = json.loads(run_python(source))
    assert loaded == {
        "create_app": [],
        "lifespan start-up": [],
        "datasets, validate, compile": [],
        "shutdown": [],
    }


def test_torch_comes_with_one_intra_op_thread_for_every_thread() -> None:
    """The inference worker and the thread pool start after torch is imported."""
    assert run_python(TORCH_FOR_SERVING) == "1 1"
