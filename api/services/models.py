"""Trained models loaded from job bundles, cached in the API process (bounded LRU).

Only files of our own store are loaded: NN weights with `weights_only=True` into a module
rebuilt from graph.json; RF pickles only when their digest matches metadata.json.

torch and scikit-learn are imported by the first load of a model of their kind, not at
start-up: an idle API needs neither (bench/api_memory.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcanvas.errors import NotFoundError, NotReadyError
from mlcanvas.graph import NNGraph
from mlcanvas.inference.nn_infer import predict, prepare_inputs
from mlcanvas.jobs.bundle import ARTIFACT, FILES, read_json
from mlcanvas.jobs.nn_prepare import compile_nn
from mlcanvas.rf.infer import predict_rows

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LoadedNN:
    module: torch.nn.Module
    input_shape: list[int]


class ModelCache:
    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, float], Any] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, path: Path, load: Any) -> Any:
        key = (str(path), path.stat().st_mtime)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = load()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def has(self, path: Path) -> bool:
        """Whether the model file at `path` is loaded, as it is on disk now."""
        try:
            key = (str(path), path.stat().st_mtime)
        except FileNotFoundError:
            return False
        with self._lock:
            return key in self._entries

    def nn(self, folder: Path) -> LoadedNN:
        weights = folder / ARTIFACT["nn"]

        def load() -> LoadedNN:
            import_torch_for_serving()
            from mlcanvas.compile.weights_io import load_state_dict

            graph = NNGraph.model_validate(read_json(folder / FILES["graph"]))
            prepared = compile_nn(graph)
            return LoadedNN(load_state_dict(prepared.layers, weights), prepared.input_shape)

        return self._get(weights, load)

    def rf(self, folder: Path) -> dict[str, Any]:
        path = folder / ARTIFACT["rf"]
        metadata = read_json(folder / FILES["metadata"])
        digest = metadata.get("artifact_sha256")
        if not digest:
            raise NotFoundError("No trained RF model available for this job")

        def load() -> dict[str, Any]:
            from mlcanvas.rf.artifact import load_rf_artifact

            return load_rf_artifact(path, expected_sha256=digest)

        return self._get(path, load)


@cache
def import_torch_for_serving() -> None:
    """Import torch with one intra-op thread, before the API's first torch op, so every
    thread that later runs one starts with that setting (docs/benchmarks.md, Serving):
    inference requests are small and already overlap with the event loop; more OpenMP
    threads only competed with it for the CPU."""
    import torch

    torch.set_num_threads(1)


def infer_nn(
    cache: ModelCache,
    folder: Path,
    inputs: Any,
    *,
    return_probabilities: bool,
    status: str,
    what: str = "model",
) -> dict[str, Any]:
    """Runs in a worker thread: the whole batch is one forward pass."""
    if not (folder / ARTIFACT["nn"]).exists():
        raise NotReadyError(f"No trained model available for this job (status: {status})")
    loaded = cache.nn(folder)
    x = prepare_inputs(inputs, loaded.input_shape, what=what)
    return predict(loaded.module, x, return_probabilities=return_probabilities)


def infer_rf(
    cache: ModelCache, folder: Path, inputs: Any, *, return_probabilities: bool
) -> dict[str, Any]:
    if not (folder / ARTIFACT["rf"]).exists():
        raise NotReadyError("No trained RF model available for this job")
    return predict_rows(cache.rf(folder), inputs, return_probabilities=return_probabilities)
