"""Synthetic data with known mutual information.

The paper's mixtures (Piras et al. 2023): D1, D3, D3p, D3 with rho != 0, D5
and D5p; the suffix ``p`` marks models that differ only in their means.
"""

from __future__ import annotations

import numpy as np

from .mixture import MixtureDraws

_D3_COVS = [[[1, 0], [0, 0.1]], [[0.5, 0.2], [0.2, 0.5]], [[0.1, 0.05], [0.05, 0.1]]]
_D5_COVS = _D3_COVS + [[[0.5, -0.1], [-0.1, 0.9]], [[0.2, -0.05], [-0.05, 0.1]]]

#: name -> (weights (K,), means (K, 2), covariances (K, 2, 2)) of the paper's mixtures
PAPER_MIXTURES = {
    "D1": ([1.0], [[-1, 1]], [[[0.5, 0.2], [0.2, 0.5]]]),
    "D3": ([0.3, 0.45, 0.25], [[-1, 1], [0, 2], [-1.5, 2]], _D3_COVS),
    "D3p": ([0.3, 0.45, 0.25], [[-3, 3], [2, 4], [-2.5, 5]], _D3_COVS),
    "D3_rhoneq0": (
        [0.3, 0.45, 0.25],
        [[-1, 1], [0, 2], [-1.5, 2]],
        [[[1, 0.1], [0.1, 0.1]]] + _D3_COVS[1:],
    ),
    "D5": (
        [0.2, 0.35, 0.15, 0.12, 0.18],
        [[-1, 1], [0, 2], [-1.5, 2], [2, 1], [-0.25, 0]],
        _D5_COVS,
    ),
    "D5p": (
        [0.2, 0.35, 0.15, 0.12, 0.18],
        [[-1, 1], [0, 2], [-1.5, 2], [3, 1], [-0.25, 0]],
        _D5_COVS,
    ),
}


def paper_mixture(name: str) -> MixtureDraws:
    """One of the paper's mixtures as a single-draw `MixtureDraws` (S=1, d=2).

    Parameters
    ----------
    name : {"D1", "D3", "D3p", "D3_rhoneq0", "D5", "D5p"}
    """
    if name not in PAPER_MIXTURES:
        raise ValueError(f"Unknown mixture {name!r}; valid names are {', '.join(PAPER_MIXTURES)}.")
    w, m, c = (np.asarray(a, dtype=float) for a in PAPER_MIXTURES[name])
    return MixtureDraws(w[None], m[None], c[None])
