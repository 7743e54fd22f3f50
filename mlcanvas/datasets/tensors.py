"""In-memory NN dataset splits as tensors: what the training loop consumes."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TensorSplit:
    """Train/test tensors: x is float32 `[N, *input_shape]`, y is int64 class indices `[N]`."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def to(self, device: torch.device | str) -> TensorSplit:
        return TensorSplit(
            self.x_train.to(device, non_blocking=True),
            self.y_train.to(device, non_blocking=True),
            self.x_test.to(device, non_blocking=True),
            self.y_test.to(device, non_blocking=True),
        )
