"""Random-forest benchmarks, run as `uv run python bench/rf.py`; figures go in docs/benchmarks.md.

(a) Progress overhead: a plain `RandomForestClassifier(n_estimators=N).fit` against
    `train_forest` reporting every 10 trees, on the same synthetic data and the same `n_jobs`;
    the median of a few repeats each, and their ratio (target <= 1.15x).
(b) GET status p99 while a 500-tree forest trains: added by the lead once the API exists
    (see `bench_status_p99_while_training`).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from mlcanvas.rf import RFHyperparameters, RFProgress, train_forest

logger = logging.getLogger("bench.rf")


@dataclass(frozen=True)
class Timing:
    """Wall seconds (what a user waits) and this process's CPU seconds over all threads (the
    work done; steadier than wall time on a shared machine)."""

    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class OverheadResult:
    n_jobs: int
    plain: Timing
    progress: Timing
    checkpoints: int

    @property
    def wall_ratio(self) -> float:
        return self.progress.wall_s / self.plain.wall_s

    @property
    def cpu_ratio(self) -> float:
        return self.progress.cpu_s / self.plain.cpu_s


def _median(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall_s for t in timings), statistics.median(t.cpu_s for t in timings)
    )


def _since(wall: float, cpu: float) -> Timing:
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def make_data(rows: int, features: int, seed: int) -> tuple[np.ndarray, ...]:
    """A noisy 3-class problem, so trees grow deep as on real tabular data."""
    X, y = make_classification(
        n_samples=rows,
        n_features=features,
        n_informative=features // 2,
        n_classes=3,
        flip_y=0.05,
        random_state=seed,
    )
    return tuple(train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y))


def time_plain_fit(X_train: np.ndarray, y_train: np.ndarray, trees: int, n_jobs: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    forest = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=n_jobs)
    forest.fit(X_train, y_train)
    return _since(wall, cpu)


def time_train_forest(
    data: tuple[np.ndarray, ...], trees: int, log_every: int, n_jobs: int
) -> tuple[Timing, int]:
    X_train, X_test, y_train, y_test = data
    hyperparameters = RFHyperparameters(n_estimators=trees, random_state=0)
    wall, cpu = time.perf_counter(), time.process_time()
    messages = list(
        train_forest(
            X_train,
            y_train,
            X_test,
            y_test,
            hyperparameters=hyperparameters,
            log_every_trees=log_every,
            class_names=["0", "1", "2"],
            n_jobs=n_jobs,
        )
    )
    return _since(wall, cpu), sum(isinstance(m, RFProgress) for m in messages)


def bench_progress_overhead(
    data: tuple[np.ndarray, ...], trees: int, log_every: int, repeats: int, n_jobs: int
) -> OverheadResult:
    """Part (a): alternate plain and progress runs so drift hits both alike."""
    plain: list[Timing] = []
    progress: list[Timing] = []
    checkpoints = 0
    for _ in range(repeats):
        plain.append(time_plain_fit(data[0], data[2], trees, n_jobs))
        timing, checkpoints = time_train_forest(data, trees, log_every, n_jobs)
        progress.append(timing)
    return OverheadResult(n_jobs, _median(plain), _median(progress), checkpoints)


def bench_status_p99_while_training(trees: int = 500) -> None:
    """(b) GET /api/rf/status latency while a `trees`-tree forest trains in the executor.

    Starts the real stack on free 127.0.0.1 ports (`tests/e2e/stack.py`), trains the
    breast_cancer forest (sklearn copy, offline) with progress every 10 trees, and polls the
    status endpoint back to back until the job is terminal. Every process is stopped by PID.
    """
    import json
    import tempfile
    from pathlib import Path

    import httpx
    from stack_probe import load_stack_module  # beside this script

    root = Path(__file__).resolve().parents[1]
    graph = json.loads((root / "examples" / "iris_forest.json").read_text())
    graph["nodes"][0]["config"]["shape"] = [30]
    graph["nodes"][1]["config"]["n_estimators"] = trees
    graph["nodes"][2]["config"]["num_classes"] = 2
    graph["training"]["dataset"] = "breast_cancer"
    stack = load_stack_module().make_stack(Path(tempfile.mkdtemp(prefix="mlcanvas-rfbench-")))
    try:
        stack.start_prefect()
        stack.start_executor_and_api()
        with httpx.Client(base_url=stack.api, timeout=10) as client:
            job_id = client.post("/api/rf/train", json=graph).raise_for_status().json()["job_id"]
            latencies: list[float] = []
            statuses: set[str] = set()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                started = time.perf_counter()
                body = client.get("/api/rf/status", params={"job_id": job_id}).json()
                latencies.append(time.perf_counter() - started)
                statuses.add(body["status"])
                if body["terminal"]:
                    break
        running = sorted(latencies)
        p = lambda q: running[min(len(running) - 1, int(q * len(running)))] * 1000  # noqa: E731
        logger.info(
            "(b) GET /api/rf/status while a %d-tree forest trains: %d requests, "
            "p50 %.1f ms, p99 %.1f ms, max %.1f ms; statuses seen %s",
            trees,
            len(latencies),
            p(0.5),
            p(0.99),
            running[-1] * 1000,
            sorted(statuses),
        )
    finally:
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description="Random-forest benchmarks.")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, -1])
    parser.add_argument(
        "--status", action=argparse.BooleanOptionalAction, default=True, help="run part (b)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mlcanvas").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    data = make_data(args.rows, args.features, seed=0)
    logger.info(
        "(a) progress overhead: %d train rows x %d features, %d trees, progress every %d, "
        "median of %d, %d CPUs",
        len(data[0]),
        args.features,
        args.trees,
        args.log_every,
        args.repeats,
        os.cpu_count(),
    )
    logger.info(
        "| n_jobs | plain fit wall / cpu (s) | train_forest wall / cpu (s) | checkpoints "
        "| wall ratio | cpu ratio |"
    )
    logger.info("|---|---|---|---|---|---|")
    for n_jobs in args.n_jobs:
        result = bench_progress_overhead(data, args.trees, args.log_every, args.repeats, n_jobs)
        logger.info(
            "| %d | %.2f / %.2f | %.2f / %.2f | %d | %.3fx | %.3fx |",
            result.n_jobs,
            result.plain.wall_s,
            result.plain.cpu_s,
            result.progress.wall_s,
            result.progress.cpu_s,
            result.checkpoints,
            result.wall_ratio,
            result.cpu_ratio,
        )
    if args.status:
        bench_status_p99_while_training()


if __name__ == "__main__":
    main()
