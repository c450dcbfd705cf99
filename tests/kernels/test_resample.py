"""The resampling kernel (gmmmi._kernels.resample) against a slow loop reference."""

import numpy as np

from gmmmi._kernels.resample import stationary_indices


def _slow_stationary(starts, new_block, n):
    out = np.empty_like(starts)
    for b in range(starts.shape[0]):
        row = starts[b, 0]
        for a in range(starts.shape[1]):
            if a > 0:
                row = starts[b, a] if new_block[b, a] else (row + 1) % n
            out[b, a] = row
    return out


def test_stationary_indices_match_a_slow_reference():
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 37, size=(5, 37))
    new_block = rng.random((5, 37)) < 0.2
    np.testing.assert_array_equal(
        stationary_indices(starts, new_block, 37), _slow_stationary(starts, new_block, 37)
    )
