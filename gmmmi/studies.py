"""Comparison studies across uncertainty methods.

* `compare` runs several uncertainty methods on one data set and tabulates
  their estimates, spreads, intervals and wall times.
* `calibration` draws many independent data sets from a `gmmmi.datasets.Dataset`
  with known MI, estimates each with each method, and reports bias, RMSE,
  the ratio of the mean reported sd to the spread of the estimates, the
  coverage of nominal 68 % and 95 % intervals, and the mean time.

Both run the methods through the same function (`_run_methods`), so an
estimate in a study is exactly what `gmmmi.estimate` returns for the method.

Built-in methods (`METHODS`):

``"bootstrap"``
    ``gmmmi.estimate(..., backend="numba")``: EM, K by cross-validation,
    ``n_bootstrap`` (50) bootstrap refits.
``"bayes"``
    ``backend="pymc"``: posterior draws from NUTS.
``"advi"``
    ``backend="pymc", method="advi"`` (the PyMC backend may refuse it; its
    message says why).
``"single"``
    ``backend="numba", n_bootstrap=0``: one fit, no uncertainty (baseline).

A `Method` object can be passed instead of a name to study any estimator
with the signature of `gmmmi.estimate`.

Intervals used by `calibration` (for each nominal level 68 % and 95 %):

``normal``
    ``value +- z * sd`` with z the standard normal quantile (0.994, 1.960),
    ``value`` the reported estimate and ``sd`` the spread of its draws; for a
    block bootstrap z is the fixed-b critical value (``Result.interval_correction``).
``hdi``
    the highest-density interval of the draws (``Result.hdi``).
``basic``
    the basic (reverse-percentile) bootstrap interval
    ``(2 value - q_hi, 2 value - q_lo)`` from the equal-tailed quantiles of the
    draws: it corrects for the shift of the draws away from the estimate,
    which for a plug-in MI estimate mirrors the estimate's own bias.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_float, check_int
from ._estimate_options import (
    EstimateOptions,
    check_estimate_options,
    check_executor,
    option_names,
)
from ._intervals import HDI_PROB, INTERVALS, LEVELS, critical_value
from ._progress import progress_bar, progress_enabled
from ._seeds import int_seed, resolve_sequence

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

    from .datasets import Dataset
    from .result import Result


@dataclass(frozen=True)
class Method:
    """One way of estimating MI with uncertainty.

    Parameters
    ----------
    name : str
        Label in tables and plots.
    options : dict
        Keyword arguments given to the estimator (e.g. ``{"backend": "pymc"}``);
        user options passed to `compare` / `calibration` are added to them.
    estimator : callable, optional
        A function with the signature of `gmmmi.estimate` returning a
        `gmmmi.result.Result` (or an object with ``value``, ``sd``,
        ``quantity``, ``draws`` and ``hdi(prob)``). Default: `gmmmi.estimate`.
    mcmc : bool, default False
        The draws are a Markov chain: the table reports their bulk ESS.
    description : str
    """

    name: str
    options: dict = field(default_factory=dict)
    estimator: Callable | None = field(default=None, repr=False)
    mcmc: bool = False
    description: str = ""

    def estimate(self, data: tuple, *, random_state, options: dict | EstimateOptions):
        """Run the estimator on ``data = (x, y)`` or ``(x, y, z)``; returns its Result.

        ``options``: a dict of options added to the method's, or, for
        `gmmmi.estimate`, the `EstimateOptions` resolved once from both.
        """
        x, y, *rest = data
        z = rest[0] if rest else None
        if isinstance(options, EstimateOptions):  # resolved once by compare or calibration
            from .api import run

            return run(x, y, z, options, random_state=random_state, progress=False)
        if self.estimator is None:
            from .api import estimate as estimator
        else:
            estimator = self.estimator
        return estimator(
            x, y, z=z, random_state=random_state, progress=False, **{**self.options, **options}
        )


#: the built-in methods, by name
METHODS = {
    "bootstrap": Method(
        "bootstrap", {"backend": "numba"}, description="EM + cross-validated K + bootstrap"
    ),
    "bayes": Method("bayes", {"backend": "pymc"}, mcmc=True, description="PyMC posterior (NUTS)"),
    "advi": Method(
        "advi", {"backend": "pymc", "method": "advi"}, description="PyMC variational (ADVI)"
    ),
    "single": Method(
        "single",
        {"backend": "numba", "n_bootstrap": 0},
        description="one EM fit, no uncertainty (baseline)",
    ),
}


# --------------------------------------------------------------------- setup
def _check_probability(name: str, value) -> float:
    """``value`` as a float strictly between 0 and 1."""
    value = check_float(name, value, minimum=0.0, strict=True)
    if value >= 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive); got {value}.")
    return value


def _resolve_methods(methods) -> list[Method]:
    """Method objects for a sequence of names or `Method` objects."""
    if isinstance(methods, (str, Method)):
        methods = [methods]
    out = []
    for m in methods:
        if isinstance(m, Method):
            out.append(m)
        elif m in METHODS:
            out.append(METHODS[m])
        else:
            raise ValueError(
                f"Unknown method {m!r}; valid methods are {', '.join(map(repr, METHODS))}, "
                "or a gmmmi.studies.Method object."
            )
    names = [m.name for m in out]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"methods must be a non-empty list of distinct methods; got {names}.")
    return out


def _accepted_options(method: Method) -> set | None:
    """Option names the method's backend and `gmmmi.estimate` accept; None if unknown."""
    if method.estimator is not None:
        return None
    try:
        return option_names(method.options.get("backend", "numba"))
    except ImportError:
        return None


