"""Deployments in the API process: what must hold before a job is served, model loading,
the entry of the infer hot path, and the process tuning that serving needs.

Records, logs and counters live in `mlcanvas.deployments.DeploymentStore`; the loaded models
live in the shared `ModelCache` (bounded LRU); inference runs on the worker of
`deploy_inference.DeploymentInference` and reads only memory and the cache (counters and logs
are flushed in the background).
"""

from __future__ import annotations

import gc
import logging
import re
import sys

from starlette.concurrency import run_in_threadpool

from api.services.deploy_inference import ARTIFACT_SUFFIX, DeploymentInference
from api.services.jobs import JobService, JobView
from api.services.models import ModelCache
from mlcanvas.deployments.record import LOCAL_TARGET, RUNNING, Deployment
from mlcanvas.deployments.restore_child import restore_in_child
from mlcanvas.deployments.store import DeploymentStore
from mlcanvas.errors import InvalidInputError, MLCanvasError, NotFoundError, NotReadyError
from mlcanvas.jobs.bundle import ARTIFACT, FILES, job_dir
from mlcanvas.jobs.ids import check_job_id
from mlcanvas.settings import Settings

log = logging.getLogger(__name__)

_INFER_PATH = re.compile(r"/api/deploy/[0-9a-f]{32}/infer")
REMOTE_NOT_SUPPORTED = (
    "Only local deployment is supported right now. Remote targets are planned next."
)


def normalise_target(target: str | None) -> str:
    """Trimmed and lowercased; only `local` exists (contract §7). Absent/null means local."""
    cleaned = LOCAL_TARGET if target is None else target.strip().lower()
    if cleaned != LOCAL_TARGET:
        raise InvalidInputError(REMOTE_NOT_SUPPORTED, target=target)
    return cleaned


class DeploymentService:
    def __init__(
        self, store: DeploymentStore, jobs: JobService, models: ModelCache, settings: Settings
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.models = models
        self.settings = settings
        self.inference = DeploymentInference(store, models, settings)
        self._modules_frozen = 0  # len(sys.modules) at the last freeze_new_imports

    # --- control plane ------------------------------------------------------------------
    async def create(self, job_id: str, target: str | None, name: str | None) -> Deployment:
        """Deploy a finished NN or RF job: its bundle and artifact must exist and load."""
        target = normalise_target(target)
        view = await self._finished_job(check_job_id(job_id))
        await run_in_threadpool(self._load_model, view.kind, view.job_id)
        record = await run_in_threadpool(
            self.store.create, job_id=view.job_id, kind=view.kind, name=name, target=target
        )
        await run_in_threadpool(self.freeze_new_imports)
        log.info("deployed %s job %s as %s", view.kind, view.job_id, record.deployment_id)
        return record

    async def _finished_job(self, job_id: str) -> JobView:
        try:
            view = await self.jobs.view("nn", job_id, fresh=True)
        except NotFoundError:
            view = await self.jobs.view("rf", job_id, fresh=True)
        if view.status == "failed":
            raise NotReadyError(
                f"Job {job_id} failed ({view.error}); only finished jobs can be deployed",
                job_id=job_id,
                status=view.status,
            )
        if not view.terminal:
            raise NotReadyError(
                f"Job {job_id} is still {view.status}; deploy it once it has finished",
                job_id=job_id,
                status=view.status,
            )
        return view

    def _load_model(self, kind: str, job_id: str) -> None:
        """Load (or find cached) the job's model; the contract's 404s when files are missing."""
        folder = job_dir(self.settings, kind, job_id)
        if not (folder / FILES["graph"]).exists():
            raise NotFoundError(
                f"No graph bundle found for job_id: {job_id}. "
                "Retrain or restart with a recent job.",
                job_id=job_id,
            )
        if not (folder / ARTIFACT[kind]).exists():
            raise NotFoundError(
                f"No .{ARTIFACT_SUFFIX[kind]} artifact found for job_id: {job_id}", job_id=job_id
            )
        if kind == "nn":
            self.models.nn(folder)
        else:
            self.models.rf(folder)

    async def start(self, deployment_id: str) -> Deployment:
        """Unchanged when running; else check the registry entry, reload the model, run."""
        record = await run_in_threadpool(self.store.get, deployment_id)
        if record.is_running:
            return record
        await run_in_threadpool(self.store.resolve_version, deployment_id)
        await run_in_threadpool(self._load_model, record.kind, record.job_id)
        running = await run_in_threadpool(self.store.set_status, deployment_id, RUNNING)
        await run_in_threadpool(self.freeze_new_imports)
        return running

    def freeze_new_imports(self) -> None:
        """Before a deployment serves: if torch, scikit-learn or MLflow were imported since
        the last freeze (they load on first use), freeze what they brought, as start-up
        freezes its own objects (`tune_process_for_serving` says why). Free otherwise."""
        modules = len(sys.modules)
        if modules != self._modules_frozen:
            gc.collect()
            gc.freeze()
            self._modules_frozen = modules

    async def stop(self, deployment_id: str) -> Deployment:
        return await run_in_threadpool(self.store.delete, deployment_id)

    # --- hot path ------------------------------------------------------------------------
    async def infer(self, deployment_id: str, body: bytes) -> bytes:
        """The reply as JSON bytes; parsing, checks and the forward pass run off the loop."""
        if not self.store.is_restored:  # only if MLflow was down at start-up: no I/O on the loop
            await run_in_threadpool(self.store.restore)
        record = self.store.get(deployment_id)
        if not record.is_running:
            raise NotReadyError("Deployment is not running", deployment_id=deployment_id)
        return await self.inference.infer(record, body)

    def close(self) -> None:
        """Stop the inference worker, then write the counters and logs still in memory."""
        self.inference.close()
        self.store.close()


def open_deployments(settings: Settings, jobs: JobService, models: ModelCache) -> DeploymentService:
    """Build the service at start-up: records restored (running ones come back stopped) by a
    child process, so MLflow is only imported here by the first deployment write; then the
    background flush started. If MLflow is unreachable now, the restore is retried (in this
    process) on first use instead of keeping the API down."""
    store = DeploymentStore.open(settings)
    try:
        store.adopt(restore_in_child(settings))
    except MLCanvasError:
        log.exception("could not restore deployments at start-up; retrying on first use")
    store.start_background_flush()
    return DeploymentService(store, jobs, models, settings)


def tune_process_for_serving() -> None:
    """Call once, at the end of API start-up (measured in docs/benchmarks.md, Serving).

    - One torch intra-op thread: set when torch is imported, with the first NN model
      (`api.services.models.import_torch_for_serving`).
    - `gc.freeze()`: the objects alive after start-up (pydantic schemas, Prefect's client)
      live as long as the process; left unfrozen, every full collection walked all of them
      (pauses of ~600 ms under load with torch and MLflow loaded, the whole p99 at 16
      connections). Those load on first use; `DeploymentService.freeze_new_imports` freezes
      what they bring before a deployment serves.
    - Successful deployment infer calls are left out of uvicorn's access log: the deployment's
      own log already records each one (`inference_request`), and the second line cost about
      a tenth of the event loop's time under load. Failures are still access-logged.
    """
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietInferAccessLog) for f in access_log.filters):
        access_log.addFilter(QuietInferAccessLog())
    gc.collect()
    gc.freeze()


class QuietInferAccessLog(logging.Filter):
    """Drops uvicorn access lines of successful `POST /api/deploy/<id>/infer` calls."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, _version, status = args
            if method == "POST" and 200 <= int(status) < 300 and _INFER_PATH.fullmatch(str(path)):
                return False
        return True
