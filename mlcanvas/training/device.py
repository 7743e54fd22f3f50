"""Where training runs and how it is made repeatable: device choice and seeding."""

from __future__ import annotations

import logging
import random

import numpy as np
import torch

logger = logging.getLogger(__name__)


def pick_device(preferred: str | None = None) -> torch.device:
    """The device to train on: `preferred` when given, else CUDA when present, else CPU.

    A preferred CUDA device on a machine without CUDA falls back to CPU (with a warning),
    so a job configured for a GPU box still trains on a laptop.
    """
    if preferred:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            logger.warning("CUDA requested but not available; training on CPU")
            return torch.device("cpu")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device) so init and dropout repeat."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
