from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlcanvas.datasets.rf_csv import detect_delimiter, encode_labels, find_cached_csv


def test_delimiter_comes_from_the_header(tmp_path: Path) -> None:
    semicolons = tmp_path / "uci.csv"
    semicolons.write_text('"fixed acidity";"volatile acidity";"quality"\n7.4;0.7;5\n')
    commas = tmp_path / "kaggle.csv"
    commas.write_text("fixed acidity,volatile acidity,quality\n7.4,0.7,5\n")
    assert detect_delimiter(semicolons) == ";"
    assert detect_delimiter(commas) == ","


def test_numeric_labels_sort_as_numbers() -> None:
    codes, names = encode_labels(pd.Series([10, 9, 3, 9]))
    assert names == ("3", "9", "10")
    assert codes.tolist() == [2, 1, 0, 1] and codes.dtype == "int64"


def test_string_labels_sort_as_strings() -> None:
    codes, names = encode_labels(pd.Series(["M", "B", "M"]))
    assert (names, codes.tolist()) == (("B", "M"), [1, 0, 1])


def test_expected_file_first_then_the_first_csv(tmp_path: Path) -> None:
    assert find_cached_csv(tmp_path / "missing", "Iris.csv") is None
    (tmp_path / "b.csv").write_text("x\n")
    (tmp_path / "a.csv").write_text("x\n")
    assert find_cached_csv(tmp_path, "Iris.csv") == tmp_path / "a.csv"
    (tmp_path / "Iris.csv").write_text("x\n")
    assert find_cached_csv(tmp_path, "Iris.csv") == tmp_path / "Iris.csv"