def _split_options(methods: list[Method], options: dict) -> dict[str, dict]:
    """The user's options for each method.

    An option that some method's backend accepts is given only to the methods
    whose backend accepts it (``n_bootstrap`` goes to the Numba methods,
    ``draws`` to PyMC); an option no backend knows is given to every method,
    so `gmmmi.estimate` reports it.
    """
    accepted = {m.name: _accepted_options(m) for m in methods}
    known = set().union(*(a for a in accepted.values() if a is not None))
    out = {}
    for m in methods:
        acc = accepted[m.name]
        out[m.name] = {
            k: v for k, v in options.items() if acc is None or k in acc or k not in known
        }
        out[m.name] = {k: v for k, v in out[m.name].items() if k not in m.options}
    return out


def _check_method_options(methods: list[Method], options_by_method: dict[str, dict]) -> dict:
    """Raise, before any work, what `gmmmi.estimate` would raise for a method's options.

    Returns each method's options: for `gmmmi.estimate`, resolved once into an
    `EstimateOptions` (the method's own merged in); methods with their own
    estimator are not checked (their options are theirs, returned as given).
    """
    return {
        m.name: options_by_method[m.name]
        if m.estimator is not None
        else check_estimate_options({**m.options, **options_by_method[m.name]})
        for m in methods
    }


def _seed_sequence(random_state) -> np.random.SeedSequence:
    """One SeedSequence from an int, a SeedSequence, a Generator or None."""
    return resolve_sequence(random_state, words=1)[1]


# ----------------------------------------------------------------- running
def _draws(result) -> np.ndarray:
    """The main quantity's draws, flattened (chains pooled)."""
    return np.asarray(result.draws[result.quantity], dtype=float).ravel()


def _interval_keys() -> list[str]:
    return [
        f"{kind}{round(level * 100)}_{end}"
        for level in LEVELS
        for kind in INTERVALS
        for end in ("low", "high")
    ]


def _intervals(result, value: float, sd: float) -> dict:
    """Lower/upper ends of every interval kind at every level (NaN for < 2 draws)."""
    draws = _draws(result)
    out = dict.fromkeys(_interval_keys(), np.nan)
    if draws.size < 2 or not np.isfinite(sd):
        return out
    for level in LEVELS:
        tag = f"{round(level * 100)}"
        z = critical_value(level, result.interval_correction)
        q_lo, q_hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
        out[f"normal{tag}_low"], out[f"normal{tag}_high"] = value - z * sd, value + z * sd
        out[f"hdi{tag}_low"], out[f"hdi{tag}_high"] = map(float, result.hdi(level))
        out[f"basic{tag}_low"], out[f"basic{tag}_high"] = 2 * value - q_hi, 2 * value - q_lo
    return out


def _ess(result, method: Method) -> float:
    if not method.mcmc:
        return np.nan
    return float(result.summary().loc[result.quantity, "ess_bulk"])


