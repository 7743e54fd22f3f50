"""What validate answers (contract §3 step 7, §4): always 200, `valid:false` lists the errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mlcanvas.errors import ErrorDetail, GraphValidationError


class NodeShapes(BaseModel):
    """A node's tensor shapes without the batch dim; null where they could not be inferred."""

    input: list[int] | None = Field(default=None, description="Null for the input node.")
    output: list[int] | None = Field(default=None, description="Null after a failure.")


class ValidationReport(BaseModel):
    """Validation result; `errors` are ErrorObj dicts (node_id, message, expected, got, field)."""

    valid: bool = Field(description="True unlocks training in the client.")
    shapes: dict[str, NodeShapes] = Field(description="Every node id; empty for an empty graph.")
    errors: list[dict[str, Any]] = Field(description="Every problem found, structure first.")
    execution_order: list[str] = Field(description="The Input->Output walk, else topo order.")
    warnings: list[str] = Field(default_factory=list, description="Always [] from validate.")
    param_counts: dict[str, int] = Field(
        default_factory=dict, description="Trainable parameters per node with known shapes."
    )
    total_params: int = Field(default=0, description="Sum of `param_counts`.")

    @classmethod
    def from_parts(
        cls,
        *,
        errors: list[ErrorDetail],
        shapes: dict[str, NodeShapes],
        execution_order: list[str],
        param_counts: dict[str, int] | None = None,
    ) -> ValidationReport:
        counts = param_counts or {}
        return cls(
            valid=not errors,
            shapes=shapes,
            errors=[error.to_dict() for error in errors],
            execution_order=execution_order,
            param_counts=counts,
            total_params=sum(counts.values()),
        )

    @property
    def graph_input_shape(self) -> list[int] | None:
        """The input node's shape (first in `execution_order`), for the dataset contract."""
        return self._output_of(0)

    @property
    def graph_num_classes(self) -> int | None:
        """The output node's class count (last in `execution_order`), for the dataset contract."""
        output = self._output_of(-1)
        return output[0] if output else None

    def _output_of(self, position: int) -> list[int] | None:
        if not self.execution_order:
            return None
        entry = self.shapes.get(self.execution_order[position])
        return None if entry is None else entry.output

    def error_details(self) -> list[ErrorDetail]:
        return [ErrorDetail(**error) for error in self.errors]

    def raise_if_invalid(self) -> None:
        """Compile and train stop here with a 400 listing every error."""
        if not self.valid:
            raise GraphValidationError(self.error_details(), list(self.warnings))
