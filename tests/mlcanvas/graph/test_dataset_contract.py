"""Graph vs dataset at train time (contract §3 "Dataset contract", §6, §11 item 3)."""

from __future__ import annotations

from mlcanvas.graph import check_dataset_contract, check_rf_dataset_contract


def test_matching_graph_has_no_errors() -> None:
    assert (
        check_dataset_contract(
            name="MNIST",
            input_shape=[1, 28, 28],
            num_classes=10,
            graph_input_shape=(1, 28, 28),
            graph_num_classes=10,
        )
        == []
    )


def test_mnist_graph_on_digits_names_the_required_shape() -> None:
    errors = check_dataset_contract(
        name="Digits (sklearn)",
        input_shape=[1, 8, 8],
        num_classes=10,
        graph_input_shape=[1, 28, 28],
        graph_num_classes=3,
    )
    assert [error.to_dict() for error in errors] == [
        {
            "message": "Digits (sklearn) requires Input.shape=[1, 8, 8]",
            "node_id": None,
            "field": "config.shape",
            "expected": [1, 8, 8],
            "got": [1, 28, 28],
        },
        {
            "message": "Digits (sklearn) requires Output.num_classes=10",
            "node_id": None,
            "field": "config.num_classes",
            "expected": 10,
            "got": 3,
        },
    ]


def test_rf_feature_count_is_the_product_of_the_input_shape() -> None:
    assert (
        check_rf_dataset_contract(
            name="Iris",
            feature_count=4,
            num_classes=3,
            graph_input_shape=[2, 2],
            graph_num_classes=3,
        )
        == []
    )


def test_rf_mismatches_name_feature_count_and_classes() -> None:
    errors = check_rf_dataset_contract(
        name="Wine Quality (Red)",
        feature_count=11,
        num_classes=6,
        graph_input_shape=[4],
        graph_num_classes=3,
    )
    assert [(e.message, e.field, e.expected, e.got) for e in errors] == [
        (
            "Wine Quality (Red) requires 11 features (product of RFInput.shape)",
            "config.shape",
            11,
            4,
        ),
        ("Wine Quality (Red) requires RFOutput.num_classes=6", "config.num_classes", 6, 3),
    ]
