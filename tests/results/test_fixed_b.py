"""The block bootstrap's critical value (gmmmi._intervals.fixed_b, critical_value)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gmmmi._em.bootstrap import draw_rows
from gmmmi._intervals import critical_value, fixed_b


def kiefer_vogelsang(b):
    """Kiefer & Vogelsang (2005): fitted 97.5% quantile of the Bartlett fixed-b t limit."""
    return 1.96 + 2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3


def test_record_and_its_critical_value_follow_the_formula():
    rule = fixed_b(45, 1000, replicas=50)
    b = 0.045
    dof = 1 / (b * 2 / 3 + 1 / 49)  # Satterthwaite: 1 / nu = b * int k^2 + 1 / (B - 1)
    scale = 1 / math.sqrt(1 - b + b * b / 3)  # E Q_b of the Bartlett fixed-b limit
    assert rule == {"rule": "fixed-b", "b": b, "replicas": 50, "dof": dof, "scale": scale}
    assert critical_value(0.95, rule) == pytest.approx(scale * stats.t.ppf(0.975, dof), 1e-12)
    assert critical_value(0.95, rule) == pytest.approx(2.1349, abs=1e-4)
    assert critical_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    # nearly independent rows and many replicas: the normal quantile
    assert critical_value(0.95, fixed_b(1, 10**7, replicas=10**7)) == pytest.approx(1.96, 1e-3)
    with pytest.raises(ValueError, match=r"^Unknown interval correction \{'rule': 'x'\}; known"):
        critical_value(0.95, {"rule": "x"})


@pytest.mark.parametrize("b", [0.01, 0.02, 0.05, 0.1])
def test_fixed_b_95_near_the_published_polynomial(b):
    # the scaled-t approximation (Sun 2014) against Kiefer & Vogelsang's fitted polynomial
    assert critical_value(0.95, fixed_b(b * 1000, 1000)) == pytest.approx(
        kiefer_vogelsang(b), abs=0.02
    )


@pytest.mark.slow
@pytest.mark.parametrize("b", [0.025, 0.1])
def test_fixed_b_covers_the_simulated_studentised_mean(b):
    """White noise, t = sqrt(n) mean / sqrt(circular Bartlett variance of bandwidth L = b n)."""
    rng = np.random.default_rng(11)
    n, sets = 200, 20000
    L = round(b * n)
    x = rng.standard_normal((sets, n))
    centred = x - x.mean(1, keepdims=True)
    acov = np.fft.irfft(np.abs(np.fft.rfft(centred, axis=1)) ** 2, n=n, axis=1) / n
    lag = np.minimum(np.arange(n), n - np.arange(n))
    variance = acov @ np.clip(1 - lag / L, 0, None)  # = the circular block bootstrap's
    t = np.abs(math.sqrt(n) * x.mean(1) / np.sqrt(variance))
    rule = fixed_b(L, n)
    for prob in (0.68, 0.95):
        cover = np.mean(t <= critical_value(prob, rule))
        se = math.sqrt(prob * (1 - prob) / sets)
        assert abs(cover - prob) < 4 * se, (prob, cover)
    assert np.mean(t <= 1.959964) < 0.95 - 4 * math.sqrt(0.95 * 0.05 / sets)  # 1.96 is short


@pytest.mark.slow
def test_fixed_b_with_replicas_covers_a_circular_block_bootstrap_of_the_mean():
    """White-noise means, sd from B = 20 circular-block replicas (gmmmi's rows), L / n = 0.05."""
    rng = np.random.default_rng(12)
    n, L, B, sets = 200, 10, 20, 3000
    x = rng.standard_normal((sets, n))  # true mean 0
    rows = draw_rows(rng, B * sets, n, L).reshape(sets, B, n)
    replicas = np.take_along_axis(x[:, None, :], rows, axis=2).mean(2)
    sd = replicas.std(1, ddof=1)
    mean = x.mean(1)
    c = critical_value(0.95, fixed_b(L, n, replicas=B))
    se = math.sqrt(0.95 * 0.05 / sets)
    assert abs(np.mean(np.abs(mean) <= c * sd) - 0.95) < 4 * se
    assert np.mean(np.abs(mean) <= 1.959964 * sd) < 0.95 - 4 * se
