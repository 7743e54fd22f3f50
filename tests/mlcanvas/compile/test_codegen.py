from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import Tensor

from mlcanvas.compile.codegen import generate_source
from mlcanvas.compile.module import build_module
from mlcanvas.compile.weights_io import save_state_dict
from mlcanvas.graph.layers import LayerSpec

# In each folder given: imports the generated model.py, strictly loads model.pt, saves the
# logits of batch.pt, then runs the file as a script. One interpreter for all folders keeps the
# test fast; it fails if anything of ours was imported on the way.
_ROUND_TRIP_SCRIPT = textwrap.dedent(
    """
    import importlib
    import os
    import runpy
    import sys

    import torch

    for folder in sys.argv[1:]:
        os.chdir(folder)
        sys.modules.pop("model", None)
        importlib.invalidate_caches()
        model = importlib.import_module("model")
        net = model.load_model("model.pt")
        assert not net.training
        batch = torch.load("batch.pt", weights_only=True)
        with torch.inference_mode():
            torch.save(net(batch), "logits.pt")
        runpy.run_path("model.py", run_name="__main__")
    assert not [name for name in sys.modules if name.startswith("mlcanvas")]
    """
)


def _write_bundle(layers: list[LayerSpec], batch_shape: tuple[int, ...], folder: Path) -> Tensor:
    """model.py, model.pt and batch.pt in `folder`; returns the compiled module's logits."""
    folder.mkdir()
    torch.manual_seed(1234)
    compiled = build_module(layers).eval()
    batch = torch.rand(batch_shape)
    with torch.inference_mode():
        expected = compiled(batch)
    save_state_dict(compiled, folder / "model.pt")
    torch.save(batch, folder / "batch.pt")
    source = generate_source(layers, input_shape=list(layers[0].output_shape))
    (folder / "model.py").write_text(source, encoding="utf-8")
    return expected


def test_generated_source_strictly_loads_saved_weights_in_a_fresh_interpreter(
    mnist_layers: list[LayerSpec], mixed_layers: list[LayerSpec], tmp_path: Path
) -> None:
    mnist_logits = _write_bundle(mnist_layers, (4, 1, 28, 28), tmp_path / "mnist")
    mixed_logits = _write_bundle(mixed_layers, (5, 1, 8, 8), tmp_path / "mixed")

    result = subprocess.run(
        [sys.executable, "-c", _ROUND_TRIP_SCRIPT, "mnist", "../mixed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    mnist_reloaded = torch.load(tmp_path / "mnist" / "logits.pt", weights_only=True)
    mixed_reloaded = torch.load(tmp_path / "mixed" / "logits.pt", weights_only=True)
    assert mnist_reloaded.shape == (4, 10)
    assert torch.equal(mnist_reloaded, mnist_logits)
    assert torch.equal(mixed_reloaded, mixed_logits)
    assert result.stdout.splitlines() == ["logits shape: (1, 10)", "logits shape: (1, 10)"]


def test_generation_is_byte_deterministic(mixed_layers: list[LayerSpec]) -> None:
    rebuilt = [LayerSpec(**vars(spec)) for spec in mixed_layers]

    first = generate_source(mixed_layers, input_shape=[1, 8, 8])

    assert first == generate_source(rebuilt, input_shape=(1, 8, 8))
    assert first.encode() == generate_source(mixed_layers, input_shape=[1, 8, 8]).encode()


def test_source_has_one_commented_line_per_module(mnist_layers: list[LayerSpec]) -> None:
    source = generate_source(mnist_layers, input_shape=[1, 28, 28])

    assert "class GeneratedModel(nn.Module):" in source
    assert "INPUT_SHAPE = (1, 28, 28)  # node_1 (Input)\n" in source
    assert "        nn.Flatten(),  # 0: node_2 (Flatten)\n" in source
    assert "        nn.Linear(784, 64),  # 1: node_3 (Dense)\n" in source
    assert "        nn.ReLU(),  # 2: node_3 (Dense)\n" in source
    assert "        nn.Linear(64, 10),  # 3: node_4 (Output)\n" in source
    assert 'torch.load(path, map_location="cpu", weights_only=True)' in source
    assert "model.load_state_dict(state_dict, strict=True)" in source


def test_source_imports_only_torch_and_the_standard_library(
    mixed_layers: list[LayerSpec],
) -> None:
    tree = ast.parse(generate_source(mixed_layers, input_shape=[1, 8, 8]))

    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"__future__", "pathlib", "torch"}


def test_hostile_node_ids_stay_inside_comments_and_lines_stay_short(tmp_path: Path) -> None:
    sneaky = "x\nimport os; os.remove('model.pt')\r\u2028" + "y" * 200
    layers = [
        LayerSpec("é-input", "Input", None, (6,)),
        LayerSpec(sneaky, "Dense", (6,), (3,), units=3, activation="tanh"),
        LayerSpec("o" * 100, "Output", (3,), (2,), units=2, activation="none"),
    ]

    source = generate_source(layers, input_shape=[6])

    assert source.isascii()
    assert max(len(line) for line in source.splitlines()) <= 88
    tree = ast.parse(source)
    top_level = [type(node).__name__ for node in tree.body]
    assert top_level.count("Import") + top_level.count("ImportFrom") == 4
    assert "\\n" in source and "os.remove" in source  # shown escaped, in a comment


def test_generated_source_passes_ruff(mixed_layers: list[LayerSpec], tmp_path: Path) -> None:
    target = tmp_path / "model.py"
    target.write_text(generate_source(mixed_layers, input_shape=[1, 8, 8]), encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff"]

    lint = subprocess.run(
        [*ruff, "check", "--isolated", "--select", "E,F,I,B,UP,T20", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    fmt = subprocess.run(
        [*ruff, "format", "--isolated", "--check", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert lint.returncode == 0, lint.stdout
    assert fmt.returncode == 0, fmt.stdout


def test_input_shape_must_match_the_input_layer(mnist_layers: list[LayerSpec]) -> None:
    with pytest.raises(ValueError, match="differs from Input"):
        generate_source(mnist_layers, input_shape=[1, 8, 8])
