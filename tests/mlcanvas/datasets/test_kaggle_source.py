"""The real kaggle client against a fake api.kaggle.com (transport only, see conftest)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from mlcanvas.datasets.kaggle_source import download_kaggle_dataset, has_kaggle_credentials
from mlcanvas.errors import DatasetUnavailableError

IRIS_CSV = (
    b"Id,SepalLengthCm,SepalWidthCm,PetalLengthCm,PetalWidthCm,Species\n"
    b"1,5.1,3.5,1.4,0.2,Iris-setosa\n"
)


def test_without_credentials_names_the_env_vars_and_the_folder(tmp_path: Path) -> None:
    dest = tmp_path / "datasets" / "iris"
    assert not has_kaggle_credentials()
    with pytest.raises(DatasetUnavailableError) as caught:
        download_kaggle_dataset("uciml/iris", dest, expected_files=["Iris.csv"])
    message = caught.value.message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert str(dest) in message and "Iris.csv" in message
    assert caught.value.extra == {"kaggle_dataset": "uciml/iris", "cache_dir": str(dest)}
    assert not dest.exists()


def test_downloads_and_unzips_through_the_real_client(
    tmp_path: Path, fake_kaggle, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kaggle.serve("uciml/iris", {"Iris.csv": IRIS_CSV, "database.sqlite": b"sqlite"})
    dest = tmp_path / "iris"

    assert download_kaggle_dataset("uciml/iris", dest) == dest

    assert (dest / "Iris.csv").read_bytes() == IRIS_CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris"]  # temp folder gone
    assert sorted(p.name for p in dest.iterdir()) == ["Iris.csv", "database.sqlite"]
    assert [method for method, _ in fake_kaggle.seen] == ["POST", "GET"]
    assert fake_kaggle.seen[1][1].startswith("https://storage.googleapis.com/")
    assert capsys.readouterr().out == ""  # the client's prints went to the log


def test_credentials_from_kaggle_json_in_the_config_dir(
    tmp_path: Path, fake_kaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    config = {"username": "canvas-tester", "key": "0123456789abcdef"}
    (config_dir / "kaggle.json").write_text(json.dumps(config))
    (config_dir / "kaggle.json").chmod(0o600)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config_dir))
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    assert has_kaggle_credentials()
    fake_kaggle.serve("uciml/iris", {"Iris.csv": IRIS_CSV})

    download_kaggle_dataset("uciml/iris", tmp_path / "iris")

    assert (tmp_path / "iris" / "Iris.csv").is_file()
    assert fake_kaggle.auth_headers == ["Basic Y2FudmFzLXRlc3RlcjowMTIzNDU2Nzg5YWJjZGVm"]


def test_rejected_credentials_leave_no_files(
    tmp_path: Path, fake_kaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    fake_kaggle.serve("uciml/iris", {"Iris.csv": IRIS_CSV})
    dest = tmp_path / "iris"

    with pytest.raises(DatasetUnavailableError, match="uciml/iris failed: Unauthenticated"):
        download_kaggle_dataset("uciml/iris", dest)

    assert list(dest.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris"]


def test_unknown_dataset_reports_the_server_reason(tmp_path: Path, fake_kaggle) -> None:
    with pytest.raises(DatasetUnavailableError, match="Dataset not found: no-such-set") as caught:
        download_kaggle_dataset("someone/no-such-set", tmp_path / "x")
    assert isinstance(caught.value.__cause__, requests.HTTPError)


def test_network_failure_is_unavailable_with_the_reason(
    tmp_path: Path, fake_kaggle, caplog: pytest.LogCaptureFixture
) -> None:
    fake_kaggle.failure = requests.ConnectionError("Failed to resolve 'api.kaggle.com'")
    caplog.set_level(logging.INFO, logger="mlcanvas.datasets")

    with pytest.raises(
        DatasetUnavailableError, match="Failed to resolve 'api.kaggle.com'"
    ) as caught:
        download_kaggle_dataset("uciml/iris", tmp_path / "iris")

    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert "Downloading Kaggle dataset uciml/iris" in caplog.text
