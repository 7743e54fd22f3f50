"""The datasets we know (contract §10): specs filled at import, read-only after.

Train-time checks (input shape, class count, feature count) read these specs, so a mismatch
is reported before any data is downloaded or parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from mlcanvas.errors import DatasetError

Source = Literal["kaggle", "sklearn"]


@dataclass(frozen=True)
class NNDatasetSpec:
    """An image-classification dataset for the NN canvas; `input_shape` is `[C, H, W]`."""

    id: str
    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    source: Source
    loader: str
    kaggle_dataset: str | None = None
    csv_files: tuple[str, ...] = ()

    def to_listing(self) -> dict[str, Any]:
        """The `GET /api/datasets` entry; `kaggle_dataset` only where there is one."""
        entry: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "task": "classification",
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "source": self.source,
        }
        if self.kaggle_dataset is not None:
            entry["kaggle_dataset"] = self.kaggle_dataset
        entry["loader"] = self.loader
        return entry


@dataclass(frozen=True)
class RFDatasetSpec:
    """A tabular dataset for the random forest; names are those of the Kaggle CSV."""

    id: str
    name: str
    source: Source
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    target_column: str
    kaggle_dataset: str | None = None
    csv_filename: str | None = None
    drop_columns: tuple[str, ...] = ()
    delimiter: str | None = None
    has_sklearn_fallback: bool = False

    @property
    def feature_count(self) -> int:
        return len(self.feature_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_listing(self) -> dict[str, Any]:
        """The `GET /api/rf/datasets` entry, with the New counts and class names."""
        return {
            "id": self.id,
            "name": self.name,
            "task": "classification",
            "source": self.source,
            "kaggle_dataset": self.kaggle_dataset,
            "csv_filename": self.csv_filename,
            "target_column": self.target_column,
            "drop_columns": list(self.drop_columns),
            "delimiter": self.delimiter,
            "feature_count": self.feature_count,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
        }


_BREAST_CANCER_MEASURES = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal_dimension",
)

MNIST_KAGGLE_DATASET = "oddrationale/mnist-in-csv"
MNIST_CSV_FILES = ("mnist_train.csv", "mnist_test.csv")

_NN_SPECS = (
    NNDatasetSpec(
        id="mnist",
        name="MNIST",
        input_shape=(1, 28, 28),
        num_classes=10,
        source="kaggle",
        loader="kaggle_csv",
        kaggle_dataset=MNIST_KAGGLE_DATASET,
        csv_files=MNIST_CSV_FILES,
    ),
    NNDatasetSpec(
        id="digits",
        name="Digits (sklearn)",
        input_shape=(1, 8, 8),
        num_classes=10,
        source="sklearn",
        loader="sklearn_load_digits",
    ),
)

_RF_SPECS = (
    RFDatasetSpec(
        id="iris",
        name="Iris",
        source="kaggle",
        kaggle_dataset="uciml/iris",
        csv_filename="Iris.csv",
        target_column="Species",
        drop_columns=("Id",),
        delimiter=",",
        feature_names=("SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm"),
        class_names=("Iris-setosa", "Iris-versicolor", "Iris-virginica"),
        has_sklearn_fallback=True,
    ),
    RFDatasetSpec(
        id="wine",
        name="Wine Quality (Red)",
        source="kaggle",
        kaggle_dataset="uciml/red-wine-quality-cortez-et-al-2009",
        csv_filename="winequality-red.csv",
        target_column="quality",
        delimiter=",",
        feature_names=(
            "fixed acidity",
            "volatile acidity",
            "citric acid",
            "residual sugar",
            "chlorides",
            "free sulfur dioxide",
            "total sulfur dioxide",
            "density",
            "pH",
            "sulphates",
            "alcohol",
        ),
        class_names=("3", "4", "5", "6", "7", "8"),
    ),
    RFDatasetSpec(
        id="breast_cancer",
        name="Breast Cancer Wisconsin",
        source="kaggle",
        kaggle_dataset="uciml/breast-cancer-wisconsin-data",
        csv_filename="data.csv",
        target_column="diagnosis",
        drop_columns=("id", "Unnamed: 32"),
        delimiter=",",
        feature_names=tuple(
            f"{measure}_{stat}"
            for stat in ("mean", "se", "worst")
            for measure in _BREAST_CANCER_MEASURES
        ),
        class_names=("B", "M"),
        has_sklearn_fallback=True,
    ),
    RFDatasetSpec(
        id="wine_sklearn",
        name="Wine (sklearn)",
        source="sklearn",
        target_column="target",
        feature_names=(
            "alcohol",
            "malic_acid",
            "ash",
            "alcalinity_of_ash",
            "magnesium",
            "total_phenols",
            "flavanoids",
            "nonflavanoid_phenols",
            "proanthocyanins",
            "color_intensity",
            "hue",
            "od280/od315_of_diluted_wines",
            "proline",
        ),
        class_names=("class_0", "class_1", "class_2"),
    ),
)

NN_DATASETS: MappingProxyType[str, NNDatasetSpec] = MappingProxyType({s.id: s for s in _NN_SPECS})
RF_DATASETS: MappingProxyType[str, RFDatasetSpec] = MappingProxyType(
    {s.id: s for s in sorted(_RF_SPECS, key=lambda s: s.id)}
)


def normalise_dataset_id(dataset_id: str) -> str:
    """Ids arrive from the canvas as typed; the contract trims and lowercases them."""
    return str(dataset_id).strip().lower()


def get_nn_spec(dataset_id: str) -> NNDatasetSpec:
    key = normalise_dataset_id(dataset_id)
    spec = NN_DATASETS.get(key)
    if spec is None:
        raise DatasetError(f"Unsupported dataset for v1: {key}", dataset=key)
    return spec


def get_rf_spec(dataset_id: str) -> RFDatasetSpec:
    key = normalise_dataset_id(dataset_id)
    spec = RF_DATASETS.get(key)
    if spec is None:
        raise DatasetError(f"Unsupported RF dataset: {key}", dataset=key)
    return spec


def list_nn_datasets() -> list[dict[str, Any]]:
    """NN listing entries in registration order (MNIST first, as the old backend had them)."""
    return [spec.to_listing() for spec in NN_DATASETS.values()]


def list_rf_datasets() -> list[dict[str, Any]]:
    """RF listing entries sorted by id (contract §6)."""
    return [RF_DATASETS[key].to_listing() for key in sorted(RF_DATASETS)]