def _run_methods(data, methods, seed, options_by_method, *, record_errors=False):
    """Estimate ``data`` with every method; the one code path of compare and calibration.

    Parameters
    ----------
    data : tuple of arrays
        ``(x, y)`` or ``(x, y, z)``.
    methods : list of Method
    seed : int
        Every method gets this same ``random_state``, so a method's estimate
        does not depend on which other methods run.
    options_by_method : dict of str to dict
    record_errors : bool, default False
        Record an exception of a method in its record (``error``, NaN
        numbers) instead of raising it.

    Returns
    -------
    results : dict of str to Result
        The methods that succeeded.
    records : list of dict
        One per method: ``method``, ``value``, ``mean`` (of the draws), ``sd``,
        ``ess``, ``n_components`` (K), ``seconds``, the interval ends of `_intervals` and ``error``
        (None, or ``"ExceptionType: message"``).
    """
    results, records = {}, []
    for m in methods:
        start = time.perf_counter()
        try:
            res = m.estimate(data, random_state=seed, options=options_by_method[m.name])
        except Exception as err:
            if not record_errors:
                raise
            records.append(_failed_record(m.name, err, time.perf_counter() - start))
            continue
        seconds = time.perf_counter() - start
        value, sd = float(res.value), float(res.sd)
        results[m.name] = res
        records.append(
            {
                "method": m.name,
                "value": value,
                "mean": float(np.mean(_draws(res))),
                "sd": sd,
                "ess": _ess(res, m),
                "n_components": getattr(res, "n_components", np.nan),
                "seconds": seconds,
                **_intervals(res, value, sd),
                "error": None,
            }
        )
    return results, records


def _failed_record(name, err, seconds):
    keys = ["value", "mean", "sd", "ess", "n_components", *_interval_keys()]
    numbers = dict.fromkeys(keys, np.nan)
    return {"method": name, **numbers, "seconds": seconds, "error": f"{type(err).__name__}: {err}"}


# ------------------------------------------------------------------ compare
@dataclass
class Comparison:
    """Several uncertainty methods on one data set (returned by `compare`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method: ``method``, ``value`` (the reported estimate),
        ``mean`` and ``sd`` of its draws, ``hdi_low``/``hdi_high`` (the
        ``hdi_prob`` HDI; NaN for a single fit), ``width``, ``ess`` (bulk ESS
        of MCMC draws; NaN otherwise), ``seconds`` (wall time), and ``error``
        (value - truth) when the truth is known.
    results : dict of str to Result
        Each method's full result.
    truth : float or None
    hdi_prob : float
    """

    table: pd.DataFrame
    results: dict[str, Result]
    truth: float | None = None
    hdi_prob: float = HDI_PROB

    def plot(self, ax: Axes | None = None) -> Axes:
        """Overlay each method's distribution of MI draws, its estimate and the truth.

        Parameters
        ----------
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib Axes
        """
        from .plot import plot_comparison

        return plot_comparison(self, ax)


