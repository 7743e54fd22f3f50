"""Per-parameter weight summaries for `epoch_update.weights` (contract §5, "Weights")."""

from __future__ import annotations

import torch
from torch import nn

HISTOGRAM_BINS = 20


@torch.no_grad()
def summarize_weights(model: nn.Module) -> dict[str, dict]:
    """Mean, population std, min, max and a 20-bin histogram of every parameter.

    Keys are state_dict names (`layers.1.weight`). Bins are equal-width over [min, max]; the
    last bin includes max, and a constant parameter puts everything in bin 0. Everything is
    computed where the parameters live and read back in one transfer, so a GPU run pays
    one sync per call, not one per statistic.
    """
    names, rows = [], []
    for name, param in model.named_parameters():
        names.append(name)
        rows.append(_summary_row(param.detach().flatten()))
    if not rows:
        return {}
    table = torch.stack(rows).tolist()
    return {name: _summary_dict(row) for name, row in zip(names, table, strict=True)}


def _summary_row(values: torch.Tensor) -> torch.Tensor:
    """`[mean, std, min, max, count_0 .. count_19]` as float64 (counts stay exact)."""
    values = values.to(torch.float64)
    low, high = values.min(), values.max()
    width = high - low
    # Bin index = floor((v - min) / width * bins); max lands in the last bin; width 0 -> bin 0.
    # Diverged weights (NaN/inf) must not break the event, so they count in bin 0 too.
    scale = torch.where(width > 0, HISTOGRAM_BINS / width, torch.zeros_like(width))
    positions = torch.nan_to_num((values - low) * scale, nan=0.0, posinf=0.0, neginf=0.0)
    bins = positions.floor().clamp_(0, HISTOGRAM_BINS - 1).long()
    counts = torch.zeros(HISTOGRAM_BINS, dtype=torch.float64, device=values.device)
    counts.index_add_(0, bins, torch.ones_like(values))
    std = values.std(correction=0)
    return torch.cat([torch.stack([values.mean(), std, low, high]), counts])


def _summary_dict(row: list[float]) -> dict:
    mean, std, low, high, *counts = row
    return {
        "mean": mean,
        "std": std,
        "min": low,
        "max": high,
        "histogram": [int(count) for count in counts],
    }
