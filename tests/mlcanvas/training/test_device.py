from __future__ import annotations

import random

import numpy as np
import torch

from mlcanvas.training import pick_device, seed_everything


def test_default_device_is_cuda_when_present_else_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"

    assert pick_device().type == expected


def test_preferred_device_wins_and_missing_cuda_falls_back_to_cpu() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert pick_device("cuda") == torch.device("cpu")
    else:
        assert pick_device("cuda").type == "cuda"


def test_seed_everything_repeats_every_generator() -> None:
    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(3).tolist())
    seed_everything(7)
    second = (random.random(), np.random.rand(), torch.rand(3).tolist())

    assert first == second