def compare(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    z: ArrayLike | None = None,
    methods: Sequence[str | Method] = ("bootstrap", "bayes"),
    truth: float | None = None,
    hdi_prob: float = HDI_PROB,
    random_state: int | np.random.Generator | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Comparison:
    """Run several uncertainty methods on the same data.

    Parameters
    ----------
    x, y, z : array_like
        As in `gmmmi.estimate`.
    methods : sequence of str or Method, default ("bootstrap", "bayes")
        Names from ``METHODS`` ("bootstrap", "bayes", "advi", "single") or
        ``Method`` objects.
    truth : float, optional
        The true value (in the output unit), shown in the table and plot.
    hdi_prob : float, default 0.94 (``HDI_PROB``, ArviZ's default)
        Probability mass of the tabulated HDI.
    random_state : int, numpy.random.Generator or None
        Every method gets the same seed derived from it.
    progress : bool or None
        A progress bar over methods; None shows it in a terminal.
    **options
        Options of `gmmmi.estimate` (e.g. ``n_bootstrap=100``, ``draws=500``,
        ``discrete_y=True``). Each goes to the methods whose backend accepts it.

    Returns
    -------
    Comparison
        ``.table`` (pandas DataFrame), ``.results``, ``.plot()``.

    Raises
    ------
    TypeError, ValueError
        Before any estimate: for an unknown method name (the message lists
        the valid ones), a ``truth`` that is not a finite number, a
        ``hdi_prob`` outside (0, 1), or an option `gmmmi.estimate` would
        refuse for one of the methods.
    """
    import pandas as pd

    ms = _resolve_methods(methods)
    split = _check_method_options(ms, _split_options(ms, options))
    if truth is not None:
        truth = check_float("truth", truth)
    hdi_prob = _check_probability("hdi_prob", hdi_prob)
    seed = int_seed(_seed_sequence(random_state))
    data = (x, y) if z is None else (x, y, z)
    results, rows = {}, []
    with progress_bar(len(ms), "compare", progress_enabled(progress), unit="method") as bar:
        for m in ms:
            res, rec = _run_methods(data, [m], seed, split)
            results.update(res)
            rows += rec
            bar.update(1)
    for row, res in zip(rows, results.values(), strict=True):
        low, high = res.hdi(hdi_prob) if _draws(res).size > 1 else (np.nan, np.nan)
        row.update(hdi_low=float(low), hdi_high=float(high), width=float(high - low))
    cols = ["method", "value", "mean", "sd", "hdi_low", "hdi_high", "width", "ess", "seconds"]
    table = pd.DataFrame(rows)[cols]
    if truth is not None:
        table["error"] = table["value"] - truth
    return Comparison(table=table, results=results, truth=truth, hdi_prob=hdi_prob)


# -------------------------------------------------------------- calibration
def _repeat_job(dataset, n, data_seq, est_seq, methods, split):
    """One repeat of a calibration study: draw a data set, run every method."""
    data = dataset.sample(n, np.random.default_rng(data_seq))
    options = {  # gmmmi.estimate's are resolved already, the dataset's options included
        m.name: split[m.name]
        if isinstance(split[m.name], EstimateOptions)
        else {**dataset.estimate_options, **split[m.name]}
        for m in methods
    }
    return _run_methods(data, methods, int_seed(est_seq), options, record_errors=True)[1]


def _summarise(estimates, truth):
    """Per-method bias, RMSE, sd ratio, coverage and time from the per-repeat table."""
    import pandas as pd

    rows = []
    for name, everything in estimates.groupby("method", sort=False):
        g = everything[everything["error"].isna()]
        if g.empty:
            raise RuntimeError(
                f"Every repeat of method {name!r} failed; the first error was: "
                f"{everything['error'].iloc[0]}"
            )
        err = g["value"] - truth
        spread = g["value"].std(ddof=1)
        row = {
            "method": name,
            "repeats": len(g),
            "failed": len(everything) - len(g),
            "truth": truth,
            "bias": err.mean(),
            "bias_se": spread / np.sqrt(len(g)),
            "rmse": np.sqrt(np.mean(err**2)),
            "mean_sd": g["sd"].mean(),
            "sd_estimates": spread,
            "sd_ratio": g["sd"].mean() / spread,
        }
        for kind in INTERVALS:
            for level in LEVELS:
                tag = f"{round(level * 100)}"
                lo, hi = g[f"{kind}{tag}_low"], g[f"{kind}{tag}_high"]
                inside = (lo <= truth) & (truth <= hi)
                row[f"cover{tag}_{kind}"] = inside.mean() if lo.notna().all() else np.nan
        row["seconds"] = g["seconds"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class Calibration:
    """The outcome of `calibration`: per-method summary and per-repeat estimates.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method: ``repeats`` (successful estimates; the statistics
        use these), ``failed`` (repeats whose estimate raised: see
        ``estimates["error"]``), ``truth``, ``bias`` (mean of value -
        truth) and its standard error ``bias_se``, ``rmse``, ``mean_sd`` (mean
        reported sd), ``sd_estimates`` (sd of the estimates over repeats),
        ``sd_ratio`` = mean_sd / sd_estimates (1 is honest, < 1 over-confident),
        ``cover68_<kind>`` and ``cover95_<kind>`` (fraction of repeats whose
        interval contains the truth; kinds ``normal``, ``hdi``, ``basic``, see
        the module docstring; NaN for methods without draws), ``seconds``
        (mean wall time of one estimate). The binomial standard error of a
        coverage p over R repeats is sqrt(p (1 - p) / R).
    estimates : pandas.DataFrame
        One row per (repeat, method): ``value``, ``mean``, ``sd``, ``ess``,
        ``n_components`` (K of the fit), ``seconds``, every interval's
        ``<kind><level>_low`` / ``_high``, and ``error`` (None, or the
        exception's type and message; its numbers are NaN).
    dataset : Dataset
    n : int
    """

    table: pd.DataFrame
    estimates: pd.DataFrame
    dataset: Dataset
    n: int

    def plot(self, axes: Sequence[Axes] | None = None, *, interval: str = "normal") -> np.ndarray:
        """Estimates with their 95 % intervals against the truth, and a coverage bar chart.

        Parameters
        ----------
        axes : sequence of two matplotlib Axes, optional
        interval : {"normal", "hdi", "basic"}, default "normal"
            Interval drawn in the left panel.

        Returns
        -------
        ndarray of two matplotlib Axes
        """
        from .plot import plot_calibration

        return plot_calibration(self, axes, interval=interval)


def calibration(
    dataset: Dataset | str,
    *,
    n: int,
    repeats: int,
    methods: Sequence[str | Method] = ("bootstrap",),
    executor: Executor | None = None,
    random_state: int | np.random.Generator | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Calibration:
    """Coverage study: estimate ``repeats`` independent data sets drawn from ``dataset``.

    Parameters
    ----------
    dataset : gmmmi.datasets.Dataset or str
        A distribution with known MI (or a name for `gmmmi.datasets.get`).
    n : int
        Samples per data set.
    repeats : int
        Number of independent data sets.
    methods : sequence of str or Method, default ("bootstrap",)
        As in `compare`.
    executor : concurrent.futures.Executor, optional
        Runs the repeats (e.g. a ``ProcessPoolExecutor`` or a
        ``dask.distributed`` client's ``get_executor()``). None runs them
        serially in this process. Results do not depend on the executor: each
        repeat's data and estimator seeds come from one ``SeedSequence.spawn``.
    random_state : int, numpy.random.Generator or None
        Root of every seed.
    progress : bool or None
        A progress bar over repeats; None shows it in a terminal.
    **options
        Options of `gmmmi.estimate`, routed as in `compare`.

    Returns
    -------
    Calibration
        ``.table``, ``.estimates``, ``.plot()``. A repeat whose estimate
        raises is recorded (``estimates["error"]``, ``table["failed"]``) and
        left out of the statistics.

    Raises
    ------
    TypeError, ValueError
        Before any repeat: for a bad ``n``, ``repeats``, ``executor``, method
        or option (as in `compare`).
    RuntimeError
        If every repeat of a method fails (with the first error message).
    """
    import pandas as pd

    from .datasets import get

    dataset = get(dataset)
    n = check_int("n", n, minimum=2)
    repeats = check_int("repeats", repeats, minimum=2)
    check_executor(executor)
    ms = _resolve_methods(methods)
    split = _split_options(ms, options)
    split = _check_method_options(
        ms, {name: {**dataset.estimate_options, **opts} for name, opts in split.items()}
    )
    seqs = [child.spawn(2) for child in _seed_sequence(random_state).spawn(repeats)]
    records = [None] * repeats
    with progress_bar(repeats, "calibration", progress_enabled(progress), unit="repeat") as bar:
        if executor is None:
            for i, (data_seq, est_seq) in enumerate(seqs):
                records[i] = _repeat_job(dataset, n, data_seq, est_seq, ms, split)
                bar.update(1)
        else:
            futures = {
                executor.submit(_repeat_job, dataset, n, d, e, ms, split): i
                for i, (d, e) in enumerate(seqs)
            }
            for fut in as_completed(futures):
                records[futures[fut]] = fut.result()
                bar.update(1)
    estimates = pd.DataFrame(
        [{"repeat": i, **rec} for i, recs in enumerate(records) for rec in recs]
    )
    return Calibration(
        table=_summarise(estimates, dataset.truth), estimates=estimates, dataset=dataset, n=n
    )


__all__ = [
    "Calibration",
    "Comparison",
    "INTERVALS",
    "LEVELS",
    "METHODS",
    "Method",
    "calibration",
    "compare",
]
