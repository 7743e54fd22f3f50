from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mlcanvas.datasets import mnist_cache
from mlcanvas.errors import DatasetError

HEADER = "label," + ",".join(f"p{i}" for i in range(784))


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_parse_keeps_uint8_pixels_and_int64_labels(tmp_path: Path) -> None:
    path = _write(tmp_path / "mnist_train.csv", ["7," + ",".join(["255"] * 784)])
    images, labels = mnist_cache.parse_mnist_csv(path)
    assert images.shape == (1, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [7] and labels.dtype == torch.int64


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("3," + ",".join(["256"] * 784), "Could not parse"),
        ("3," + ",".join(["x"] * 784), "Could not parse"),
        ("12," + ",".join(["0"] * 784), "labels outside 0-9"),
    ],
)
def test_parse_rejects_bad_values(tmp_path: Path, row: str, reason: str) -> None:
    path = _write(tmp_path / "mnist_test.csv", [row])
    with pytest.raises(DatasetError, match=reason):
        mnist_cache.parse_mnist_csv(path)


def test_parse_rejects_the_wrong_width(tmp_path: Path) -> None:
    path = tmp_path / "mnist_test.csv"
    path.write_text("label,a,b\n1,2,3\n")
    with pytest.raises(DatasetError, match="3 columns; expected label \\+ 784 pixels"):
        mnist_cache.parse_mnist_csv(path)


def test_tensor_cache_round_trip_leaves_no_temp_file(tmp_path: Path) -> None:
    images = torch.arange(2 * 784, dtype=torch.int64).remainder(256).to(torch.uint8)
    images = images.reshape(2, 1, 28, 28)
    labels = torch.tensor([1, 2])
    path = tmp_path / "mnist_train.pt"
    mnist_cache.save_tensor_cache(path, images, labels)
    assert [p.name for p in tmp_path.iterdir()] == ["mnist_train.pt"]
    loaded_images, loaded_labels = mnist_cache.load_tensor_cache(path)
    assert torch.equal(loaded_images, images) and torch.equal(loaded_labels, labels)
    x, y = mnist_cache.load_split(tmp_path, "train")
    assert x.dtype == torch.float32 and float(x.max()) == pytest.approx(1.0)


def test_unreadable_tensor_cache_says_to_delete_it(tmp_path: Path) -> None:
    path = tmp_path / "mnist_test.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(DatasetError, match="delete it"):
        mnist_cache.load_tensor_cache(path)
    torch.save({"x": torch.zeros(2, 3)}, path)
    with pytest.raises(DatasetError, match="unexpected layout"):
        mnist_cache.load_tensor_cache(path)
