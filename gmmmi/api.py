"""`estimate` (MI, CMI) and the pipeline its sibling entry points share.

Validation → backend → integrators → Result. `estimate`, `gmmmi.categorical_mi`
and `gmmmi.marginal_kl` (`gmmmi.estimands`) resolve their options once into an
`~gmmmi._estimate_options.EstimateOptions` and call `run`; `estimate_many`,
`mi_matrix`, `compare`, `calibration` and `independence_test` resolve theirs
once and call `run` for every estimate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import __version__, _bias, _block_refit, _other_margins, _precompile
from . import integrate as _integrate
from ._data import validate_data
from ._data_units import affine_checked, warn_unstorable
from ._estimate_options import API_OPTIONS, EstimateOptions, estimand_of, resolve_options
from ._interrupt import interruptible
from ._intervals import fixed_b
from ._misfit import check_estimate, warn_misfit
from ._prepare import prepare
from ._progress import progress_enabled
from ._resolution import warn_unresolved
from ._rows import column_orders
from ._screening import warn_few_rows
from ._seeds import resolve_generator
from ._stacklevel import user_stacklevel
from ._weights import REFUSED, check_sample_weight, effective_sample_size
from .backends import Backend, get_backend
from .categorical import fit_categories, integrate_categories
from .dequantize import dequantize_columns
from .diagnostics import FitDiagnostics
from .exceptions import ConvergenceWarning
from .mixed import estimate_mixed, plan_columns
from .mixture import MixtureDraws
from .result import Result

__all__ = ["API_OPTIONS", "estimate", "run"]  # API_OPTIONS: its old home, still importable


@interruptible
def estimate(
    x: Any,
    y: Any = None,
    *,
    z: Any = None,
    backend: str | Backend = "numba",
    base: float = math.e,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
    init: MixtureDraws | Sequence[MixtureDraws] | None = None,
    transform: str = "auto",
    discrete: str | Sequence[str | int] | None = "auto",
    min_category_size: int | None = None,
    dequantize: bool | Sequence[str | int] | None = None,
    bootstrap: str = "iid",
    block_length: float | None = None,
    sample_weight: Any = None,
    **options: Any,
) -> Result:
    """Estimate mutual information (or conditional MI) with its uncertainty.

    gmmmi fits a Gaussian mixture model (GMM) to the samples, integrates the
    fitted density to get the mutual information between the blocks ``x`` and
    ``y`` (given ``z``), and repeats this over bootstrap refits (``backend=
    "numba"``) or posterior draws (``backend="pymc"``) to give its uncertainty.

    Parameters
    ----------
    x : array_like or DataFrame, shape (n, dx)
        First block of variables, one row per sample. Alone, ``x`` of shape
        (n, 2) gives the MI between its two columns, and (n, 2 + k) the
        conditional MI I(X1; X2 | X3, ..., X(2+k)) (the original GMM-MI's
        conventions). A 1-d array is one variable. DataFrame and Series
        column names label the output.
    y : array_like or DataFrame, shape (n, dy), optional
        Second block (default None: ``x`` holds both). For category labels,
        use `gmmmi.categorical_mi`.
    z : array_like or DataFrame, shape (n, dz), optional
        Conditioning block (default None): the result is I(x; y | z).

        Rows of x, y and z are paired by position. When two of them are
        pandas objects their indexes must be equal (same labels, same
        order), else a ValueError asks to align them (e.g.
        ``y.reindex(x.index)``): gmmmi never realigns silently. NaN, inf,
        pandas NA and masked entries (`numpy.ma.MaskedArray`) are missing
        values and refused; so are complex numbers, too few rows and
        (near-)linearly dependent columns (see ``docs/refusals.md``).
    backend : str or Backend, default "numba"
        ``"numba"``: EM fits, K chosen by cross-validation, bootstrap refits.
        ``"pymc"``: a Bayesian mixture whose posterior draws replace the
        bootstrap (needs ``pip install ".[pymc]"``). Or a plugin's name,
        or a `~gmmmi.backends.Backend` object.
    base : float, default math.e
        Logarithm base of the output: e gives nats, 2 gives bits.
    random_state : int, Generator, SeedSequence or None, default None
        Seed of every random draw (bootstrap indices, initialisations, MC
        points, sampler). The same seed gives the same result whatever the
        number of threads. With None a fresh seed is drawn and recorded in
        ``result.meta["random_state"]``.
    progress : bool or None, default None
        Show a progress bar; None shows it in a terminal for long work (and
        never when the environment variable ``GMMMI_PROGRESS=0``).
    init : MixtureDraws or list of MixtureDraws, optional
        Warm start (default None), in data units: a fitted mixture (S = 1,
        e.g. an earlier result's ``diagnostics.reference_fit``) from which the
        full-data fit and every bootstrap replica start; the choice of K is
        skipped (K is the number of components of ``init``). Only for
        backends with ``supports_init`` (numba, pymc). Its
        coordinates are the raw data's, and ``transform="auto"`` then keeps
        the raw data; with ``transform="gaussianize"`` they are the mapped
        data's (the ``mixture`` of a result whose margins were mapped).
    transform : {"auto", "none", "gaussianize"}, default "auto"
        Per-column monotone maps, which leave MI, CMI and the MI with a
        category unchanged (`gmmmi.margins`). ``"gaussianize"``: every
        continuous column through T(x) = Φ⁻¹(F̂(x)), F̂ the CDF of a 1-D
        Gaussian mixture fitted to it, so that skewed, bounded or
        heavy-tailed margins (exp, cube, a sensor curve) do not need many
        components. ``"auto"``: the raw data when every margin is fitted by
        one Gaussian; else whichever of raw and mapped data has the higher
        held-out log-likelihood on the original scale (Jacobian included),
        so that mixtures with multimodal margins keep the raw fit. ``"none"``:
        the raw data (the original GMM-MI; `EstimateMI` uses it). With a map,
        ``result.mixture`` is in the mapped coordinates and
        ``result.transform`` records the maps and the criterion. With
        ``kl=True``, ``"auto"`` keeps the raw data (KL is not invariant under
        separate maps of x and y) and ``"gaussianize"`` is refused.
    discrete : "auto", None or sequence of str or int, default "auto"
        Discrete columns, split off by the chain rule so that no Gaussian is
        fitted to an atom (`gmmmi.mixed`, docs/mixed.md). ``"auto"``: a
        column of x, y or z with 2 to 10 distinct values is discrete, and a
        value holding at least 5% of a continuous column's rows is a point
        mass split off into an indicator; all-continuous data take the
        usual path, with the same numbers. A list of column names or
        indices: those columns, nothing else. None: every column is fitted
        as continuous (columns of few values are refused). Recorded in
        ``result.discrete`` and shown by ``print``.
    min_category_size : int or None, default None
        With discrete columns: pool the levels of each discrete column with
        fewer rows than this. Numbers such as counts are merged with their
        neighbours (labels like ``"5-7"``), other labels into one
        ``"other"`` level. None: no pooling.
    dequantize : bool, sequence of str or int, or None, default None
        Add U(0, 1) noise to these integer (count) columns, which leaves
        their MI unchanged exactly (`gmmmi.dequantize`); True: every integer
        column with more than 10 distinct values. Recorded in
        ``result.meta["dequantized"]``.
    bootstrap : {"iid", "block"}, default "iid"
        How the numba backend resamples the rows. ``"iid"``: one by one, as
        independent draws (a `SerialDependenceWarning` says when the rows
        look like a time series). ``"block"``: the circular block bootstrap
        of Politis & Romano (1992), blocks of consecutive rows (wrapping
        around) starting at random rows, for rows in time order; not with
        ``discrete_y`` or ``backend="pymc"``. Its interval is value ± c sd
        with a fixed-b critical value c (``result.interval_correction``;
        2.14 instead of 1.96 for blocks of 45 of 1000 rows and 50
        replicas). See ``docs/timeseries.md``.
    block_length : float or None, default None
        Rows per block for ``bootstrap="block"`` (rounded to whole rows);
        None chooses it from the data by Politis & White (2004) with the correction of
        Patton, Politis & White (2009) (``gmmmi.block_length``). The result
        records both in ``result.diagnostics.extra["bootstrap"]`` and
        ``["block_length"]``, and its text shows them.
    sample_weight : array_like, shape (n,), optional
        Non-negative weight of each row (survey or importance weights;
        default None: every row counts once). The estimate is then that of
        the weighted law: a weighted EM, weighted cross-validation scores,
        and bootstrap replicas that draw rows uniformly and keep their
        weights (see ``gmmmi._weights``). ``transform="auto"`` keeps the raw
        data (``"gaussianize"`` works). Refused by ``backend="pymc"`` and
        with ``discrete_y=True``, ``reselect_components=True`` or
        ``metric_method="aic"``/``"bic"``, and with discrete columns
        or point masses (``discrete=``), each with the reason. The automatic
        fit check counts weight (its statistics divided by the weights'
        design effect, ``gmmmi.fit_check.test_pits``).
        ``result.meta["effective_n"]`` is Kish's effective number of rows.
    **options
        Hyperparameters, with the names and defaults of the original GMM-MI
        (listed by ``gmmmi.get_backend(backend).options``) except where the
        numba backend departs from them (``init_type="kmeans"``, ``n_inits=1``;
        see the README's option table), given as keyword
        arguments; see Other Parameters below. ``backend="pymc"`` also takes
        its priors (``prior_weight_concentration=1.0``,
        ``prior_mean_sd=2.0``, ``prior_scale_sd=1.0``,
        ``prior_lkj_eta=1.0``), ``init_jitter=0.1``, ``method="nuts"`` and
        ``compile_mode="NUMBA"``, described with
        `~gmmmi.backends.pymc.PyMCBackend`.

    Other Parameters
    ----------------
    init_type : str, default "kmeans"
        Initialisation of each EM fit: ``"random_sklearn"`` (the original's
        default, which `EstimateMI` keeps), ``"random"``, ``"minmax"``,
        ``"kmeans"``, ``"randomized_kmeans"`` or ``"kmeans_sklearn"``. A
        cross-validation fit that stops at a start of identical components
        is started again from k-means.
    scale : float or None, default None
        Scale of the ``"random"``, ``"minmax"`` and ``"randomized_kmeans"``
        initialisations, in units of each column's standard deviation.
    threshold_fit : float, default 1e-5
        EM stops when the mean log-likelihood per sample improves by less.
    reg_covar : float, default 1e-15
        Added to the diagonal of every covariance at every M-step.
    max_iter : int, default 10000
        Maximum EM iterations per fit (a `ConvergenceWarning` if reached).
    n_inits : int, default 1
        Initialisations tried per number of components (the original's
        default, which `EstimateMI` keeps, is 3).
    n_folds : int, default 2
        Cross-validation folds used to choose the number of components.
    metric_method : {"valid", "aic", "bic"}, default "valid"
        How the number of components K is chosen: validation log-likelihood,
        AIC or BIC.
    threshold_components : float, default 1e-5
        Stop adding components when the metric improves by less than this.
    patience : int, default 1
        Extra components tried without improvement before stopping.
    max_components : int, default 50
        Largest number of components tried.
    fixed_components_number : int, default 0
        Use this many components instead of cross-validation (0: choose).
    n_bootstrap : int, default 50
        Bootstrap refits for the uncertainty (numba backend); below 1, a
        single fit and no sd.
    scale_mixtures : bool, default True
        When the joint tails are heavy (Mardia's kurtosis more than 5
        standard errors above a Gaussian's), also cross-validate a scale
        mixture (components sharing a mean and a shape, differing in scale:
        a Student-t-like law) on the search's folds, and keep it if its
        held-out log-likelihood is higher (numba backend; `EstimateMI` turns
        it off). See ``gmmmi._em.scale_mixture``.
    bias_correction : bool, default True
        Subtract the plug-in bias of a single fitted Gaussian (K = 1, EM
        backend), a Wishart expectation that depends only on the number of
        rows and the block sizes (about dx dy / (2 N) nat), from the estimate
        and every draw; recorded in ``result.meta["bias_correction"]`` and
        printed when it moves the estimate by a tenth of its sd or more.
        With discrete columns (the chain rule), only a CMI whose discrete
        columns are all in z is corrected, cell by cell, when every cell's
        fit has K = 1. `EstimateMI` turns it off to reproduce GMM-MI. See
        ``gmmmi._bias``.
    reselect_components : bool, default False
        Choose K again inside every bootstrap replica, so that the
        uncertainty of that choice enters the error bar (numba backend; new
        in gmmmi, 20-27x slower).
    integral_method : {"quad", "qmc", "mc"}, default "quad"
        ``"quad"``: the best deterministic rule for the dimension, closed
        forms where a term is one Gaussian, a cubature in each component's
        whitened coordinates up to 6 dimensions in total and randomised
        quasi-Monte Carlo (``"qmc"``) above, or where the cubature cannot bound
        its error; ``result.meta["integral_method"]`` says which was used.
        ``"mc"``: Monte Carlo, the original's method (``"MC"`` is accepted).
        See `gmmmi.integrate`.
    MC_samples : int, default 100000
        Monte Carlo points per fit with ``integral_method="mc"``.
    draws : int, default 1000
        Posterior draws kept per chain (``backend="pymc"``).
    tune : int, default 1000
        Tuning steps per chain, discarded (``backend="pymc"``).
    chains : int, default 2
        Independent chains (``backend="pymc"``; at least 2 for R-hat).
    target_accept : float, default 0.9
        NUTS target acceptance rate (``backend="pymc"``); raise it if there
        are divergences.
    sampler : {"pymc", "nutpie"}, default "pymc"
        NUTS implementation (``backend="pymc"``): PyMC's own, or nutpie's
        (``pip install ".[nutpie]"``) on the same model.
    cores : int, default 1
        Chains run in parallel (``backend="pymc"``).
    kl : bool, default False
        Alias of `gmmmi.marginal_kl` (same pipeline, same result), kept for
        earlier code: also KL[p(x) || p(y)] and KL[p(y) || p(x)] between the
        marginals of the joint fit, in ``result.kl``.
    discrete_y : bool, default False
        Alias of `gmmmi.categorical_mi` (same pipeline, same result), kept
        for earlier code: ``y`` holds category labels.

    Every integral is computed from the mixture in standardised units (MI
    and CMI are invariant under per-column affine maps), so data at any
    scale representable in float64 give the same estimate; ``result.mixture``
    is then mapped back to data units (a `DataUnitsWarning` says when its
    variances over- or underflow float64).

    Returns
    -------
    Result
        The MI (or CMI) of the full-data fit (``result.value``), one value
        per bootstrap replica or posterior draw (``result.draws["mi"]``,
        shape (chain, draw)), its standard deviation (``result.sd``), the
        fitted mixtures and the fit diagnostics. ``print(result)``,
        ``mean, sd = result``, ``result.summary()``, ``result.to_arviz()``,
        ``result.to_netcdf(path)``, ``result.plot()``.

    Raises
    ------
    ValueError
        Data that cannot be used (missing values: NaN, inf, pandas NA or
        masked entries; complex numbers; blocks with different numbers of
        rows or misaligned pandas indexes; too few rows; a constant or
        (near-)linearly dependent column; a column of at most 10 distinct
        values), an option value out of range (e.g.
        ``base=1`` or ``n_folds=1``), or an ``init`` that does not match the
        data.
    TypeError
        An unknown option name (the message lists the valid ones and the
        closest match) or an argument of the wrong type.
    ImportError
        ``backend="pymc"`` without PyMC installed, or ``sampler="nutpie"``
        without nutpie; the message gives the install command.

    Warns
    -----
    ConvergenceWarning
        An EM fit reached ``max_iter`` or stopped suspiciously early, or the
        PyMC sampler had divergences, R-hat of MI above 1.01 or too few
        effective draws; the message names the remedy.
    IntegrationWarning
        The numerical error of an integral stayed above 1e-3 nat after
        refinement; ``result.integration_error`` bounds it.
    MisfitWarning
        The fit to all the data fails its goodness-of-fit check
        (``result.fit_check``), after a wider component search did not fix
        it; the message names the margin or pair and by how many sd.
    DataWarning
        Before the fit: exact copies of rows, a coarsely rounded column, a
        far isolated outlier (named by row and column), or few rows for the
        number of columns (see ``docs/refusals.md``, "Warnings about the
        data").
    SerialDependenceWarning
        With ``bootstrap="iid"`` (and ``n_bootstrap >= 1``, or a posterior):
        a column is autocorrelated in row order
        (the rows look like a time series); the message names the columns
        and the fix, ``bootstrap="block"``.
    SharpRelationWarning
        After the fit: the mixture's spread of a column given the other
        block is well above the data's around a local nearest-neighbour fit,
        so the MI is likely too low (``docs/trust.md``).

    See Also
    --------
    Result : What this function returns.
    estimate_many : Many estimates at once, on all cores or a Dask cluster.
    mi_matrix : MI between every pair of columns.
    compare : The same data through several uncertainty methods.
    categorical_mi : MI between continuous x and a category label.
    marginal_kl : MI and the KL divergences between the marginals of x and y.
    entropy : Entropy of a sample, on the same pipeline.
    EstimateMI : The original GMM-MI class, built on this function.
    gmmmi.integrate.mutual_information : The integral for given mixtures.

    Notes
    -----
    Every integral is computed from the mixture in standardised units (MI
    and CMI are invariant under per-column affine maps), so data at any
    scale representable in float64 give the same estimate; ``result.mixture``
    is then mapped back to data units (a ``DataUnitsWarning`` says when its
    variances over- or underflow float64).

    A mixture of K Gaussians is fitted to the standardised joint samples of
    (x, y)::

        p̂(x, y) = Σₖ wₖ N((x, y); μₖ, Σₖ),      k = 1, ..., K

    with K chosen by cross-validated log-likelihood (``metric_method``). Its
    marginals p̂(x) and p̂(y) are the mixtures of the matching blocks of μₖ
    and Σₖ, so the MI of the fit is::

        Î(X; Y) = Σₖ wₖ E_{N(μₖ, Σₖ)}[ln p̂(x, y) − ln p̂(x) − ln p̂(y)]

    with each expectation computed by cubature (``"quad"``) or Monte Carlo
    (``"mc"``). Given z, Î(X; Y | Z) is the expectation of
    ln p̂(x, y, z) + ln p̂(z) − ln p̂(x, z) − ln p̂(y, z). The reported value
    is Î of the fit to all the data. Its uncertainty is the spread of Î over
    ``n_bootstrap`` refits on resamples of the rows (with the same K,
    starting from the full-data fit), or over the posterior draws of a
    Bayesian mixture. This is the estimator of GMM-MI [1]_, with a
    deterministic integral and the full-data value in place of the
    bootstrap mean.

    References
    ----------
    .. [1] D. Piras, H. V. Peiris, A. Pontzen, L. Lucie-Smith, N. Guo and
       B. Nord, "A robust estimator of mutual information for deep learning
       interpretability", Machine Learning: Science and Technology 4, 025006
       (2023), https://doi.org/10.1088/2632-2153/acc444

    Examples
    --------
    The original GMM-MI README example, a bivariate Gaussian with correlation
    0.6, whose MI is −ln(1 − 0.6²) / 2 = 0.2231 nat:

    >>> import numpy as np
    >>> import gmmmi
    >>> rng = np.random.default_rng(0)
    >>> X = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200)
    >>> res = gmmmi.estimate(X, random_state=0)
    >>> print(res)
    MI(X1; X2) = 0.205 ± 0.043 nat (numba, 50 bootstrap, K=1)
      95% interval (value ± 1.96 sd): [0.121, 0.289] nat
    >>> mean, sd = res

    Conditional MI in bits, with named blocks:

    >>> W = rng.multivariate_normal([0, 0, 0], [[1, 0.3, 0.5], [0.3, 1, 0.2], [0.5, 0.2, 1]], 500)
    >>> print(gmmmi.estimate(W[:, 0], W[:, 1], z=W[:, 2], base=2, random_state=0))
    CMI(x0; y0 | z0) = 0.043 ± 0.014 bit (numba, 50 bootstrap, K=1)
      95% interval (value ± 1.96 sd): [0.016, 0.070] bit
      plug-in bias removed: 0.00145 bit (Wishart, K=1; bias_correction=False keeps it)

    A single fit, without the bootstrap:

    >>> print(gmmmi.estimate(X, n_bootstrap=0, random_state=0))
    MI(X1; X2) = 0.2047 nat (numba, single fit, K=1)
      plug-in bias removed: 0.00253 nat (Wishart, K=1; bias_correction=False keeps it)
    """
    # the aliases of marginal_kl and categorical_mi (gmmmi.estimands), kept for earlier code
    estimand = estimand_of(options.pop("kl", False), options.pop("discrete_y", False))
    resolved = resolve_options(
        backend=backend,
        estimand=estimand,
        base=base,
        min_category_size=min_category_size,
        transform=transform,
        discrete=discrete,
        dequantize=dequantize,
        bootstrap=bootstrap,
        block_length=block_length,
        init=init,
        sample_weight=sample_weight,
        **options,
    )
    return run(x, y, z, resolved, random_state=random_state, progress=progress)


@interruptible
def run(
    x: Any,
    y: Any,
    z: Any,
    options: EstimateOptions,
    *,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
) -> Result:
    """One estimate on the shared pipeline, its options resolved beforehand.

    Parameters
    ----------
    x, y, z : array_like or DataFrame
        The data, as in `estimate` (y: category labels when
        ``options.estimand == "categorical"``).
    options : EstimateOptions
        From `gmmmi._estimate_options.resolve_options`; one object may serve
        many estimates (each makes its own backend instance).
    random_state, progress
        As in `estimate`.

    Returns
    -------
    Result
    """
    o = options
    be = get_backend(o.backend)  # an instance per estimate: estimates share no backend state
    if be.name == "numba":
        _precompile.start()  # a cold first estimate: the E-step compiles in a helper process
    kl, discrete_y, base, min_category_size = o.kl, o.discrete_y, o.base, o.min_category_size
    transform, discrete, dequantize, init = o.transform, o.discrete, o.dequantize, o.init
    bootstrap, block_length, sample_weight = o.bootstrap, o.block_length, o.sample_weight
    opts, fit_options, n_components, n_folds = o.options, o.fit_options, o.n_components, o.n_folds
    seed, rng = resolve_generator(random_state)
    show = progress_enabled(progress)
    integrate_kw = o.integrate_kw(rng)
    pool = min_category_size if discrete_y or discrete is None else None
    data = validate_data(x, y, z, discrete_y=discrete_y, kl=kl, min_category_size=pool)
    column_names = [name for key in data.blocks for name in data.labels[key]]
    weights = None
    if sample_weight is not None:
        weights = check_sample_weight(
            sample_weight, data.X.shape[0], be, opts, discrete_y=discrete_y
        )
    categorical = data.categories is not None
    data, dequantized = dequantize_columns(data, dequantize, column_names, rng)
    orders = column_orders(data.X)  # one sort per column for every check that needs one
    plan = None if categorical else plan_columns(data.X, column_names, discrete, orders)
    if plan is not None and weights is not None:
        raise ValueError(f"sample_weight cannot be used with {REFUSED['mixed']}.")
    if plan is not None:  # discrete columns or point masses: the chain rule (gmmmi.mixed)
        _check_mixed(plan, column_names, kl, init, bootstrap)
        result = estimate_mixed(
            data,
            plan,
            backend=be,
            fit_options=fit_options,
            api_options={k: opts[k] for k in API_OPTIONS},
            n_components=n_components,
            rng=rng,
            seed=seed,
            progress=show,
            integrate_kw=integrate_kw,
            base=base,
            n_folds=n_folds,
            min_category_size=min_category_size,
            check_fit_output=_check_fit_output,
            transform=transform,
        )
        if dequantized:
            result.meta["dequantized"] = dequantized
        return result
    if min_category_size is not None and not categorical:
        validate_data(x, y, z, min_category_size=min_category_size)  # its error says why
    measured = data  # before any map (gmmmi._other_margins may fit the other margins)
    # validate the rows, screen, standardise and choose the margins, once each (gmmmi._prepare)
    prepared = prepare(
        data,
        backend=be,
        transform=transform,
        kl=kl,
        fit_options=fit_options,
        n_components=n_components,
        rng=rng,
        n_folds=n_folds,
        bootstrap=bootstrap,
        block_length=block_length,
        resampled=opts.get("n_bootstrap", 1) >= 1,
        init=init is not None,
        weighted=weights is not None,
        orders=orders,
    )
    del orders  # 8 bytes a row and column, not held through the fit
    data, Xs, shift, scale = prepared.data, prepared.X, prepared.shift, prepared.scale
    margins, block_kw = prepared.margins, prepared.bootstrap
    inits = _standardised_inits(init, be, data, scale, shift)
    # MI and CMI are invariant under per-column affine maps, so every integral
    # is computed in standardised units, which cannot overflow; only the stored
    # mixtures are mapped back to data units
    kl_frame = _kl_frame(scale, shift, data.blocks) if kl else None
    bias = 0.0  # the plug-in bias removed (gmmmi._bias): K = 1 fits without categories
    if data.categories is not None:
        fits = fit_categories(
            be,
            Xs,
            data.categories,
            n_components=n_components,
            rng=rng,
            progress=show,
            fit_options=fit_options,
            inits=inits,
        )
        for category_draws, category_diagnostics in fits:
            _check_fit_output(be, category_draws, category_diagnostics)
        values, point, diagnostics, draws = integrate_categories(
            fits, data.categories, rng, integrate_kw
        )
        quantity = "mi"
        category_draws = [d for d, _ in fits]
        diagnostics = check_estimate(diagnostics, category_draws, Xs, column_names, data.categories)
    else:
        init_kw = {} if inits is None else {"init": inits[0]}
        if weights is not None:
            init_kw["sample_weight"] = weights

        def fit(X):
            fitted = be.fit(
                X,
                n_components=n_components,
                rng=rng,
                progress=show,
                **init_kw,
                **block_kw,
                **fit_options,
            )
            _check_fit_output(be, *fitted)
            return fitted

        start_state = rng.bit_generator.state
        draws, diagnostics = fit(Xs)
        # far rows and copies of Xs, found by the prepare step
        isolated, distinct = prepared.isolated, prepared.distinct
        if _other_margins.applies(prepared, n_components):  # a failed check: the other margins
            checked = prepared.X
            prepared, draws, diagnostics = _other_margins.reconsider(
                prepared,
                measured,
                draws,
                diagnostics,
                fit=fit,
                rng=rng,
                start_state=start_state,
                names=column_names,
            )
            data, Xs, shift, scale = prepared.data, prepared.X, prepared.shift, prepared.scale
            margins = prepared.margins
            if prepared.X is not checked:  # other data: the sharp check looks itself
                isolated = distinct = None
        unmapped = prepared
        if _block_refit.applies(  # still failing: shears and twists of the blocks
            n_components, kl=kl, weighted=weights is not None, init=inits is not None
        ):
            prepared, draws, diagnostics = _block_refit.reconsider(
                prepared, measured, draws, diagnostics, fit=fit, rng=rng, names=column_names
            )
        if prepared is not unmapped:
            data, Xs, shift, scale = prepared.data, prepared.X, prepared.shift, prepared.scale
            margins = prepared.margins
            isolated = distinct = None
        reference = diagnostics.reference_fit
        # shared-scale components (gmmmi._em.scale_mixture) are broad by design, not unresolved
        if not diagnostics.extra.get("scale_mixture"):
            full = draws if reference is None else reference
            warn_unresolved(Xs, full, data.blocks, data.labels, isolated, distinct)
        quantity = "cmi" if "z" in data.blocks else "mi"
        values, point = _integrate_all(draws, diagnostics, data.blocks, kl_frame, integrate_kw)
        if opts["bias_correction"]:  # weighted rows: the Wishart bias of their effective number
            n_fitted = Xs.shape[0] if weights is None else effective_sample_size(weights)
            bias = _bias.wishart_correction(diagnostics, n_fitted, data.blocks)
        values, point = _bias.subtract(values, point, quantity, bias)
        diagnostics = check_estimate(diagnostics, draws, Xs, column_names, weights=weights)
    mixture, diagnostics = _to_data_units(draws, diagnostics, scale, shift, column_names)

    log_base = math.log(base)
    shape = diagnostics.sample_shape
    draws_out = {k: v.values.reshape(shape) / log_base for k, v in values.items()}
    errors_out = {k: v.errors.reshape(shape) / log_base for k, v in values.items()}
    point_out = {k: float(v) / log_base for k, v in point.items()}
    _warn_backend(be, diagnostics)
    warn_misfit(diagnostics, mapped=margins.chosen == "gaussianize")

    meta = {
        "backend": be.name,
        "method": diagnostics.method,
        "quantity": quantity,
        "unit": {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}"),
        "base": base,
        "n_samples": int(data.X.shape[0]),
        "labels": data.labels,
        "blocks": data.blocks,
        "integral_method": next(iter(values.values())).method,
        "options": {**fit_options, **{k: opts[k] for k in API_OPTIONS}},
        "random_state": seed,
        "gmmmi_version": __version__,
        "transform": margins.to_dict(),
        "bias_correction": _bias.record(bias, log_base),
    }
    if diagnostics.extra.get("bootstrap") == "block":  # its critical value (gmmmi._intervals)
        meta["interval_correction"] = fixed_b(
            diagnostics.extra["block_length"], Xs.shape[0], replicas=math.prod(shape)
        )
    if weights is not None:
        meta["effective_n"] = effective_sample_size(weights)
    if data.category_values is not None:
        meta["categories"] = [str(v) for v in data.category_values]
    if dequantized:
        meta["dequantized"] = dequantized
    result = Result(
        draws=draws_out,
        point=point_out,
        integration_error=errors_out,
        mixture=mixture,
        diagnostics=diagnostics,
        meta=meta,
        margins=margins,
    )
    if not categorical:
        sd_nats = result.sd * log_base  # the few-rows check (gmmmi._screening) works in nats
        warn_few_rows(Xs.shape[0], data.blocks, sd_nats, corrected=bias > 0)
    for message in result.mixing_messages():
        warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())
    return result


def _standardised_inits(init, be, data, scale, shift):
    """``init`` as a list of S = 1 mixtures in standardised units (None without init)."""
    if init is None:
        return None
    if not be.supports_init:
        raise ValueError(
            f"The {be.name!r} backend does not accept init=; use backend='numba' or drop init."
        )
    n_expected = 1 if data.categories is None else int(data.categories.max()) + 1
    what = "a list of one MixtureDraws per category" if n_expected > 1 else "one MixtureDraws"
    if isinstance(init, MixtureDraws):
        inits = [init]
    elif isinstance(init, (list, tuple)):
        inits = list(init)
    else:
        raise TypeError(
            f"init must be {what} (e.g. result.diagnostics.reference_fit), or None; got "
            f"{type(init).__name__}."
        )
    if len(inits) != n_expected:
        raise ValueError(f"init must be {what} ({n_expected}); got {len(inits)} mixture(s).")
    d = data.X.shape[1]
    for m in inits:
        if not isinstance(m, MixtureDraws) or m.n_draws != 1 or m.n_dim != d:
            got = f"S={m.n_draws}, d={m.n_dim}" if isinstance(m, MixtureDraws) else type(m).__name__
            raise ValueError(
                f"init must be {what}, each with S=1 draw and d={d} coordinates (the data's "
                f"columns); got {got}. Pass e.g. result.diagnostics.reference_fit."
            )
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        inits = [m.affine(1.0 / scale, -shift / scale) for m in inits]
    for m in inits:
        try:
            finite = np.isfinite(m.means).all() and np.isfinite(m.cholesky()).all()
        except np.linalg.LinAlgError:
            finite = False
        if not finite:
            raise ValueError(
                "init has a covariance that is not finite and positive definite in standardised "
                "units, as a mixture stored in data units that over- or underflow float64 has "
                "(see DataUnitsWarning). Rescale the data (e.g. to unit standard deviation), "
                "refit, and pass that fit's reference_fit."
            )
    return inits


def _check_mixed(plan, names, kl, init, bootstrap) -> None:
    """Refuse the options the chain rule over discrete columns does not take."""
    what = ", ".join(repr(names[j]) for j in (*plan.discrete, *plan.atoms))
    refused = [
        (kl, "kl=True (KL between the marginals of continuous x and y)"),
        (init is not None, "init= (one warm start for one joint fit)"),
        (bootstrap != "iid", f"bootstrap={bootstrap!r} (runs of consecutive rows)"),
    ]
    for bad, option in refused:
        if bad:
            raise ValueError(
                f"{option} cannot be combined with discrete columns or point masses ({what}), "
                "which are split off by the chain rule with one fit per cell of discrete values. "
                "Drop the option, or pass discrete=None to fit every column as continuous."
            )


def _check_fit_output(be, draws, diagnostics) -> None:
    """TypeError/ValueError for a backend whose output breaks the contract."""
    if not isinstance(draws, MixtureDraws) or not isinstance(diagnostics, FitDiagnostics):
        raise TypeError(
            f"The {be.name!r} backend's fit must return (MixtureDraws, "
            f"gmmmi.diagnostics.FitDiagnostics); got ({type(draws).__name__}, "
            f"{type(diagnostics).__name__})."
        )
    if draws.n_draws != diagnostics.n_draws:
        raise ValueError(
            f"The {be.name!r} backend returned {draws.n_draws} mixtures but its diagnostics' "
            f"sample_shape {diagnostics.sample_shape} holds {diagnostics.n_draws}; "
            "chains * draws must equal the number of mixtures."
        )


def _to_data_units(draws, diagnostics, scale, shift, column_names):
    """The draws, and a copy of the diagnostics with the reference fits, in data units.

    Warns (`DataUnitsWarning`) when a variance over- or underflows float64
    in data units: the reported integrals, computed in standardised units,
    are unaffected.
    """
    mixture, bad = affine_checked(draws, scale, shift)
    if diagnostics.reference_fit is not None:
        reference, bad_ref = affine_checked(diagnostics.reference_fit, scale, shift)
        bad |= bad_ref
        diagnostics = replace(diagnostics, reference_fit=reference)
    if diagnostics.per_category:
        per_category = tuple(
            g
            if g.reference_fit is None
            else replace(g, reference_fit=affine_checked(g.reference_fit, scale, shift)[0])
            for g in diagnostics.per_category
        )
        diagnostics = replace(diagnostics, per_category=per_category)
    warn_unstorable(bad, scale, column_names)
    return mixture, diagnostics


def _kl_frame(scale, shift, blocks):
    """Affine maps from standardised units to a frame shared by x and y, for the KL.

    KL[p(x) || p(y)] is invariant only under one affine map applied to x and
    y alike, so both are taken to ``u = (v - c) / s`` with one centre c and
    scale s per coordinate (the mean of the two centres and the larger of the
    two standard deviations): the same KL as in data units, but with
    coordinates of order 1 that cannot overflow.

    Returns
    -------
    tuple of numpy.ndarray
        ``(scale_x, shift_x, scale_y, shift_y)``, each of shape (dx,): the
        x marginal in standardised units times ``scale_x`` plus ``shift_x``
        is x in the common frame, and likewise for y.
    """
    bx, by = blocks["x"], blocks["y"]
    s = np.maximum(scale[bx], scale[by])
    half_x, half_y = shift[bx] / s / 2, shift[by] / s / 2
    frame = scale[bx] / s, half_x - half_y, scale[by] / s, half_y - half_x
    # a variance ratio that underflows, or centres ~1e308 standard deviations apart, put
    # the KL itself beyond float64 (no common rescaling can help: KL is invariant under it)
    ratio = np.minimum(frame[0], frame[2])
    if (ratio**2 < np.finfo(np.float64).tiny).any() or not np.isfinite(frame[1]).all():
        j = int(np.argmin(ratio)) if (ratio**2 < np.finfo(np.float64).tiny).any() else 0
        raise ValueError(
            f"kl=True: x and y are too far apart in float64 for a KL divergence (coordinate "
            f"{j}: standard deviations {scale[bx][j]:.3g} and {scale[by][j]:.3g}, means "
            f"{shift[bx][j]:.3g} and {shift[by][j]:.3g}); KL is invariant only under a map "
            "applied to x and y alike, so no rescaling brings it into range. Drop kl=True, or "
            "compare variables in the same units."
        )
    return frame


def _integrate_all(mixture, diagnostics, blocks, kl_frame, integrate_kw):
    """Every requested integral over the draws and over the reference fit.

    ``mixture`` and the reference fit are in standardised units; the KL is
    computed in the common frame ``kl_frame`` of `_kl_frame` (None: no KL).

    Returns
    -------
    values : dict of IntegralResult, one value per draw
    point : dict of float, the reported centre (reference fit, else the draws' mean)
    """
    bx, by, bz = blocks["x"], blocks["y"], blocks.get("z")

    def integrals(mix):
        if bz is not None:
            out = {"cmi": _integrate.conditional_mi(mix, bx, by, bz, **integrate_kw)}
        else:
            out = {"mi": _integrate.mutual_information(mix, bx, by, **integrate_kw)}
        if kl_frame is not None:
            scale_x, shift_x, scale_y, shift_y = kl_frame
            px = mix.marginal(bx).affine(scale_x, shift_x)
            py = mix.marginal(by).affine(scale_y, shift_y)
            out["kl_xy"] = _integrate.kl_divergence(px, py, **integrate_kw)
            out["kl_yx"] = _integrate.kl_divergence(py, px, **integrate_kw)
        return out

    values = integrals(mixture)
    if diagnostics.reference_fit is None:
        point = {k: v.values.mean() for k, v in values.items()}
    else:
        point = {k: v.values[0] for k, v in integrals(diagnostics.reference_fit).items()}
    return values, point


def _warn_backend(be, diagnostics):
    """Turn the backend's own checks of its fits (one per category) into warnings."""
    fits = diagnostics.per_category or (diagnostics,)
    for c, diag in enumerate(fits):
        prefix = f"Category {c}: " if diagnostics.per_category else ""
        for message in be.check(diag):
            warnings.warn(prefix + message, ConvergenceWarning, stacklevel=user_stacklevel())
