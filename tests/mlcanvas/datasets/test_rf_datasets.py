from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from mlcanvas.datasets import FeatureTable, get_rf_spec, load_rf_table, split_table
from mlcanvas.errors import DatasetError, DatasetUnavailableError

IRIS_HEADER = "Id,SepalLengthCm,SepalWidthCm,PetalLengthCm,PetalWidthCm,Species"
IRIS_ROWS = [
    "1,5.1,3.5,1.4,0.2,Iris-setosa",
    "2,4.9,3.0,1.4,0.2,Iris-setosa",
    "3,7.0,3.2,4.7,1.4,Iris-versicolor",
    "4,6.4,3.2,4.5,1.5,Iris-versicolor",
    "5,6.3,3.3,6.0,2.5,Iris-virginica",
    "6,5.8,2.7,5.1,1.9,Iris-virginica",
]
WINE_FEATURES = get_rf_spec("wine").feature_names


def _write(folder: Path, name: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _wine_lines(delimiter: str, quoted_header: bool) -> list[str]:
    names = [*WINE_FEATURES, "quality"]
    header = delimiter.join(f'"{n}"' if quoted_header else n for n in names)
    rows = []
    for i, quality in enumerate([8, 3, 4, 5, 6, 7, 5, 6]):
        values = [f"{0.1 * (i + 1) + j:.3f}" for j in range(len(WINE_FEATURES))]
        rows.append(delimiter.join([*values, str(quality)]))
    return [header, *rows]


def test_iris_without_cache_or_credentials_falls_back_to_sklearn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlcanvas.datasets")
    table = load_rf_table(" IRIS ", cache_dir=tmp_path)
    assert isinstance(table, FeatureTable)
    assert table.dataset_id == "iris"
    assert table.X.shape == (150, 4) and table.X.dtype == np.float64
    assert table.y.dtype == np.int64 and np.bincount(table.y).tolist() == [50, 50, 50]
    assert table.feature_names == ("SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm")
    assert table.class_names == ("Iris-setosa", "Iris-versicolor", "Iris-virginica")
    assert "scikit-learn's copy" in caplog.text
    assert list(tmp_path.iterdir()) == []  # the fallback is never written as a Kaggle cache


def test_breast_cancer_fallback_uses_kaggle_names_and_labels(tmp_path: Path) -> None:
    table = load_rf_table("breast_cancer", cache_dir=tmp_path)
    assert table.X.shape == (569, 30) and table.feature_count == 30
    assert (
        table.feature_names[0] == "radius_mean"
        and table.feature_names[-1] == "fractal_dimension_worst"
    )
    assert table.class_names == ("B", "M")
    assert np.bincount(table.y).tolist() == [357, 212]  # 357 benign (B=0), 212 malignant (M=1)
    assert table.X[0, 0] == pytest.approx(17.99)  # first Kaggle row, 842302, is malignant
    assert table.y[0] == 1


def test_wine_without_cache_or_credentials_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        load_rf_table("wine", cache_dir=tmp_path)
    message = caught.value.message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert str(tmp_path.resolve() / "wine") in message and "winequality-red.csv" in message


def test_wine_sklearn_needs_no_cache(tmp_path: Path) -> None:
    table = load_rf_table("wine_sklearn", cache_dir=tmp_path)
    assert (table.X.shape, table.num_classes) == ((178, 13), 3)
    assert table.class_names == ("class_0", "class_1", "class_2")


@pytest.mark.parametrize(("delimiter", "quoted"), [(";", True), (",", False)])
def test_wine_csv_in_either_delimiter(tmp_path: Path, delimiter: str, quoted: bool) -> None:
    _write(tmp_path / "wine", "winequality-red.csv", _wine_lines(delimiter, quoted))
    table = load_rf_table("wine", cache_dir=tmp_path)
    assert table.X.shape == (8, 11)
    assert table.feature_names == WINE_FEATURES
    assert table.class_names == ("3", "4", "5", "6", "7", "8")
    assert table.y.tolist() == [5, 0, 1, 2, 3, 4, 2, 3]
    assert table.X[0, 1] == pytest.approx(1.1)


def test_breast_cancer_csv_drops_id_and_the_trailing_empty_column(tmp_path: Path) -> None:
    names = get_rf_spec("breast_cancer").feature_names
    lines = [",".join(["id", "diagnosis", *names]) + ","]
    for i, label in enumerate(["M", "B", "B"]):
        lines.append(",".join([str(840000 + i), label, *[str(i + j) for j in range(30)]]) + ",")
    _write(tmp_path / "breast_cancer", "data.csv", lines)
    table = load_rf_table("breast_cancer", cache_dir=tmp_path)
    assert table.X.shape == (3, 30) and table.feature_names == names
    assert (table.class_names, table.y.tolist()) == (("B", "M"), [1, 0, 0])


def test_first_csv_is_used_when_the_expected_name_is_absent(tmp_path: Path) -> None:
    _write(tmp_path / "iris", "iris_copy.csv", [IRIS_HEADER, *IRIS_ROWS])
    table = load_rf_table("iris", cache_dir=tmp_path)
    assert table.X.shape == (6, 4) and table.y.tolist() == [0, 0, 1, 1, 2, 2]


def test_other_class_names_with_the_same_count_are_kept(tmp_path: Path) -> None:
    rows = [row.replace("Iris-", "") for row in IRIS_ROWS]
    _write(tmp_path / "iris", "Iris.csv", [IRIS_HEADER, *rows])
    table = load_rf_table("iris", cache_dir=tmp_path)
    assert table.class_names == ("setosa", "versicolor", "virginica")


def test_non_numeric_feature_names_the_column(tmp_path: Path) -> None:
    rows = [*IRIS_ROWS[:-1], "6,5.8,wide,5.1,1.9,Iris-virginica"]
    _write(tmp_path / "iris", "Iris.csv", [IRIS_HEADER, *rows])
    with pytest.raises(
        DatasetError, match="Column 'SepalWidthCm' of Iris.csv is not numeric"
    ) as caught:
        load_rf_table("iris", cache_dir=tmp_path)
    assert caught.value.extra["column"] == "SepalWidthCm"


def test_gap_in_a_feature_names_the_column(tmp_path: Path) -> None:
    rows = [*IRIS_ROWS[:-1], "6,5.8,2.7,,1.9,Iris-virginica"]
    _write(tmp_path / "iris", "Iris.csv", [IRIS_HEADER, *rows])
    with pytest.raises(DatasetError, match="Column 'PetalLengthCm' of Iris.csv has missing values"):
        load_rf_table("iris", cache_dir=tmp_path)


def test_layout_mismatches_are_reported(tmp_path: Path) -> None:
    _write(tmp_path / "iris", "Iris.csv", [IRIS_HEADER, *IRIS_ROWS[:4]])
    with pytest.raises(DatasetError, match="2 classes in 'Species'; Iris expects 3"):
        load_rf_table("iris", cache_dir=tmp_path)
    lines = [
        line.rsplit(";", 2)[0] + ";" + line.rsplit(";", 1)[1] for line in _wine_lines(";", False)
    ]
    _write(tmp_path / "wine", "winequality-red.csv", lines)
    with pytest.raises(DatasetError, match="10 feature columns; Wine Quality \\(Red\\) expects 11"):
        load_rf_table("wine", cache_dir=tmp_path)
    _write(tmp_path / "breast_cancer", "data.csv", ["id,label", "1,M"])
    with pytest.raises(DatasetError, match="Target column 'diagnosis' not found in data.csv"):
        load_rf_table("breast_cancer", cache_dir=tmp_path)


def test_unknown_rf_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Unsupported RF dataset: titanic"):
        load_rf_table("titanic", cache_dir=tmp_path)


def test_kaggle_copy_is_preferred_when_credentials_exist(tmp_path: Path, fake_kaggle) -> None:
    csv = "\n".join([IRIS_HEADER, *IRIS_ROWS]).encode()
    fake_kaggle.serve("uciml/iris", {"Iris.csv": csv})
    table = load_rf_table("iris", cache_dir=tmp_path)
    assert table.X.shape == (6, 4)
    assert (tmp_path / "iris" / "Iris.csv").read_bytes() == csv
    assert load_rf_table("iris", cache_dir=tmp_path).X.shape == (6, 4)
    assert len(fake_kaggle.seen) == 2  # the second load read the cache


def test_split_table_stratifies(tmp_path: Path) -> None:
    table = load_rf_table("iris", cache_dir=tmp_path)
    x_train, x_test, y_train, y_test = split_table(
        table, test_size=0.2, random_state=42, stratify=True
    )
    assert x_train.shape == (120, 4) and x_test.shape == (30, 4)
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    again = split_table(table, test_size=0.2, random_state=42, stratify=True)
    assert np.array_equal(again[3], y_test)
    plain = split_table(table, test_size=0.5, random_state=0, stratify=False)
    assert plain[0].shape == (75, 4) and plain[3].shape == (75,)
