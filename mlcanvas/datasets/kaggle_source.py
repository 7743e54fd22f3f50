"""Kaggle downloads through the real `kaggle` client, into a dataset's cache folder.

`kaggle` authenticates and prints at import time, so it is imported only once we know there are
credentials, with its stdout sent to our log. A download lands in a temp folder next to the
cache and is moved into place only once complete, so a crash never leaves half a dataset.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from mlcanvas.errors import DatasetUnavailableError

logger = logging.getLogger(__name__)


def kaggle_config_dir() -> Path:
    """Where the client looks for `kaggle.json` now (it decides once, at import; we re-decide)."""
    configured = os.environ.get("KAGGLE_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    legacy = Path.home() / ".kaggle"
    if legacy.exists() or not sys.platform.startswith("linux"):
        return legacy
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "kaggle"


def has_kaggle_credentials() -> bool:
    """True if any credential form the installed client accepts is present."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    home_kaggle = Path.home() / ".kaggle"
    candidates = (
        kaggle_config_dir() / "kaggle.json",
        home_kaggle / "access_token",
        home_kaggle / "access_token.txt",
        home_kaggle / "credentials.json",
    )
    return any(path.is_file() for path in candidates)


def _missing_credentials_message(ref: str, dest: Path, expected_files: Sequence[str]) -> str:
    files = ", ".join(expected_files) if expected_files else "the dataset's CSV file(s)"
    return (
        f"Kaggle dataset {ref} is not cached and no Kaggle credentials were found. "
        "Set KAGGLE_USERNAME and KAGGLE_KEY (or put kaggle.json in ~/.kaggle or "
        f"$KAGGLE_CONFIG_DIR), or place {files} by hand in {dest}"
    )


@contextlib.contextmanager
def _stdout_to_log() -> Iterator[None]:
    """The client prints banners and URLs; keep them out of our stdout, in the debug log.

    The redirect is process-wide while the client runs, which is why loaders run in flow
    processes, not in the API.
    """
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        for line in buffer.getvalue().splitlines():
            if line.strip():
                logger.debug("kaggle: %s", line)


def _move_into_place(staging: Path, dest: Path) -> list[Path]:
    """Move every downloaded file into `dest`, keeping relative paths; each move is atomic."""
    moved: list[Path] = []
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = dest / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved.append(target)
    return moved


def download_kaggle_dataset(ref: str, dest: Path, *, expected_files: Sequence[str] = ()) -> Path:
    """Download and unzip Kaggle dataset `ref` (`owner/slug`) into `dest`; returns `dest`.

    `expected_files` only improves the message when credentials are missing (it names what
    can be placed in `dest` by hand). Raises DatasetUnavailableError without credentials or
    when Kaggle cannot be reached or refuses the request.
    """
    dest = Path(dest)
    if not has_kaggle_credentials():
        raise DatasetUnavailableError(
            _missing_credentials_message(ref, dest, expected_files),
            kaggle_dataset=ref,
            cache_dir=str(dest),
        )
    import requests  # the client's transport; imported here like the client itself

    dest.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading Kaggle dataset %s into %s", ref, dest)
    try:
        with tempfile.TemporaryDirectory(prefix=".download-", dir=dest.parent) as tmp:
            with _stdout_to_log():
                from kaggle.api.kaggle_api_extended import KaggleApi

                api = KaggleApi()
                config_dir = kaggle_config_dir()
                api.config_dir = str(config_dir)
                api.config = str(config_dir / api.config_file)
                api.authenticate()
                api.dataset_download_files(ref, path=tmp, unzip=True, quiet=True)
            moved = _move_into_place(Path(tmp), dest)
    except SystemExit as exc:  # the client calls exit(1) when it finds no usable credentials
        raise DatasetUnavailableError(
            _missing_credentials_message(ref, dest, expected_files),
            kaggle_dataset=ref,
            cache_dir=str(dest),
        ) from exc
    except (requests.RequestException, OSError, ValueError, RuntimeError) as exc:
        raise DatasetUnavailableError(
            f"Kaggle download of {ref} failed: {exc}", kaggle_dataset=ref, cache_dir=str(dest)
        ) from exc
    logger.info("Kaggle dataset %s downloaded: %s", ref, ", ".join(p.name for p in moved))
    return dest
