"""Serving benchmark: our deployment infer endpoint vs `mlflow models serve --env-manager local`
on the same 784-128-10 MLP, one row per request, with `wrk` on loopback (issue 6).

It starts its own stack (tests/e2e/stack.py's make_stack) in a temporary folder, writes small
synthetic MNIST CSVs into that stack's dataset cache (the loader uses cached CSVs, no network),
trains examples/mnist_mlp.json for one epoch, deploys the job, then runs wrk against
  ours:   POST /api/deploy/<id>/infer             {"inputs": [[[[28x28]]]]}
  MLflow: POST /invocations of `mlflow models serve -m runs:/<run>/model` with the same body
at 1 and 16 connections for --seconds each (after a short warm-up), and prints a Markdown table.
Every child is stopped by PID at the end, also on failure.

usage: uv run python bench/serve.py [--seconds 15] [--connections 1 16] [--keep DIR]
needs: wrk (`apt-get install -y wrk`)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("bench.serve")

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("{body}", "r"):read("*a")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {{"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def load_stack_module() -> Any:
    spec = importlib.util.spec_from_file_location("e2e_stack", ROOT / "tests" / "e2e" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["e2e_stack"] = module
    spec.loader.exec_module(module)
    return module


def write_synthetic_mnist(folder: Path, train_rows: int = 2000, test_rows: int = 500) -> None:
    """Kaggle's layout (header, then label + 784 pixels 0-255) with random pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    for split, rows in (("train", train_rows), ("test", test_rows)):
        lines = [header]
        for _ in range(rows):
            lines.append(
                ",".join(str(v) for v in [rng.randrange(10)] + rng.choices(range(256), k=784))
            )
        (folder / f"mnist_{split}.csv").write_text("\n".join(lines) + "\n")


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def train_and_deploy(api: str) -> tuple[str, str]:
    """Returns (job_id, deployment_id) of a finished one-epoch MNIST-shaped MLP."""
    graph = json.loads((ROOT / "examples" / "mnist_mlp.json").read_text())
    graph["training"]["epochs"] = 1
    with httpx.Client(base_url=api, timeout=60) as http:
        job_id = http.post("/api/model/train", json=graph).raise_for_status().json()["job_id"]
        status = wait_for(
            lambda: (
                body
                if (body := http.get("/api/model/status", params={"job_id": job_id}).json())[
                    "terminal"
                ]
                else None
            ),
            600,
            "training",
        )
        if status["status"] != "completed":
            raise RuntimeError(f"training ended {status['status']}: {status['error']}")
        reply = http.post("/api/deploy", json={"job_id": job_id, "name": "bench-serve"})
        return job_id, reply.raise_for_status().json()["deployment_id"]


def run_id_of(mlruns: Path, job_id: str) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{mlruns / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("mlcanvas-nn")
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.`mlcanvas.job_id` = '{job_id}'", max_results=1
    )
    return runs[0].info.run_id


def start_mlflow_serve(env: dict[str, str], run_id: str, port: int, logs: Path) -> subprocess.Popen:
    argv = [
        sys.executable, "-m", "mlflow", "models", "serve", "--env-manager", "local",
        "-m", f"runs:/{run_id}/model", "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    out = open(logs / "mlflow-serve.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(script), url,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
    stats = json.loads(line.removeprefix("WRK_JSON "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    return stats


def measure(
    name: str, url: str, script: Path, connections: list[int], seconds: int
) -> list[dict[str, Any]]:
    wrk(url, script, 4, 3)  # warm-up: caches, lazy imports, the thread pool
    rows = []
    for count in connections:
        load = os.getloadavg()[0]
        stats = wrk(url, script, count, seconds)
        stats.update(server=name, connections=count, load_before=load)
        log.info(
            "%s c=%d: %.0f req/s, p99 %.2f ms", name, count, stats["rps"], stats["p99_us"] / 1e3
        )
        rows.append(stats)
    return rows


def check_bodies(ours: str, theirs: str, body: bytes) -> None:
    """Both servers answer the benchmark body with the same predictions."""
    headers = {"Content-Type": "application/json"}
    a = httpx.post(ours, content=body, headers=headers, timeout=30).raise_for_status().json()
    b = httpx.post(theirs, content=body, headers=headers, timeout=30).raise_for_status().json()
    logits = b["predictions"][0]
    theirs_prediction = max(range(len(logits)), key=logits.__getitem__)
    if a["predictions"] != [theirs_prediction]:
        raise RuntimeError(f"servers disagree: ours {a['predictions']}, MLflow {theirs_prediction}")


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| server | connections | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['server']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_us'] / 1e3:.2f} | "
            f"{r['p90_us'] / 1e3:.2f} | {r['p99_us'] / 1e3:.2f} | {r['max_us'] / 1e3:.1f} | "
            f"{r['non_2xx'] + r['socket_errors']} | {r['load_before']:.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--keep", type=Path, help="Work here and keep it (logs, stores).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    work = args.keep or Path(tempfile.mkdtemp(prefix="mlcanvas-bench-serve-"))
    stack = load_stack_module().make_stack(work)
    write_synthetic_mnist(stack.data_dir / "datasets" / "mnist")
    mlflow_proc = None
    try:
        log.info("starting the stack in %s", work)
        stack.start_prefect()
        stack.start_executor_and_api()
        job_id, deployment_id = train_and_deploy(stack.api)
        run_id = run_id_of(work / "mlruns", job_id)
        log.info("job %s, run %s, deployment %s", job_id, run_id, deployment_id)

        rng = random.Random(1)
        image = [[[round(rng.random(), 3) for _ in range(28)] for _ in range(28)]]
        body = json.dumps({"inputs": [image]}).encode()
        (work / "body.json").write_bytes(body)
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=work / "body.json"))

        ours = f"{stack.api}/api/deploy/{deployment_id}/infer"
        rows = measure("ours (deployment infer)", ours, script, args.connections, args.seconds)

        port = load_stack_module().free_port()
        env = {**stack.env, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlruns' / 'mlflow.db'}"}
        mlflow_proc = start_mlflow_serve(env, run_id, port, stack.logs)
        theirs = f"http://127.0.0.1:{port}/invocations"
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200, 180, "mlflow"
        )
        check_bodies(ours, theirs, body)
        rows += measure("mlflow models serve", theirs, script, args.connections, args.seconds)
    finally:
        if mlflow_proc is not None:
            stop_process(mlflow_proc)
        stack.stop_all()

    by = {(r["server"].split()[0], r["connections"]): r for r in rows}
    sys.stdout.write(f"{os.cpu_count()} CPUs, {args.seconds} s per row, wrk -t1 on loopback\n")
    sys.stdout.write(table(rows) + "\n")
    for count in args.connections:
        ratio = by[("ours", count)]["rps"] / by[("mlflow", count)]["rps"]
        sys.stdout.write(f"c={count}: ours / MLflow requests/s = {ratio:.2f}x\n")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
