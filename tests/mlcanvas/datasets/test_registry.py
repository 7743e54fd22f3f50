from __future__ import annotations

import dataclasses

import pytest

from mlcanvas.datasets.registry import (
    NN_DATASETS,
    RF_DATASETS,
    get_nn_spec,
    get_rf_spec,
    list_nn_datasets,
    list_rf_datasets,
)
from mlcanvas.errors import DatasetError


def test_nn_listing_has_the_contract_entries() -> None:
    assert list_nn_datasets() == [
        {
            "id": "mnist",
            "name": "MNIST",
            "task": "classification",
            "input_shape": [1, 28, 28],
            "num_classes": 10,
            "source": "kaggle",
            "kaggle_dataset": "oddrationale/mnist-in-csv",
            "loader": "kaggle_csv",
        },
        {
            "id": "digits",
            "name": "Digits (sklearn)",
            "task": "classification",
            "input_shape": [1, 8, 8],
            "num_classes": 10,
            "source": "sklearn",
            "loader": "sklearn_load_digits",
        },
    ]


def test_rf_listing_is_sorted_and_carries_counts_and_class_names() -> None:
    listing = list_rf_datasets()
    assert [entry["id"] for entry in listing] == ["breast_cancer", "iris", "wine", "wine_sklearn"]
    by_id = {entry["id"]: entry for entry in listing}
    assert by_id["iris"] == {
        "id": "iris",
        "name": "Iris",
        "task": "classification",
        "source": "kaggle",
        "kaggle_dataset": "uciml/iris",
        "csv_filename": "Iris.csv",
        "target_column": "Species",
        "drop_columns": ["Id"],
        "delimiter": ",",
        "feature_count": 4,
        "num_classes": 3,
        "class_names": ["Iris-setosa", "Iris-versicolor", "Iris-virginica"],
    }
    wine = by_id["wine"]
    assert wine["name"] == "Wine Quality (Red)"
    assert wine["kaggle_dataset"] == "uciml/red-wine-quality-cortez-et-al-2009"
    assert (wine["csv_filename"], wine["target_column"]) == ("winequality-red.csv", "quality")
    assert (wine["feature_count"], wine["class_names"]) == (11, ["3", "4", "5", "6", "7", "8"])
    cancer = by_id["breast_cancer"]
    assert cancer["name"] == "Breast Cancer Wisconsin"
    assert cancer["drop_columns"] == ["id", "Unnamed: 32"]
    assert (cancer["target_column"], cancer["feature_count"]) == ("diagnosis", 30)
    assert (cancer["num_classes"], cancer["class_names"]) == (2, ["B", "M"])
    sk_wine = by_id["wine_sklearn"]
    assert (sk_wine["name"], sk_wine["source"], sk_wine["kaggle_dataset"]) == (
        "Wine (sklearn)",
        "sklearn",
        None,
    )
    assert (sk_wine["feature_count"], sk_wine["num_classes"]) == (13, 3)
    assert sk_wine["class_names"] == ["class_0", "class_1", "class_2"]


def test_breast_cancer_features_follow_the_kaggle_column_order() -> None:
    names = get_rf_spec("breast_cancer").feature_names
    assert names[:3] == ("radius_mean", "texture_mean", "perimeter_mean")
    assert names[7] == "concave points_mean"
    assert names[10] == "radius_se"
    assert names[-1] == "fractal_dimension_worst"


def test_ids_are_trimmed_and_lowercased() -> None:
    assert get_nn_spec("  MNIST ").id == "mnist"
    spec = get_nn_spec("Digits")
    assert (spec.name, spec.input_shape, spec.num_classes) == ("Digits (sklearn)", (1, 8, 8), 10)
    rf = get_rf_spec(" Iris")
    assert (rf.feature_count, rf.num_classes) == (4, 3)


def test_unknown_nn_dataset_names_it() -> None:
    with pytest.raises(DatasetError) as caught:
        get_nn_spec(" CIFAR10 ")
    assert caught.value.message == "Unsupported dataset for v1: cifar10"
    assert caught.value.to_detail() == {
        "message": "Unsupported dataset for v1: cifar10",
        "dataset": "cifar10",
    }


def test_unknown_rf_dataset_names_it() -> None:
    with pytest.raises(DatasetError, match=r"^Unsupported RF dataset: titanic$"):
        get_rf_spec("titanic")
    with pytest.raises(DatasetError, match="Unsupported RF dataset: mnist"):
        get_rf_spec("mnist")


def test_registries_are_read_only() -> None:
    with pytest.raises(TypeError):
        NN_DATASETS["fake"] = NN_DATASETS["mnist"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del RF_DATASETS["iris"]  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_rf_spec("iris").name = "x"  # type: ignore[misc]
