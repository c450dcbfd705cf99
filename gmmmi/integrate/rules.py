"""The numbers of the integration rules: methods, dimensions, steps, tolerances, scrambles.

The modules of `gmmmi.integrate` read them from here when they run (``rules.NAME``), so
a study that changes one for a finer reference (tests/integrate/test_integrate.py and
benchmarks/bench_integrals.py do) changes it for every method at once. The public
names are also importable from `gmmmi.integrate` itself, as values.
"""

#: The integration methods (case-insensitive; GMM-MI's ``"MC"`` is ``"mc"``).
METHODS = ("quad", "qmc", "mc")

#: Largest total dimension integrated by the trapezoidal rule; above it "quad" is "qmc".
QUAD_MAX_DIM = 6

#: Trapezoidal rule per dimension d: (step h, truncation tau with |z|^2 <= 2 tau).
#: Chosen by measuring against high-precision references (see tests/integrate/test_integrate.py).
_QUAD_RULES = {
    1: (0.1, 22.0),
    2: (0.22, 20.0),
    3: (0.45, 14.0),
    4: (0.7, 11.0),
    5: (1.0, 9.0),
    6: (1.2, 8.0),
}

#: The truncation error is estimated with the rule on a ball smaller by this much in |z|^2.
_INNER_BALL = 4.0
#: Factor on the two error estimates: calibrated on random mixtures
#: (tests/integrate/test_integrate.py), where the plain estimates fell short in about 1 % of the
#: cases, by up to 4 times.
_QUAD_SAFETY = 4.0
#: Relative rounding error added to every quadrature error estimate.
_ROUNDING = 1e-11

#: A component of q whose smallest standard deviation, in the whitened coordinates of a
#: component of p, is below this many grid steps is not resolved by the trapezoidal rule.
_RESOLVED_STEPS = 0.15

#: Error (nats) above which a draw's integral is refined, and then warned about.
TOLERANCE = 1e-3

#: Independent scrambles of the QMC rule; its error is QMC_ERROR_FACTOR standard errors.
QMC_SCRAMBLES = 16
#: Standard errors (over the scrambles) reported as the QMC rule's error bound.
QMC_ERROR_FACTOR = 3.5
#: log2 of the points per scramble at each refinement level of the QMC rule.
_QMC_LEVELS = (10, 12, 14)
_QMC_SEED = 0x6D6D69
#: Largest share of the analytic excess bound added to the QMC error (nats).
_QMC_MISSED_CAP = 0.1 * TOLERANCE
