from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import orjson
import pytest
import torch

from mlcanvas.compile.module import build_module
from mlcanvas.errors import InferenceInputError
from mlcanvas.graph.layers import LayerSpec
from mlcanvas.inference.nn_infer import (
    MAX_INFER_ROWS,
    is_plain_inputs_body,
    predict,
    prepare_inputs,
)

DIGITS = [1, 8, 8]  # r = 3, E = 64


def _image(value: float = 0.0, shape: tuple[int, ...] = (1, 8, 8)) -> Any:
    return torch.full(shape, value).tolist()


def _digits_model() -> torch.nn.Module:
    torch.manual_seed(0)
    layers = [
        LayerSpec("in", "Input", None, (1, 8, 8)),
        LayerSpec("flat", "Flatten", (1, 8, 8), (64,)),
        LayerSpec("hidden", "Dense", (64,), (16,), units=16, activation="relu"),
        LayerSpec("drop", "Dropout", (16,), (16,), rate=0.5),
        LayerSpec("out", "Output", (16,), (10,), units=10, activation="none"),
    ]
    return build_module(layers).eval()


# --- the §4 table, one row each ----------------------------------------------------------


def test_rank_r_is_a_batch_of_one() -> None:
    x = prepare_inputs(_image(0.5), DIGITS)

    assert x.shape == (1, 1, 8, 8)
    assert x.dtype == torch.float32
    assert bool((x == 0.5).all())


def test_rank_r_plus_one_is_a_batch() -> None:
    batch = [_image(float(i)) for i in range(3)]

    x = prepare_inputs(batch, DIGITS)

    assert x.shape == (3, 1, 8, 8)
    assert x[2, 0, 7, 7].item() == 2.0


def test_one_dimensional_with_e_values_is_one_image_in_row_major_order() -> None:
    x = prepare_inputs(list(range(64)), DIGITS)

    assert x.shape == (1, 1, 8, 8)
    assert x[0, 0, 1, 0].item() == 8.0


def test_n_by_e_is_a_batch_of_flat_images() -> None:
    x = prepare_inputs([[float(i)] * 64 for i in range(5)], DIGITS)

    assert x.shape == (5, 1, 8, 8)
    assert x[4].unique().tolist() == [4.0]


def test_rank_one_input_shape_accepts_a_vector_and_a_matrix() -> None:
    assert prepare_inputs([1, 2, 3, 4], [4]).shape == (1, 4)
    assert prepare_inputs([[1, 2, 3, 4], [5, 6, 7, 8]], [4]).shape == (2, 4)


def test_rank_two_input_shape_prefers_the_exact_shape_then_flat_rows() -> None:
    assert prepare_inputs([[1, 2, 3], [4, 5, 6]], [2, 3]).shape == (1, 2, 3)
    assert prepare_inputs([[1, 2, 3, 4, 5, 6]] * 4, [2, 3]).shape == (4, 2, 3)


def test_integers_tuples_and_float_subclasses_are_numbers_too() -> None:
    x = prepare_inputs((1, 2, np.float64(3.0), 4), [4])

    assert x.tolist() == [[1.0, 2.0, 3.0, 4.0]]


@pytest.mark.parametrize("scalar", [3, 0.5, -1])
def test_a_scalar_is_rejected(scalar: float) -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs(scalar, DIGITS)

    assert caught.value.message == "inputs must be at least 1D"


@pytest.mark.parametrize(
    ("inputs", "got_shape"),
    [
        (_image(0.0, (1, 28, 28)), [1, 28, 28]),  # the deployments probe on a digits model
        (_image(0.0, (8, 8)), [8, 8]),
        (_image(0.0, (8, 8, 1)), [8, 8, 1]),
        ([_image(0.0, (1, 8, 7))] * 2, [2, 1, 8, 7]),
        ([0.0] * 63, [63]),
        ([[0.0] * 65] * 2, [2, 65]),
        ([], [0]),
        ([[]], [1, 0]),
        ([[[[[0.0]]]]], [1, 1, 1, 1, 1]),
    ],
)
def test_shapes_outside_the_table_name_both_shapes(inputs: Any, got_shape: list[int]) -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs(inputs, DIGITS)

    assert caught.value.to_detail() == {
        "message": "Input tensor shape is incompatible with model input shape",
        "expected_shape": [1, 8, 8],
        "got_shape": got_shape,
    }


def test_deployments_say_deployed_model() -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs(_image(0.0, (1, 28, 28)), DIGITS, what="deployed model")

    assert caught.value.message == (
        "Input tensor shape is incompatible with deployed model input shape"
    )


# --- not convertible: a clean 400, never a torch traceback ------------------------------


