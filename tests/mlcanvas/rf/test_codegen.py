from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from mlcanvas.rf import RFHyperparameters, RFResult, generate_rf_source, save_rf_artifact

if TYPE_CHECKING:
    from conftest import IrisSplit

HYPERPARAMETERS = RFHyperparameters(
    n_estimators=12,
    max_depth=5,
    criterion="entropy",
    max_features=0.5,
    min_samples_split=3,
    min_samples_leaf=2,
    bootstrap=False,
    random_state=9,
)

_PREDICT_IN_A_FRESH_INTERPRETER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("exported_model", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.GeneratedRandomForestModel.load(sys.argv[2])
rows = json.loads(sys.argv[3])
print(json.dumps({
    "indices": [int(i) for i in model.predict(rows)],
    "labels": model.predict_labels(rows),
    "proba": model.predict_proba(rows).tolist(),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] == "mlcanvas"),
}))
"""


def _source(iris: IrisSplit, hyperparameters: RFHyperparameters = HYPERPARAMETERS) -> str:
    return generate_rf_source(
        hyperparameters,
        feature_names=iris.feature_names,
        class_names=iris.class_names,
        dataset="iris",
    )


def _load_module(source: str) -> types.ModuleType:
    module = types.ModuleType("generated_rf")
    exec(compile(source, "model.py", "exec"), module.__dict__)
    return module


def test_source_is_byte_deterministic_and_names_the_class(iris: IrisSplit) -> None:
    source = _source(iris)
    assert source == _source(iris)
    assert "class GeneratedRandomForestModel" in source
    assert source != _source(iris, HYPERPARAMETERS.model_copy(update={"n_estimators": 13}))


def test_forest_is_built_from_the_eight_hyperparameters_in_fixed_order(iris: IrisSplit) -> None:
    source = _source(iris)
    call = source[source.index("RandomForestClassifier(\n") :]
    positions = [call.index(f"{name}=") for name in HYPERPARAMETERS.to_sklearn_kwargs()]
    assert positions == sorted(positions)

    estimator = _load_module(source).GeneratedRandomForestModel().model
    params = estimator.get_params()
    assert {k: params[k] for k in HYPERPARAMETERS.to_sklearn_kwargs()} == (
        HYPERPARAMETERS.to_sklearn_kwargs()
    )


def test_fit_predict_check_the_feature_count_and_save_the_contract_dict(
    tmp_path: Path, iris: IrisSplit
) -> None:
    model_class = _load_module(_source(iris)).GeneratedRandomForestModel
    model = model_class().fit(iris.X_train, iris.y_train)
    assert model.predict(iris.X_test[0]).shape == (1,)
    with pytest.raises(ValueError, match="feature count"):
        model.predict(iris.X_test[:, :3])
    with pytest.raises(ValueError, match="feature count"):
        model.predict_proba([[1.0] * 5])

    path = tmp_path / "model.pkl"
    model.save(str(path))
    reloaded = model_class.load(str(path))
    np.testing.assert_array_equal(reloaded.predict(iris.X_test), model.predict(iris.X_test))


def test_fresh_interpreter_loads_our_artifact_and_predicts_the_same(
    tmp_path: Path, iris: IrisSplit, iris_forest: RFResult, iris_hyperparameters: RFHyperparameters
) -> None:
    source_path = tmp_path / "model.py"
    source_path.write_text(_source(iris, iris_hyperparameters), encoding="utf-8")
    artifact_path = tmp_path / "model.pkl"
    save_rf_artifact(
        artifact_path,
        model=iris_forest.model,
        dataset="iris",
        feature_names=iris.feature_names,
        class_names=iris.class_names,
        hyperparameters=iris_hyperparameters,
    )
    rows = iris.X_test.tolist()
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _PREDICT_IN_A_FRESH_INTERPRETER,
            str(source_path),
            str(artifact_path),
            json.dumps(rows),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    out = json.loads(completed.stdout)
    expected = iris_forest.model.predict(iris.X_test)
    assert out["indices"] == expected.tolist()
    assert out["labels"] == [iris.class_names[i] for i in expected]
    np.testing.assert_allclose(out["proba"], iris_forest.model.predict_proba(iris.X_test))
    assert out["modules"] == []  # the export does not need mlcanvas
