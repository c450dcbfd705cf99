"""Entry points for the estimands that are not plain MI or CMI, on `gmmmi.estimate`'s pipeline.

`categorical_mi` (MI with a category label) and `marginal_kl` (MI and the KL
divergences between the two marginals of one joint fit) resolve their options
into one `~gmmmi._estimate_options.EstimateOptions` and run the same
validation, screening, fit, integrals and checks as `gmmmi.estimate`
(`gmmmi.api.run`). `estimate(..., discrete_y=True)` and
`estimate(..., kl=True)` are aliases of these functions and give the same
results. The other entry points on the pipeline live beside the code of their
estimand: `gmmmi.entropy`, `gmmmi.divergence`, `gmmmi.lagged_mi`,
`gmmmi.transfer_entropy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._estimate_options import resolve_options
from .api import run
from .backends import Backend
from .mixture import MixtureDraws
from .result import Result

__all__ = ["categorical_mi", "marginal_kl"]


def categorical_mi(
    x: Any,
    labels: Any,
    *,
    min_category_size: int | None = None,
    backend: str | Backend = "numba",
    base: float = math.e,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
    init: Sequence[MixtureDraws] | None = None,
    transform: str = "auto",
    discrete: str | Sequence[str | int] | None = "auto",
    dequantize: bool | Sequence[str | int] | None = None,
    **options: Any,
) -> Result:
    """MI between continuous variables and a category label, with its uncertainty.

    One mixture is fitted per category (``gmmmi.categorical``), and
    I(x; label) = h(x) - sum_c p(c) h(x | c) is integrated from them, the
    class weights drawn with the bootstrap (multinomial), the posterior
    (Dirichlet) or fixed (a single fit). Formerly
    ``gmmmi.estimate(x, labels, discrete_y=True)``, which still works and
    gives the same result.

    Parameters
    ----------
    x : array_like or DataFrame, shape (n, dx)
        Continuous variables, one row per sample; a 1-d array is one variable.
    labels : array_like, shape (n,)
        A category label per row, of any hashable type. Low counts (e.g.
        spike counts) work as categories; every category needs enough rows
        for its own fit (a ValueError names those that have too few).
    min_category_size : int or None, default None
        Pool the categories with fewer rows than this: numbers such as counts
        are merged with their neighbours (labels like ``"5-7"``), other
        labels into one ``"other"`` category. None: no pooling.
    backend, base, random_state, progress, transform, discrete, dequantize
        As in `gmmmi.estimate`.
    init : list of MixtureDraws, optional
        Warm starts in data units: one S = 1 mixture per category, in
        category order (e.g. an earlier result's
        ``diagnostics.per_category[c].reference_fit``).
    **options
        The backend's options and ``integral_method``, ``MC_samples``,
        ``fixed_components_number``, ``bias_correction``, as in
        `gmmmi.estimate`.

    Returns
    -------
    Result
        ``result.quantity == "mi"``; ``result.meta["categories"]`` lists the
        categories, ``result.diagnostics.per_category`` their fits.

    Raises
    ------
    ValueError
        A category with too few rows for its own fit, ``z=`` (conditioning
        is not offered with a label), and the input errors of
        `gmmmi.estimate`.

    See Also
    --------
    estimate : MI and CMI between continuous blocks.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 500)
    >>> x = rng.normal(size=500) + labels  # two unit Gaussians one sd apart
    >>> res = gmmmi.categorical_mi(x, labels, random_state=0)
    >>> res.value == gmmmi.estimate(x, labels, discrete_y=True, random_state=0).value
    True
    """
    resolved = resolve_options(
        backend=backend,
        estimand="categorical",
        base=base,
        min_category_size=min_category_size,
        transform=transform,
        discrete=discrete,
        dequantize=dequantize,
        init=init,
        **options,
    )
    return run(x, labels, None, resolved, random_state=random_state, progress=progress)


def marginal_kl(
    x: Any,
    y: Any,
    *,
    backend: str | Backend = "numba",
    base: float = math.e,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
    init: MixtureDraws | None = None,
    transform: str = "auto",
    discrete: str | Sequence[str | int] | None = "auto",
    bootstrap: str = "iid",
    block_length: float | None = None,
    sample_weight: Any = None,
    **options: Any,
) -> Result:
    """KL divergences between the marginals of x and y in one joint fit, with the MI.

    GMM-MI's KL: one mixture is fitted to the joint (x, y) as by
    `gmmmi.estimate`, and KL[p(x) || p(y)] and KL[p(y) || p(x)] are
    integrated from its two marginals, per bootstrap replica or posterior
    draw. KL is invariant only under one affine map applied to x and y
    alike, so it is computed with x and y sharing one centre and scale per
    coordinate: the value in data units. Formerly
    ``gmmmi.estimate(x, y, kl=True)``, which still works and gives the same
    result. For the divergence between the laws of two separate samples, use
    `gmmmi.divergence`.

    Parameters
    ----------
    x, y : array_like or DataFrame, shape (n, d)
        Paired continuous samples of the same dimension d.
    backend, base, random_state, progress, init, bootstrap, block_length, sample_weight
        As in `gmmmi.estimate`.
    transform : {"auto", "none"}, default "auto"
        ``"auto"`` keeps the raw data (KL is not invariant under separate
        maps of x and y); ``"gaussianize"`` is refused.
    discrete : "auto" or None, default "auto"
        Discrete columns are refused (a KL between continuous marginals);
        None fits every column as continuous.
    **options
        The backend's options and ``integral_method``, ``MC_samples``,
        ``fixed_components_number``, ``bias_correction``, as in
        `gmmmi.estimate`.

    Returns
    -------
    Result
        ``result.kl`` holds ``(KL[p(x) || p(y)], KL[p(y) || p(x)])``, their
        draws ``result.draws["kl_xy"]`` and ``["kl_yx"]``; ``result.value``
        is the MI of the same fit.

    Raises
    ------
    ValueError
        x and y of different dimensions, discrete columns, and the input
        errors of `gmmmi.estimate`.

    See Also
    --------
    divergence : KL or JS divergence between the laws of two samples.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 500))
    >>> res = gmmmi.marginal_kl(x, 2 * y, random_state=0)
    >>> res.kl == gmmmi.estimate(x, 2 * y, kl=True, random_state=0).kl
    True
    """
    resolved = resolve_options(
        backend=backend,
        estimand="kl",
        base=base,
        transform=transform,
        discrete=discrete,
        bootstrap=bootstrap,
        block_length=block_length,
        init=init,
        sample_weight=sample_weight,
        **options,
    )
    return run(x, y, None, resolved, random_state=random_state, progress=progress)
