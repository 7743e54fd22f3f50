"""Benchmark: one MNIST-sized epoch through our loop vs a bare torch loop vs a DataLoader loop.

    uv run python bench/train_loop.py [--repeats 5] [--device cpu|cuda]

Variants, all on one synthetic set (60,000 x 784 float32, 10 classes; 10,000 test rows),
MLP 784-128-10, batch 64, Adam lr 1e-3, one epoch, the same initial weights:

(a) bare: index device tensors with a `torch.randperm`; no metrics, no evaluation.
(b) DataLoader over a TensorDataset (shuffle=True) with per-batch `loss.item()` and accuracy
    `.item()`, as canvas backends typically do; it does not even evaluate the test split.
(c) `mlcanvas.training.train_model`: train metrics, test evaluation, weight summaries on.

Each variant runs once to warm up, then `--repeats` times interleaved (a, b, c, a, b, c...);
the table gives the medians. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlcanvas.datasets.tensors import TensorSplit
from mlcanvas.graph.training_config import TrainingConfig
from mlcanvas.training import pick_device, train_model

logger = logging.getLogger("bench.train_loop")

TRAIN_ROWS, TEST_ROWS, FEATURES, CLASSES = 60_000, 10_000, 784, 10
BATCH_SIZE, LEARNING_RATE = 64, 1e-3

Variant = Callable[[nn.Module, TensorSplit, torch.device], None]


def make_data() -> TensorSplit:
    """Random pixels in [0, 1) and random labels: shaped like MNIST, costs the same to train."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(TRAIN_ROWS + TEST_ROWS, FEATURES, generator=generator)
    y = torch.randint(0, CLASSES, (TRAIN_ROWS + TEST_ROWS,), generator=generator)
    return TensorSplit(x[:TRAIN_ROWS], y[:TRAIN_ROWS], x[TRAIN_ROWS:], y[TRAIN_ROWS:])


def build_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(FEATURES, 128), nn.ReLU(), nn.Linear(128, CLASSES))


def make_model(initial: dict[str, torch.Tensor], device: torch.device) -> nn.Module:
    """A fresh MLP with the shared initial weights, so every variant starts alike."""
    model = build_mlp()
    model.load_state_dict(initial)
    return model.to(device)


def bare_loop(model: nn.Module, data: TensorSplit, device: torch.device) -> None:
    """(a) The floor: what the step itself costs."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    order = torch.randperm(TRAIN_ROWS, device=device)
    model.train()
    for start in range(0, TRAIN_ROWS, BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        loss = F.cross_entropy(model(data.x_train[batch]), data.y_train[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def dataloader_loop(model: nn.Module, data: TensorSplit, device: torch.device) -> None:
    """(b) The common backend: per-sample indexing + collate, and a sync per batch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    dataset = TensorDataset(data.x_train.cpu(), data.y_train.cpu())
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
    total_loss, correct, seen = 0.0, 0, 0
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)


def our_loop(model: nn.Module, data: TensorSplit, device: torch.device) -> None:
    """(c) Ours, everything on: train metrics, test evaluation, weight summaries."""
    config = TrainingConfig(
        epochs=1, batch_size=BATCH_SIZE, optimizer="adam", learning_rate=LEARNING_RATE
    )
    events = list(train_model(model, data, config, device=device))
    if events[-1].weights is None:
        raise RuntimeError("weight summaries were expected on")


def time_once(
    variant: Variant, initial: dict, data: TensorSplit, device: torch.device
) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (all threads) for one epoch."""
    model = make_model(initial, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    variant(model, data, device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    device = pick_device(args.device)
    load_before = _load_average()
    data = make_data().to(device)
    torch.manual_seed(0)
    initial = build_mlp().state_dict()
    variants: dict[str, Variant] = {
        "(a) bare tensor-indexing loop": bare_loop,
        "(b) DataLoader + per-batch .item()": dataloader_loop,
        "(c) train_model (metrics, eval, weights)": our_loop,
    }
    for variant in variants.values():
        time_once(variant, initial, data, device)  # warm-up
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, variant in variants.items():
            runs[name].append(time_once(variant, initial, data, device))

    logger.info(
        "device=%s threads=%d cpus=%s torch=%s python=%s repeats=%d load before/after=%s/%s",
        device,
        torch.get_num_threads(),
        os.cpu_count(),
        torch.__version__,
        platform.python_version(),
        args.repeats,
        load_before,
        _load_average(),
    )
    _log_table(runs)


def _log_table(runs: dict[str, list[tuple[float, float]]]) -> None:
    """Medians (the headline), minimum wall (least disturbed by other load) and CPU time."""
    rows = {
        name: (
            statistics.median(wall for wall, _ in times),
            min(wall for wall, _ in times),
            statistics.median(cpu for _, cpu in times),
        )
        for name, times in runs.items()
    }
    base = next(iter(rows.values()))
    logger.info(
        "| variant | median wall s | vs (a) | min wall s | vs (a) | median CPU s | vs (a) |"
    )
    logger.info("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        pairs = zip(row, base, strict=True)
        cells = " | ".join(f"{value:.3f} | {value / floor:.2f}x" for value, floor in pairs)
        logger.info("| %s | %s |", name, cells)


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
