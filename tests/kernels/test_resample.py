"""The resampling kernel (gmmmi._kernels.resample) against a slow loop reference."""

import numpy as np

from gmmmi._kernels.resample import circular_indices


def _slow_circular(starts, length, n):
    blocks = [[(s + j) % n for s in row for j in range(length)][:n] for row in starts]
    return np.array(blocks, dtype=np.int64)


def test_circular_indices_match_a_slow_reference():
    rng = np.random.default_rng(0)
    for length in (1, 5, 37):
        starts = rng.integers(0, 37, size=(3, -(-37 // length)))
        np.testing.assert_array_equal(
            circular_indices(starts, length, 37), _slow_circular(starts, length, 37)
        )
