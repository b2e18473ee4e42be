"""The attacks' SVC with the expanded decision function predicts exactly what sklearn's SVC predicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.svm import SVC

from unlearnkit.core.svc_attack import expansion_order, features, fit_predict


def reference(x, y, target, seed=0):
    return SVC(C=3.0, gamma="auto", kernel="rbf", random_state=seed).fit(x, y).predict(target)


@pytest.mark.parametrize("a, b", [(8, 1), (2, 2), (1, 1)])
def test_predictions_equal_sklearn_on_confidence_like_features(a, b):
    rng = np.random.default_rng(a * 10 + b)
    n = 600
    x = np.r_[rng.beta(a, b, n), rng.beta(0.7 * a, b, n)].reshape(-1, 1)
    # Saturated confidences (exactly 1.0) are common for memorised training samples.
    x[rng.choice(len(x), 50, replace=False)] = 1.0
    y = np.r_[np.ones(n), np.zeros(n)]
    target = np.r_[rng.beta(0.85 * a, b, 400), np.ones(20), np.zeros(5)].reshape(-1, 1)
    assert np.array_equal(fit_predict(x, y, target, 3.0, 0), reference(x, y, target))


def test_expansion_reproduces_the_kernel():
    x = np.linspace(0, 1, 41).reshape(-1, 1)
    phi = features(x, 1.0, expansion_order(2.0))
    exact = np.exp(-((x - x.T) ** 2))
    assert np.abs(phi @ phi.T - exact).max() < 1e-14


def test_order_grows_with_scale_and_gives_up_when_too_large():
    assert expansion_order(2.0) < expansion_order(8.0)
    assert expansion_order(1e3) is None
    k = expansion_order(2.0)
    assert 2.0 ** (k + 1) / math.factorial(k + 1) < 1e-18 * math.exp(2.0) * 10


def test_other_features_use_sklearn_unchanged():
    rng = np.random.default_rng(3)
    x2 = rng.random((300, 2))
    y = (x2.sum(1) + 0.3 * rng.standard_normal(300) > 1).astype(float)
    t2 = rng.random((50, 2))
    assert np.array_equal(fit_predict(x2, y, t2, 3.0, 0), reference(x2, y, t2))
    wide = (rng.random((300, 1)) * 40).round(1)  # beyond the expansion's range
    t = rng.random((50, 1)) * 40
    assert np.array_equal(fit_predict(wide, y, t, 3.0, 0), reference(wide, y, t))
