"""`mlcanvas deploy/deployments/predict` without a stack: readable errors and exit codes.
(With the real stack they are exercised in tests/e2e/test_api_deploy.py.)"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mlcanvas.cli import app
from mlcanvas.cli_deploy import DEPLOY_TIMEOUT_SECONDS, DeploymentClient

WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}
DEPLOYMENT = "a" * 32


@pytest.fixture
def no_stack_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    "args",
    [["deploy", "b" * 32, "--name", "x"], ["deployments"]],
)
def test_no_stack_is_one_readable_line(no_stack_url: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--api", no_stack_url], env=WIDE)
    assert result.exit_code == 1
    assert f"No stack answers at {no_stack_url}" in result.output
    assert "Traceback" not in result.output


def test_predict_rejects_unreadable_input_files(tmp_path: Path, no_stack_url: str) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    result = CliRunner().invoke(app, ["predict", DEPLOYMENT, str(broken)], env=WIDE)
    assert result.exit_code == 2 and "is not valid JSON" in result.output
    no_inputs = tmp_path / "body.json"
    no_inputs.write_text('{"rows": [1, 2]}')
    result = CliRunner().invoke(app, ["predict", DEPLOYMENT, str(no_inputs)], env=WIDE)
    assert result.exit_code == 2 and "an object with `inputs`" in result.output
    missing = CliRunner().invoke(app, ["predict", DEPLOYMENT, str(tmp_path / "none.json")])
    assert missing.exit_code == 2


def test_predict_without_a_stack(tmp_path: Path, no_stack_url: str) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text("[[0.0, 1.0]]")
    result = CliRunner().invoke(
        app, ["predict", DEPLOYMENT, str(inputs), "--api", no_stack_url], env=WIDE
    )
    assert result.exit_code == 1 and "No stack answers" in result.output


def test_deploy_waits_longer_than_other_calls_for_the_first_deployment() -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"deployment_id": "d"})

    client = DeploymentClient("http://stack.invalid")
    client._http.close()
    client._http = httpx.Client(base_url=client.base_url, transport=httpx.MockTransport(answer))
    with client:
        client.deploy("ab" * 16, None)

    assert seen[0]["read"] == DEPLOY_TIMEOUT_SECONDS > 10
