from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from mlcanvas.rf.running_votes import out_of_bag_mask

if TYPE_CHECKING:
    from conftest import IrisSplit


def test_out_of_bag_mask_is_the_complement_of_sklearns_in_bag_rows(iris: IrisSplit) -> None:
    forest = RandomForestClassifier(n_estimators=5, random_state=11).fit(iris.X_train, iris.y_train)
    n_samples = len(iris.X_train)
    for tree, in_bag in zip(forest.estimators_, forest.estimators_samples_, strict=True):
        expected = np.ones(n_samples, dtype=bool)
        expected[in_bag] = False
        np.testing.assert_array_equal(out_of_bag_mask(tree, n_samples), expected)
