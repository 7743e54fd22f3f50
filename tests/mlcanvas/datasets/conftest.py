"""No network, ever: every test runs without Kaggle credentials and with HTTP refused.

`fake_kaggle` replaces only the transport (`requests.adapters.HTTPAdapter.send`), so the real
`KaggleApi` authenticates, calls the dataset API, follows the redirect to storage, streams the
zip and unzips it; the fake answers as api.kaggle.com and the storage bucket would.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from mlcanvas.datasets import clear_nn_dataset_memory

DOWNLOAD_URL = "https://api.kaggle.com/v1/datasets.DatasetApiService/DownloadDataset"
STORAGE_URL = "https://storage.googleapis.com/kaggle-data-sets/fake/{slug}.zip?X-Goog-Signature=x"
FAKE_USERNAME = "canvas-tester"
FAKE_KEY = "0123456789abcdef"


def _refuse_network(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: object):
    raise AssertionError(f"test tried to reach the network: {request.method} {request.url}")


@pytest.fixture(autouse=True)
def offline_kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """A developer's real credentials are never seen, and nothing leaves the machine."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path_factory.mktemp("kaggle_config")))
    for name in (
        "KAGGLE_USERNAME",
        "KAGGLE_KEY",
        "KAGGLE_API_TOKEN",
        "KAGGLE_API_ENVIRONMENT",
        "KAGGLE_KERNEL_RUN_TYPE",
        "XDG_CONFIG_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(HTTPAdapter, "send", _refuse_network)
    clear_nn_dataset_memory()
    yield
    clear_nn_dataset_memory()


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def mnist_csv(rows: int, seed: int) -> bytes:
    """The Kaggle layout: header `label,1x1..28x28`, then label + 784 pixels 0-255."""
    rng = np.random.default_rng(seed)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    labels = np.arange(rows) % 10
    pixels = rng.integers(0, 256, size=(rows, 784))
    lines = [header] + [
        f"{label}," + ",".join(map(str, row)) for label, row in zip(labels, pixels, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def mnist_csvs() -> dict[str, bytes]:
    return {"mnist_train.csv": mnist_csv(20, seed=1), "mnist_test.csv": mnist_csv(10, seed=2)}


@dataclass
class FakeKaggle:
    """Answers the Kaggle dataset API and its storage redirect from in-memory zips."""

    datasets: dict[str, bytes] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    failure: Exception | None = None

    def serve(self, ref: str, files: dict[str, bytes]) -> None:
        self.datasets[ref.split("/")[1]] = make_zip(files)

    def send(self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: object):
        self.seen.append((str(request.method), str(request.url)))
        if self.failure is not None:
            raise self.failure
        if request.method == "POST" and request.url == DOWNLOAD_URL:
            return self._download(adapter, request)
        for slug, archive in self.datasets.items():
            if request.method == "GET" and request.url == STORAGE_URL.format(slug=slug):
                headers = {
                    "Content-Type": "application/zip",
                    "Content-Length": str(len(archive)),
                    "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
                }
                return _respond(adapter, request, 200, archive, headers)
        return _respond(adapter, request, 404, b"not found", {"Content-Type": "text/plain"})

    def _download(self, adapter: HTTPAdapter, request: requests.PreparedRequest):
        authorization = request.headers.get("Authorization")
        self.auth_headers.append(authorization)
        expected = "Basic " + base64.b64encode(f"{FAKE_USERNAME}:{FAKE_KEY}".encode()).decode()
        if authorization != expected:
            body = json.dumps({"code": 401, "message": "Unauthenticated"}).encode()
            return _respond(adapter, request, 401, body, {"Content-Type": "application/json"})
        slug = json.loads(request.body or b"{}").get("datasetSlug")
        if slug not in self.datasets:
            body = json.dumps({"code": 404, "message": f"Dataset not found: {slug}"}).encode()
            return _respond(adapter, request, 404, body, {"Content-Type": "application/json"})
        location = STORAGE_URL.format(slug=slug)
        return _respond(adapter, request, 302, b"", {"Location": location})


def _respond(
    adapter: HTTPAdapter,
    request: requests.PreparedRequest,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> requests.Response:
    raw = HTTPResponse(
        body=io.BytesIO(body),
        headers=headers,
        status=status,
        preload_content=False,
        request_method=request.method,
        request_url=request.url,
    )
    return adapter.build_response(request, raw)


@pytest.fixture
def fake_kaggle(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKaggle]:
    """Fake credentials in the environment and a fake Kaggle behind the real client."""
    fake = FakeKaggle()
    monkeypatch.setenv("KAGGLE_USERNAME", FAKE_USERNAME)
    monkeypatch.setenv("KAGGLE_KEY", FAKE_KEY)

    def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: object):
        return fake.send(adapter, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    yield fake
