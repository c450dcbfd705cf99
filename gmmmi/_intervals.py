"""gmmmi's intervals: constants, and the critical value of ``value ± c sd``.

Constants, and `fixed_b`/`critical_value`, which import SciPy only when
called, so that modules that only need the constants (`gmmmi.studies`,
`gmmmi.plot`) import neither ArviZ nor each other.

The block bootstrap's critical value
------------------------------------
With IID rows the interval is value ± z sd, z the normal quantile (1.96 for
95%). A block bootstrap's variance with blocks of L of the n rows is, for a
mean, the Bartlett-kernel long-run variance with bandwidth L (exactly, with
circular autocovariances, for the circular block bootstrap: Politis & Romano
1992; Künsch 1989 for moving blocks). When b = L / n is not small, that
variance is biased down (the mean is estimated from the same rows) and
noisy, so ``(estimate − truth) / sd`` is not normal: its limit with b held
fixed is the Bartlett "fixed-b" law of Kiefer & Vogelsang (2005),
W(1) / √Q_b with Q_b a quadratic form of a Brownian bridge, whose mean is
E Q_b = 1 − b + b²/3 (for the circular bootstrap's wrapped autocovariances
it is 1 − b, exactly so on white noise: a difference below 0.4% for
b ≤ 0.1, the published value is kept). `critical_value` takes its
quantiles from the scaled Student-t approximation of that law (Sun 2014): Q_b
as E Q_b times a χ²_ν / ν with ν = 1 / (b ∫k²) = 3 / (2b) equivalent degrees
of freedom (∫k² = 2/3 for the Bartlett window k), so

    c(p) = t_ν(½ + p/2) / √(1 − b + b²/3).

At 95% and b = 0.05 this gives 2.094 (Kiefer & Vogelsang's fitted
polynomial 1.96 + 2.9694 b + 0.4160 b² − 0.5324 b³ gives 2.109; a simulation
of the statistic 2.106 ± 0.01); as b → 0 it tends to the normal quantile.

The sd itself comes from B bootstrap replicas, a Monte Carlo estimate of
the bootstrap variance with its own relative variance 2 / (B − 1) (a
χ²_{B−1} / (B − 1) factor, independent of the first). The two factors are
combined into one scaled χ² by Satterthwaite's (1946) rule,
1 / ν = 2b/3 + 1 / (B − 1), so with the default 50 replicas the 95% value is
2.015 for nearly independent rows (b → 0; 1.96 with B → ∞) and 2.14 at
b = 0.045 (φ = 0.9, n = 1000; docs/timeseries.md measures its coverage).

References
----------
N. M. Kiefer and T. J. Vogelsang, "Heteroskedasticity-autocorrelation robust
standard errors using the Bartlett kernel without truncation",
*Econometrica* 70(5), 2093-2095 (2002).

N. M. Kiefer and T. J. Vogelsang, "A new asymptotic theory for
heteroskedasticity-autocorrelation robust tests", *Econometric Theory* 21(6),
1130-1164 (2005).

Y. Sun, "Let's fix it: fixed-b asymptotics versus small-b asymptotics in
heteroskedasticity and autocorrelation robust inference", *Journal of
Econometrics* 178(3), 659-677 (2014).

F. E. Satterthwaite, "An approximate distribution of estimates of variance
components", *Biometrics Bulletin* 2(6), 110-114 (1946).

D. N. Politis and J. P. Romano, "A circular block-resampling procedure for
stationary data", in *Exploring the Limits of Bootstrap*, Wiley, 263-270 (1992).

H. R. Künsch, "The jackknife and the bootstrap for general stationary
observations", *Annals of Statistics* 17(3), 1217-1241 (1989).
"""

from __future__ import annotations

#: Probability mass of an HDI when none is given: ``Result.hdi``, `gmmmi.compare`
#: and the PyMC backend's summary use it (ArviZ's own default). Labels are built
#: from the probability actually used (``interval_name(prob, "hdi")``), never typed.
HDI_PROB = 0.94

#: the interval constructions of ``Result.interval``
INTERVAL_METHODS = ("normal", "hdi")

#: nominal probabilities of the intervals whose coverage `gmmmi.calibration` reports
LEVELS = (0.68, 0.95)
#: interval constructions reported by `gmmmi.calibration` (see `gmmmi.studies`)
INTERVALS = ("normal", "hdi", "basic")

#: ∫k(s)² ds of the Bartlett window k(s) = 1 − |s| on [−1, 1]
BARTLETT_K2 = 2.0 / 3.0


def fixed_b(block_length: float, n_rows: int, replicas: int | None = None) -> dict:
    """The fixed-b critical-value rule of a block bootstrap, as recorded on a result.

    Parameters
    ----------
    block_length : float
        Rows per block, L (≥ 1).
    n_rows : int
        Rows of the series, n (≥ L).
    replicas : int or None
        B, the bootstrap replicas the sd was computed from; None (or B < 2):
        the fixed-b law alone (B → ∞).

    Returns
    -------
    dict
        ``{"rule": "fixed-b", "b": L / n, "replicas": B, "dof": ν,
        "scale": 1 / √(1 − b + b²/3)}`` with 1 / ν = b ∫k² + 1 / (B − 1)
        (∫k² = 2/3); `critical_value` at probability p is
        ``scale * t_ν(½ + p/2)``.
    """
    b = float(block_length) / float(n_rows)
    inverse_dof = b * BARTLETT_K2
    if replicas is not None and replicas >= 2:
        inverse_dof += 1.0 / (replicas - 1)
    return {
        "rule": "fixed-b",
        "b": b,
        "replicas": None if replicas is None else int(replicas),
        "dof": 1.0 / inverse_dof,
        "scale": (1.0 - b + b * b / 3.0) ** -0.5,
    }


def critical_value(prob: float, correction: dict | None = None) -> float:
    """c of the interval value ± c sd with probability ``prob``.

    Parameters
    ----------
    prob : float
        Probability of the interval, in (0, 1).
    correction : dict or None
        None: the normal quantile (1.960 for 0.95). A `fixed_b` record (a
        block-bootstrap result's ``interval_correction``): the scaled
        Student-t quantile ``scale * t_dof(½ + prob/2)`` (see the module).

    Returns
    -------
    float
    """
    from scipy import stats

    if correction is None:
        return float(stats.norm.ppf(0.5 + prob / 2))
    if correction.get("rule") != "fixed-b":
        raise ValueError(f"Unknown interval correction {correction!r}; known: 'fixed-b'.")
    return float(correction["scale"] * stats.t.ppf(0.5 + prob / 2, correction["dof"]))
