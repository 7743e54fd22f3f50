"""The work pool's job template declares exactly the job variables our deployments set."""

from __future__ import annotations

from pathlib import Path

from prefect.utilities.templating import apply_values
from prefect.workers.process import ProcessWorker

from flows.deployments import base_job_template, job_variables
from mlcanvas.settings import Settings


def test_the_template_takes_the_deployments_variables_and_nothing_else(tmp_path: Path) -> None:
    variables = job_variables(Settings(data_dir=tmp_path))
    template = base_job_template()

    assert set(template["variables"]["properties"]) == set(variables)
    assert apply_values(template["job_configuration"], variables) == variables
    assert "launcher.py" in variables["command"]


def test_the_kept_variables_are_the_process_workers_own() -> None:
    default = ProcessWorker.get_default_base_job_template()
    template = base_job_template()

    for key, schema in template["variables"]["properties"].items():
        assert schema == default["variables"]["properties"][key]
        assert template["job_configuration"][key] == default["job_configuration"][key]
