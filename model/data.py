"""The Iris data set (shipped inside scikit-learn, no download) and its held-out split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

# The API's field order: {"features": [sepal_length, sepal_width, petal_length, petal_width]}, cm.
FEATURE_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


@dataclass(frozen=True)
class Dataset:
    """All rows plus a stratified train/test split of them."""

    X: np.ndarray
    y: np.ndarray
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def load_dataset(seed: int, test_size: float) -> Dataset:
    """Load Iris and split it, stratified by class, with `seed`."""
    iris = load_iris()
    X = np.asarray(iris.data, dtype=np.float64)
    y = np.asarray(iris.target)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    return Dataset(
        X=X,
        y=y,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        class_names=tuple(str(name) for name in iris.target_names),
    )
