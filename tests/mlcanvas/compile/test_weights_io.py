from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

from mlcanvas.compile.module import build_module
from mlcanvas.compile.weights_io import load_state_dict, save_state_dict
from mlcanvas.errors import ConflictError, NotFoundError
from mlcanvas.graph.layers import LayerSpec


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return list(a) == list(b) and all(torch.equal(a[key], b[key]) for key in a)


def test_save_then_load_gives_the_same_weights_in_eval_mode(
    mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    trained = build_module(mnist_layers)
    save_state_dict(trained, tmp_path / "model.pt")

    loaded = load_state_dict(mnist_layers, tmp_path / "model.pt")

    assert not loaded.training
    assert _same_weights(loaded.state_dict(), trained.state_dict())


def test_saved_file_is_a_plain_state_dict_with_layer_keys(
    mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    save_state_dict(build_module(mnist_layers), tmp_path / "model.pt")

    raw = torch.load(tmp_path / "model.pt", map_location="cpu", weights_only=True)

    assert list(raw) == ["layers.1.weight", "layers.1.bias", "layers.3.weight", "layers.3.bias"]
    assert all(tensor.device.type == "cpu" and not tensor.requires_grad for tensor in raw.values())


class _CompiledLayout(nn.Module):
    """Holds the model as `_orig_mod`, giving the key layout of torch.compile's wrapper
    (whose import alone costs seconds)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self._orig_mod = inner


def test_torch_compile_prefix_is_stripped(mnist_layers: list[LayerSpec], tmp_path: Path) -> None:
    plain = build_module(mnist_layers)
    compiled = _CompiledLayout(_CompiledLayout(plain))  # nested compiles stack the prefix
    assert all(key.startswith("_orig_mod._orig_mod.layers.") for key in compiled.state_dict())

    save_state_dict(compiled, tmp_path / "model.pt")
    loaded = load_state_dict(mnist_layers, tmp_path / "model.pt")

    assert _same_weights(loaded.state_dict(), plain.state_dict())


def test_a_state_dict_in_hand_is_saved_too(mnist_layers: list[LayerSpec], tmp_path: Path) -> None:
    weights = build_module(mnist_layers).state_dict()
    remote = OrderedDict((f"_orig_mod.{key}", value) for key, value in weights.items())

    save_state_dict(remote, tmp_path / "jobs" / "abc" / "model.pt")
    loaded = load_state_dict(mnist_layers, tmp_path / "jobs" / "abc" / "model.pt")

    assert _same_weights(loaded.state_dict(), weights)


def test_save_replaces_the_file_and_leaves_no_temporary_behind(
    mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    newer = build_module(mnist_layers)

    save_state_dict(newer, target)

    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
    assert _same_weights(load_state_dict(mnist_layers, target).state_dict(), newer.state_dict())


def test_a_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")

    with pytest.raises(AttributeError):
        save_state_dict({"layers.1.weight": "not a tensor"}, target)  # type: ignore[dict-item]

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_missing_file_is_not_found(mnist_layers: list[LayerSpec], tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No .pt artifact found"):
        load_state_dict(mnist_layers, tmp_path / "model.pt")


def test_weights_of_another_graph_are_a_conflict_naming_the_keys(
    mnist_layers: list[LayerSpec], mixed_layers: list[LayerSpec], tmp_path: Path
) -> None:
    save_state_dict(build_module(mixed_layers), tmp_path / "model.pt")

    with pytest.raises(ConflictError, match="do not fit the model graph") as caught:
        load_state_dict(mnist_layers, tmp_path / "model.pt")

    assert caught.value.extra["missing_keys"] == ["layers.3.bias", "layers.3.weight"]
    assert "layers.5.weight" in caught.value.extra["unexpected_keys"]


def test_same_keys_with_other_shapes_are_a_conflict(
    mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    wider = [
        *mnist_layers[:2],
        LayerSpec("node_3", "Dense", (784,), (32,), units=32, activation="relu"),
    ]
    wider.append(LayerSpec("node_4", "Output", (32,), (10,), units=10))
    save_state_dict(build_module(wider), tmp_path / "model.pt")

    with pytest.raises(ConflictError, match="size mismatch"):
        load_state_dict(mnist_layers, tmp_path / "model.pt")


@pytest.mark.parametrize(
    "payload",
    [b"not a torch file", pickle.dumps({"layers.1.weight": Path("x")}, protocol=2)],
    ids=["garbage", "pickled-object"],
)
def test_unreadable_or_unsafe_files_are_a_conflict(
    payload: bytes, mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    (tmp_path / "model.pt").write_bytes(payload)

    with pytest.raises(ConflictError, match="could not be read"):
        load_state_dict(mnist_layers, tmp_path / "model.pt")


def test_a_file_holding_something_else_is_a_conflict(
    mnist_layers: list[LayerSpec], tmp_path: Path
) -> None:
    torch.save(torch.zeros(3), tmp_path / "model.pt")

    with pytest.raises(ConflictError, match="not a state_dict"):
        load_state_dict(mnist_layers, tmp_path / "model.pt")


def test_errors_pickle_with_their_fields(mnist_layers: list[LayerSpec], tmp_path: Path) -> None:
    save_state_dict(build_module(mnist_layers[:2]), tmp_path / "model.pt")

    with pytest.raises(ConflictError) as caught:
        load_state_dict(mnist_layers, tmp_path / "model.pt")

    clone = pickle.loads(pickle.dumps(caught.value))
    assert clone.to_detail() == caught.value.to_detail()
