"""Where deployment requests are served: small NN bodies batched on the event loop, large ones
and models not loaded yet on the worker thread, with the same replies.

A real digits MLP (random weights) in a job folder, deployed on a real sqlite MLflow store;
a forward hook on the loaded module tells which thread ran each forward pass.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import torch

from api.services.deploy_inference import MAX_BODY_BYTES_ON_LOOP, DeploymentInference
from api.services.models import LoadedNN, ModelCache
from mlcanvas.compile.module import build_module
from mlcanvas.compile.weights_io import save_state_dict
from mlcanvas.deployments.log_book import DeploymentLogBook
from mlcanvas.deployments.record import Deployment
from mlcanvas.deployments.registry import DeploymentRegistry
from mlcanvas.deployments.store import DeploymentStore
from mlcanvas.errors import InferenceInputError
from mlcanvas.graph import NNGraph
from mlcanvas.jobs.bundle import job_dir
from mlcanvas.jobs.nn_prepare import compile_nn
from mlcanvas.settings import Settings
from mlcanvas.tracking.models import log_torch_model
from mlcanvas.tracking.runs import start_job_run

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
JOB = "7" * 32


@dataclass(frozen=True)
class Deployed:
    settings: Settings
    store: DeploymentStore
    record: Deployment
    folder: Path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("deploy-inference")
    settings = Settings(data_dir=root / "data", mlruns_dir=root / "mlruns")
    graph = NNGraph.model_validate(json.loads((EXAMPLES / "digits_mlp.json").read_text()))
    folder = job_dir(settings, "nn", JOB)
    folder.mkdir(parents=True)
    (folder / "graph.json").write_text(json.dumps(graph.to_graph_json()))
    torch.manual_seed(0)
    module = build_module(compile_nn(graph).layers).eval()
    save_state_dict(module, folder / "model.pt")
    run_id = start_job_run(
        settings, kind="nn", job_id=JOB, flow_run_id=JOB, run_name="digits", params={}
    )
    log_torch_model(settings, run_id, module, input_shape=[1, 8, 8], num_classes=10)
    store = DeploymentStore(
        DeploymentRegistry(settings), DeploymentLogBook.for_url(settings.events_url)
    )
    record = store.create(job_id=JOB, kind="nn", name=None, target="local")
    yield Deployed(settings, store, record, folder)
    store.close()


class ThreadsOfLoads(ModelCache):
    """The real cache, noting which thread loaded each model."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded_on: list[int] = []

    def nn(self, folder: Path) -> LoadedNN:
        if not self.has(folder / "model.pt"):
            self.loaded_on.append(threading.get_ident())
        return super().nn(folder)


def watch_forwards(loaded: LoadedNN) -> list[tuple[int, int]]:
    """(thread id, rows) of every forward pass of the loaded module from now on."""
    seen: list[tuple[int, int]] = []
    loaded.module.register_forward_hook(
        lambda _module, args, _out: seen.append((threading.get_ident(), len(args[0])))
    )
    return seen


def body(rows: list[list[float]], **extra: Any) -> bytes:
    return orjson.dumps({"inputs": rows, **extra})


def random_rows(count: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.random() for _ in range(64)] for _ in range(count)]


def serve(deployed: Deployed, models: ModelCache, bodies: list[bytes]) -> tuple[list[Any], int]:
    """Concurrent calls on one event loop; the replies (or errors) and the loop's thread id."""
    inference = DeploymentInference(deployed.store, models, deployed.settings)

    async def main() -> list[Any]:
        calls = [inference.infer(deployed.record, b) for b in bodies]
        return await asyncio.gather(*calls, return_exceptions=True)

    try:
        replies = asyncio.run(main())
    finally:
        inference.close()
    return [r if isinstance(r, Exception) else orjson.loads(r) for r in replies], loop_thread()


def loop_thread() -> int:
    return threading.get_ident()  # asyncio.run runs its loop in the calling thread


def test_concurrent_small_requests_are_one_forward_pass_on_the_loop(deployed: Deployed) -> None:
    models = ModelCache()
    seen = watch_forwards(models.nn(deployed.folder))
    rows = [random_rows(1 + i % 3, seed=i) for i in range(16)]
    bodies = [body(r) for r in rows]
    bodies[5] = body([[0.0] * 63])  # a bad one fails alone

    replies, loop = serve(deployed, models, bodies)

    assert seen == [(loop, sum(len(r) for i, r in enumerate(rows) if i != 5))]
    assert isinstance(replies[5], InferenceInputError)
    for i, reply in enumerate(replies):
        if i != 5:
            assert reply["input_shape"] == [len(rows[i]), 1, 8, 8]
            assert reply["deployment_id"] == deployed.record.deployment_id


def test_a_model_not_loaded_yet_is_loaded_by_the_worker_then_served_on_the_loop(
    deployed: Deployed,
) -> None:
    models = ThreadsOfLoads()

    first, loop = serve(deployed, models, [body(random_rows(1, seed=1))])
    seen = watch_forwards(models.nn(deployed.folder))
    second, _ = serve(deployed, models, [body(random_rows(1, seed=1))])

    assert len(models.loaded_on) == 1 and models.loaded_on[0] != loop
    assert seen == [(loop, 1)]
    assert first == second


def test_large_bodies_are_served_by_the_worker_with_the_same_results(deployed: Deployed) -> None:
    models = ModelCache()
    seen = watch_forwards(models.nn(deployed.folder))
    rows = random_rows(200, seed=3)
    large = body(rows, return_probabilities=False)
    assert len(large) > MAX_BODY_BYTES_ON_LOOP
    pieces = [body(rows[i : i + 20], return_probabilities=False) for i in range(0, 200, 20)]

    [whole], loop = serve(deployed, models, [large])
    in_pieces, _ = serve(deployed, models, pieces)

    assert [thread for thread, _ in seen] == [seen[0][0], loop] and seen[0][0] != loop
    assert whole["predictions"] == [p for piece in in_pieces for p in piece["predictions"]]
    flat = [row for piece in in_pieces for row in piece["logits"]]
    for got, want in zip(whole["logits"], flat, strict=True):
        assert got == pytest.approx(want, abs=1e-5)