@pytest.mark.parametrize(
    ("inputs", "why"),
    [
        (True, "expected numbers, got a boolean at depth 0"),
        ([1.0, True, 0.0], "expected numbers, got a boolean at depth 1"),
        ([[0.0, 1.0], [False, 1.0]], "expected numbers, got a boolean at depth 2"),
        ("0.5", "expected numbers, got a string at depth 0"),
        (["1", "2"], "expected numbers, got a string at depth 1"),
        ([None, 1.0], "expected numbers, got null at depth 1"),
        (None, "expected numbers, got null at depth 0"),
        ({"pixels": [1, 2]}, "expected numbers, got an object at depth 0"),
        ([1.0, [2.0]], "expected numbers, got a list at depth 1"),
        ([[1.0], 2.0], "ragged nested lists: a list and a number at depth 1"),
        ([[1.0, 2.0], [3.0]], "ragged nested lists: lengths 2 and 1 at depth 1"),
        ([[[1.0]], [[1.0, 2.0]]], "ragged nested lists: lengths 1 and 2 at depth 2"),
        ([1.0, float("nan")], "values must be finite numbers within float32 range"),
        ([float("inf")], "values must be finite numbers within float32 range"),
        ([1e39], "values must be finite numbers within float32 range"),
        ([{1}], "expected numbers, got a value of type set at depth 1"),
    ],
)
def test_unconvertible_payloads_say_why(inputs: Any, why: str) -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs(inputs, [2])

    assert caught.value.message == f"Invalid inputs payload: {why}"


def test_an_integer_beyond_float_range_is_invalid_not_a_crash() -> None:
    with pytest.raises(InferenceInputError, match="^Invalid inputs payload: values must be finite"):
        prepare_inputs([10**400, 1], [2])


FLOAT32_MAX = 3.4028234663852886e38


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (FLOAT32_MAX, FLOAT32_MAX),
        (-FLOAT32_MAX, -FLOAT32_MAX),
        (3.40282356e38, FLOAT32_MAX),  # rounds down to the largest float32
        (2**64, 1.8446744073709552e19),  # an int beyond int64 is still a number
        (1e-46, 0.0),  # underflow is not an error
    ],
)
def test_values_at_the_edges_of_float32_round_to_nearest(value: float, stored: float) -> None:
    assert prepare_inputs([value, 1], [2]).tolist() == [[stored, 1.0]]


@pytest.mark.parametrize("value", [3.4028236e38, -1e39, 2**128])
def test_values_that_round_beyond_float32_are_invalid_without_a_warning(value: float) -> None:
    with pytest.raises(InferenceInputError, match="^Invalid inputs payload: values must be finite"):
        prepare_inputs([value, 1], [2])


@pytest.mark.parametrize(
    ("value", "kind"), [(np.float32(1.0), "float32"), (np.int64(1), "int64"), (np.True_, "bool")]
)
def test_numpy_scalars_other_than_float64_are_not_numbers(value: Any, kind: str) -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs([value, 1.0], [2])

    assert caught.value.message == (
        f"Invalid inputs payload: expected numbers, got a value of type {kind} at depth 1"
    )


def test_the_batch_is_a_fresh_float32_tensor() -> None:
    values = [0.25] * 64

    x = prepare_inputs(values, DIGITS)
    x += 1  # the model may be handed a tensor it can write to; the caller's list is untouched

    assert x.dtype == torch.float32 and x.is_contiguous()
    assert values == [0.25] * 64 and bool((x == 1.25).all())


def test_very_deep_nesting_is_handled_without_recursion() -> None:
    deep: Any = [1.0]
    for _ in range(5000):
        deep = [deep]

    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs(deep, [1])

    assert len(caught.value.extra["got_shape"]) == 5001


# --- bodies of plain numbers: numpy converts them in one call, with the walk's outcome ------


def _deep(levels: int) -> str:
    return "[" * levels + "1.0" + "]" * levels


