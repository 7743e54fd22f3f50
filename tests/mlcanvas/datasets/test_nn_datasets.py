from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mlcanvas.datasets import (
    TensorSplit,
    clear_nn_dataset_memory,
    get_nn_spec,
    load_nn_dataset,
)
from mlcanvas.errors import DatasetError, DatasetUnavailableError


def _place(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def test_digits_is_the_stratified_80_20_split() -> None:
    split = load_nn_dataset(" Digits ")
    assert isinstance(split, TensorSplit)
    assert split.x_train.shape == (1437, 1, 8, 8)
    assert split.x_test.shape == (360, 1, 8, 8)
    assert split.x_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert split.y_test.shape == (360,) and split.y_test.dtype == torch.int64
    assert float(split.x_train.min()) == 0.0 and float(split.x_train.max()) == 1.0
    test_counts = torch.bincount(split.y_test, minlength=10)
    all_counts = test_counts + torch.bincount(split.y_train, minlength=10)
    assert torch.all((test_counts - all_counts * 0.2).abs() <= 1)  # stratified
    assert load_nn_dataset("digits") is split  # the warm process keeps it


def test_unknown_dataset_is_rejected() -> None:
    with pytest.raises(DatasetError, match="Unsupported dataset for v1: fashion"):
        load_nn_dataset("Fashion")


def test_mnist_from_csv_then_from_the_tensor_cache(tmp_path: Path, mnist_csvs) -> None:
    folder = tmp_path / "mnist"
    _place(folder, mnist_csvs)

    split = load_nn_dataset("mnist", cache_dir=tmp_path)

    assert split.x_train.shape == (20, 1, 28, 28) and split.x_test.shape == (10, 1, 28, 28)
    assert split.x_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert split.y_train.tolist() == [i % 10 for i in range(20)]
    first_row = mnist_csvs["mnist_train.csv"].split(b"\n")[1].split(b",")
    assert split.x_train[0, 0, 0, 0].item() == pytest.approx(int(first_row[1]) / 255)
    assert split.x_train[0, 0, 27, 27].item() == pytest.approx(int(first_row[784]) / 255)
    assert (folder / "mnist_train.pt").is_file() and (folder / "mnist_test.pt").is_file()
    assert load_nn_dataset("MNIST", cache_dir=tmp_path) is split

    for name in mnist_csvs:
        (folder / name).unlink()
    clear_nn_dataset_memory()
    again = load_nn_dataset("mnist", cache_dir=tmp_path)

    assert again is not split
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(again, name), getattr(split, name))
    assert sorted(p.name for p in folder.iterdir()) == ["mnist_test.pt", "mnist_train.pt"]


def test_mnist_without_cache_or_credentials_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        load_nn_dataset("mnist", cache_dir=tmp_path)
    message = caught.value.message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert str(tmp_path.resolve() / "mnist") in message
    assert "mnist_train.csv" in message and "mnist_test.csv" in message


def test_mnist_cache_root_defaults_to_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_csvs
) -> None:
    from mlcanvas.settings import get_settings

    monkeypatch.setenv("MLCANVAS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        _place(get_settings().dataset_cache_dir / "mnist", mnist_csvs)
        assert load_nn_dataset("mnist").y_test.shape == (10,)
    finally:
        get_settings.cache_clear()


def test_mnist_downloads_through_kaggle_then_parses(
    tmp_path: Path, fake_kaggle, mnist_csvs
) -> None:
    fake_kaggle.serve(get_nn_spec("mnist").kaggle_dataset, mnist_csvs)

    split = load_nn_dataset("mnist", cache_dir=tmp_path)

    assert split.x_train.shape == (20, 1, 28, 28) and split.y_test.shape == (10,)
    assert [method for method, _ in fake_kaggle.seen] == ["POST", "GET"]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "mnist_test.csv",
        "mnist_test.pt",
        "mnist_train.csv",
        "mnist_train.pt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist"]


def test_mnist_download_without_the_csvs_is_an_error(tmp_path: Path, fake_kaggle) -> None:
    fake_kaggle.serve("oddrationale/mnist-in-csv", {"README.md": b"nothing here"})
    with pytest.raises(DatasetError, match="did not contain mnist_train.csv, mnist_test.csv"):
        load_nn_dataset("mnist", cache_dir=tmp_path)
