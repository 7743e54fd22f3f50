"""`model.pt` on disk: a plain CPU state_dict with `layers.<i>.*` keys, loaded strictly.

Old backend bugs this guards against (contract §12.6, §12.8): keys that did not match the
module layout, and torch.compile's `_orig_mod.` prefix that made the strict load fail.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mlcanvas.compile.module import GeneratedModel, build_module
from mlcanvas.errors import ConflictError, NotFoundError
from mlcanvas.graph.layers import LayerSpec

logger = logging.getLogger(__name__)

_COMPILED_PREFIX = "_orig_mod."


def save_state_dict(module: nn.Module | Mapping[str, torch.Tensor], path: Path | str) -> None:
    """Write the weights atomically: readers see the old file or the whole new one, never half.

    Accepts a module (compiled or not) or a state_dict already in hand (e.g. from a remote
    worker); keys lose any `_orig_mod.` prefix and tensors are detached copies on CPU.
    """
    target = Path(path)
    state = module.state_dict() if isinstance(module, nn.Module) else module
    cleaned = {_strip_compiled_prefix(key): value.detach().cpu() for key, value in state.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(cleaned, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.info("Saved %d weight tensors to %s", len(cleaned), target)


def load_state_dict(layers: list[LayerSpec], path: Path | str) -> GeneratedModel:
    """Rebuild the network from its layers and load `path` strictly, in eval mode, on CPU.

    Raises NotFoundError when the file is missing and ConflictError when it cannot be read
    or its keys/shapes do not fit the layers (the graph and the weights disagree).
    """
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No .pt artifact found at {source.name}", artifact=source.name)
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except (RuntimeError, ValueError, EOFError, OSError, pickle.UnpicklingError) as exc:
        raise ConflictError(
            f"Saved weights could not be read: {_one_line(exc)}", artifact=source.name
        ) from exc
    if not isinstance(state, Mapping):
        raise ConflictError("Saved weights are not a state_dict", artifact=source.name)
    model = build_module(layers)
    expected = set(model.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(str(key) for key in set(state) - expected)
    if missing or unexpected:
        raise ConflictError(
            "Saved weights do not fit the model graph",
            artifact=source.name,
            missing_keys=missing,
            unexpected_keys=unexpected,
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # same keys, different tensor shapes
        raise ConflictError(
            f"Saved weights do not fit the model graph: {_one_line(exc)}", artifact=source.name
        ) from exc
    return model.eval()


def _strip_compiled_prefix(key: str) -> str:
    # torch.compile wraps the module as `_orig_mod`; nested compiles stack the prefix.
    while key.startswith(_COMPILED_PREFIX):
        key = key[len(_COMPILED_PREFIX) :]
    return key


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
