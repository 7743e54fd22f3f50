"""NN training: a loop that yields epoch events, plus the pieces it is built from.

The loop receives a built `nn.Module` and in-memory tensors; it never imports MLflow,
Prefect or FastAPI; flows relay its events.
"""

from mlcanvas.training.device import pick_device, seed_everything
from mlcanvas.training.evaluate import evaluate
from mlcanvas.training.events import EpochEvent
from mlcanvas.training.loop import train_model
from mlcanvas.training.optim import LossFn, make_loss, make_optimizer
from mlcanvas.training.weights import summarize_weights

__all__ = [
    "EpochEvent",
    "LossFn",
    "evaluate",
    "make_loss",
    "make_optimizer",
    "pick_device",
    "seed_everything",
    "summarize_weights",
    "train_model",
]
