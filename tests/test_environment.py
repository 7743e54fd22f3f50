"""The environment `make` builds (pyproject.toml, Makefile): what the warm forkserver's memory
depends on."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_triton_is_left_out_so_the_optimizer_warm_up_does_not_map_it() -> None:
    """pyproject.toml overrides torch's triton requirement away: torch's optimizers import
    torch._dynamo, which imports triton (~70 MiB resident) whenever it is installed."""
    import importlib.util

    assert importlib.util.find_spec("triton") is None


def _make_dry_run(*args: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", "setup", *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_make_installs_the_cpu_torch_build_where_the_machine_keeps_its_wheel() -> None:
    """The CUDA build loads its CUDA libraries at import, GPU or not: ~300 MiB more in the
    warm forkserver. Machines of this project's kind (CI's too) keep the CPU-only wheel."""
    has_cpu_wheel = any(Path("/opt/wheels").glob("torch-2.13.0+cpu-*.whl"))
    assert f"--extra {'cpu' if has_cpu_wheel else 'cuda'}" in _make_dry_run()
    assert "--extra cuda" in _make_dry_run("TORCH=cuda")