@pytest.mark.parametrize(
    ("inputs_json", "shape"),
    [
        ("[[[0.5, 1, -2.5e-3, 1E5]]]", [1, 2, 2]),  # rank r: a batch of one
        ("[[1, 2], [3, 4]]", [2]),  # [N, E]
        ("[1, 2, 3, 4]", [2, 2]),  # E values, row-major
        ("[[[1, 2]], [[3, 4]]]", [1, 2]),  # [N, *S]
        ("[[1.0, 2.0], [3.0]]", [2]),  # ragged: the walk names the depth and lengths
        ("[[1.0], [[2.0]]]", [1]),
        ("[[1, 2, 3]]", [2]),  # a shape outside the table
        ("[3.40282356e38, -0.0, 1e-46, 16777217]", [4]),  # rounding at the edges
        ("[3.4028236e38, 1]", [2]),  # rounds to inf: not finite
        ("[-1e39, 1]", [2]),
        ("[18446744073709551616, 340282366920938463463374607431768211456]", [2]),  # big ints
        ("[]", [1]),
        ("[[]]", [1]),
        ("3", [1]),  # a scalar is not 1-D
        (_deep(40), [1]),
        (_deep(70), [1]),  # deeper than numpy's 64 dimensions
        (_deep(1000), [1]),  # orjson parses at most 1024 levels
    ],
)
def test_plain_number_bodies_give_what_the_checking_walk_gives(
    inputs_json: str, shape: list[int]
) -> None:
    body = ('{"inputs": ' + inputs_json + "}").encode()
    assert is_plain_inputs_body(body)
    inputs = orjson.loads(body)["inputs"]

    def outcome(plain_numbers: bool) -> Any:
        try:
            x = prepare_inputs(inputs, shape, plain_numbers=plain_numbers)
        except InferenceInputError as exc:
            return ("error", exc.message, exc.extra)
        return ("batch", x.dtype, list(x.shape), x.tolist(), x.is_contiguous())

    assert outcome(plain_numbers=True) == outcome(plain_numbers=False)


@pytest.mark.parametrize(
    "body",
    [
        b'{"inputs": [1, true]}',
        b'{"inputs": [false]}',
        b'{"inputs": [null, 1]}',
        b'{"inputs": ["1", 2]}',
        b'{"inputs": [{"a": 1}]}',
        b'{"inputs": [1, 2], "return_probabilities": false}',
        b'{"data": [1, 2]}',
        b"[1, 2]",
    ],
)
def test_anything_but_numbers_and_lists_is_not_a_plain_body(body: bytes) -> None:
    assert not is_plain_inputs_body(body)


def test_whitespace_and_exponents_keep_a_body_plain() -> None:
    assert is_plain_inputs_body(b'{ "inputs" :\n\t[[1e-3, -2E+2],\r\n [3, 4]] }')


# --- the batch limit ----------------------------------------------------------------------


def test_the_row_limit_is_inclusive() -> None:
    assert prepare_inputs([[0.0]] * MAX_INFER_ROWS, [1]).shape == (MAX_INFER_ROWS, 1)


def test_more_rows_than_the_limit_are_rejected_naming_it() -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs([[0.0]] * (MAX_INFER_ROWS + 1), [1])

    assert "4096" in caught.value.message
    assert caught.value.extra == {"max_rows": 4096, "got_rows": 4097}


def test_input_errors_pickle_with_their_fields() -> None:
    with pytest.raises(InferenceInputError) as caught:
        prepare_inputs([0.0] * 3, DIGITS)

    assert pickle.loads(pickle.dumps(caught.value)).to_detail() == caught.value.to_detail()


# --- predict -----------------------------------------------------------------------------


def test_predict_returns_plain_lists_with_probabilities() -> None:
    model = _digits_model()
    x = prepare_inputs([_image(0.1), _image(0.9)], DIGITS)

    reply = predict(model, x, return_probabilities=True)

    assert reply["input_shape"] == [2, 1, 8, 8]
    assert reply["output_shape"] == [2, 10]
    assert len(reply["logits"]) == 2 and len(reply["logits"][0]) == 10
    assert all(isinstance(value, float) for value in reply["logits"][0])
    expected = model(x).argmax(dim=1).tolist()
    assert reply["predictions"] == expected
    assert all(isinstance(p, int) for p in reply["predictions"])
    assert [round(sum(row), 5) for row in reply["probabilities"]] == [1.0, 1.0]
    probabilities = torch.tensor(reply["probabilities"])
    assert probabilities.argmax(dim=1).tolist() == expected


def test_predict_omits_probabilities_unless_asked() -> None:
    reply = predict(_digits_model(), prepare_inputs(_image(), DIGITS), return_probabilities=False)

    assert "probabilities" not in reply
    assert set(reply) == {"input_shape", "output_shape", "logits", "predictions"}


def test_predict_is_deterministic_because_dropout_is_off() -> None:
    model = _digits_model()
    x = prepare_inputs(_image(0.3), DIGITS)

    first = predict(model, x, return_probabilities=False)

    assert predict(model, x, return_probabilities=False) == first


def test_predict_refuses_a_model_in_training_mode() -> None:
    model = _digits_model().train()

    with pytest.raises(ValueError, match="eval mode"):
        predict(model, prepare_inputs(_image(), DIGITS), return_probabilities=True)
    assert model.training  # the caller's model is left as it was
