"""Maps of one block that keep the MI exactly: shears and twists.

A map of the x block alone (or of y, or of z, each separately) that is
invertible leaves I(X; Y) and I(X; Y | Z) unchanged; with a unit Jacobian
it also leaves held-out log-likelihoods directly comparable. Two families,
both in standardised units (columns of mean 0 and sd 1):

* a **shear** of column i by the others of its block, z_i <- z_i - f(z_-i),
  f an additive cubic regression spline (B-splines with knots evenly spaced
  between the column's smallest and largest value, their number chosen by
  5-fold cross-validated error among `SHEAR_KNOTS`).
  A trend of one feature on another, or bmi's *waves* (x1 + 5 sin 3 x2).
* a **twist**: the plane (a, b) of a block turned about the block's mean by
  the angle theta(r) = c1 r + c2 r^2 of the block's radius r (which the
  turn keeps). bmi's *spirals* are such a twist of a Gaussian.

Their parameters are estimated from the data by the likelihood of one
Gaussian fitted to all the columns (the proxy `gaussian_gain`: a unit-Jacobian
map raises it exactly when it lowers the log-determinant of the joint
covariance, and a linear shear leaves it unchanged), so a map is found only
where it makes the joint *more Gaussian*. `find_maps` returns the maps
whose gain passes `MIN_GAIN`; `gmmmi._block_refit` then fits the mapped
data and keeps it only when its held-out likelihood is higher and its fit
check passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: interior knots of the shear's spline tried by cross-validation (0: one cubic)
SHEAR_KNOTS = (0, 2, 4, 8, 16, 32)
#: cross-validated gain over a linear fit (nat per row, 1/2 ln of the error ratio) a shear needs
SHEAR_GAIN = 0.005
#: gain of the Gaussian proxy (nat per row) a twist needs, and the maps together (bmi's waves,
#: once sheared, offer a spurious twist of 0.02)
MIN_GAIN = 0.05
#: starting rates of a twist's search: c2 (of r^2) and c1 (of r), one at a time
_RATES_R2 = np.linspace(-1.0, 1.0, 41)
_RATES_R1 = np.linspace(-2.0, 2.0, 41)
#: bounds of the rates (c1, c2): at most 2 rad per unit radius, 1 rad per squared unit
_BOUNDS = ((-2.0, 2.0), (-1.0, 1.0))
#: passes over the blocks of the twist search
TWIST_SWEEPS = 2
_FOLDS = 5
#: which data a map was found on, in words (``diagnostics.extra["block_maps"]``)
DATA_TEXT = {"kept": "the data fitted", "raw": "the raw data"}


# ------------------------------------------------------------------ shears
def _design(values: np.ndarray, bounds: tuple[float, float], n_knots: int) -> np.ndarray:
    """Cubic B-spline basis of ``values`` (clipped to ``bounds``): shape (n, n_knots + 4)."""
    from scipy.interpolate import BSpline  # here: 0.1 s of every first estimate otherwise

    lo, hi = bounds
    inner = np.linspace(lo, hi, n_knots + 2)[1:-1]
    knots = np.concatenate([[lo] * 4, inner, [hi] * 4])
    return BSpline.design_matrix(np.clip(values, lo, hi), knots, 3).toarray()


def _shear_design(Z: np.ndarray, inputs, bounds, n_knots) -> np.ndarray:
    parts = [np.ones((Z.shape[0], 1))]
    parts += [_design(Z[:, j], b, n_knots) for j, b in zip(inputs, bounds, strict=True)]
    return np.hstack(parts)


def _solve(gram: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """Least squares from the normal equations, with a ridge of 1e-9 of the mean diagonal."""
    ridge = 1e-9 * np.trace(gram) / len(gram)
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), moment)


def _cv_error(design: np.ndarray, target: np.ndarray, folds: np.ndarray) -> float:
    """Mean squared held-out error of least squares over `_FOLDS` folds."""
    gram, moment = design.T @ design, design.T @ target
    sq = 0.0
    for f in range(_FOLDS):
        test = folds == f
        Dt, yt = design[test], target[test]
        coef = _solve(gram - Dt.T @ Dt, moment - Dt.T @ yt)
        sq += float(((yt - Dt @ coef) ** 2).sum())
    return sq / target.size


@dataclass(frozen=True)
class Shear:
    """z[column] <- z[column] - f(z[inputs]), f additive cubic splines (standardised units)."""

    column: int
    inputs: tuple[int, ...]
    bounds: tuple[tuple[float, float], ...]  # knot range of each input
    n_knots: int
    coef: tuple[float, ...]  # intercept, then each input's B-spline coefficients
    gain: float  # cross-validated nat per row over a linear fit

    def apply(self, Z: np.ndarray) -> np.ndarray:
        out = Z.copy()
        design = _shear_design(Z, self.inputs, self.bounds, self.n_knots)
        out[:, self.column] -= design @ np.asarray(self.coef)
        return out

    def to_dict(self) -> dict:
        return {"family": "shear", **{k: _plain(v) for k, v in self.__dict__.items()}}

    def describe(self, names: list[str]) -> str:
        given = ", ".join(names[j] for j in self.inputs)
        return f"{names[self.column]} sheared by a spline of {given}"


def fit_shear(Z: np.ndarray, column: int, inputs: tuple[int, ...], folds) -> Shear | None:
    """The shear of ``column`` by ``inputs`` with the best cross-validated knots, if it gains.

    Returns None when no spline beats the linear fit by `SHEAR_GAIN`.
    """
    target = Z[:, column]
    bounds = tuple((float(Z[:, j].min()), float(Z[:, j].max())) for j in inputs)
    linear = np.column_stack([np.ones(Z.shape[0]), Z[:, list(inputs)]])
    base = _cv_error(linear, target, folds)
    errors = {k: _cv_error(_shear_design(Z, inputs, bounds, k), target, folds) for k in SHEAR_KNOTS}
    n_knots = min(errors, key=errors.get)
    gain = 0.5 * float(np.log(base / errors[n_knots]))
    if not gain > SHEAR_GAIN:
        return None
    design = _shear_design(Z, inputs, bounds, n_knots)
    coef = _solve(design.T @ design, design.T @ target)
    return Shear(column, inputs, bounds, n_knots, tuple(coef.tolist()), gain)


# ------------------------------------------------------------------ twists
def _turn(Z, columns, plane, centre, rates) -> np.ndarray:
    """Turn the ``plane`` of ``Z`` by c1 r + c2 r^2 (r: radius of ``columns`` about ``centre``)."""
    out = Z.copy()
    r = np.sqrt(((Z[:, columns] - centre) ** 2).sum(axis=1))
    angle = rates[0] * r + rates[1] * r * r
    a, b = plane
    ia, ib = columns[a], columns[b]
    u, v = Z[:, ia] - centre[a], Z[:, ib] - centre[b]
    cos, sin = np.cos(angle), np.sin(angle)
    out[:, ia] = centre[a] + cos * u - sin * v
    out[:, ib] = centre[b] + sin * u + cos * v
    return out


@dataclass(frozen=True)
class Twist:
    """The plane (a, b) of the block ``columns`` turned by c1 r + c2 r^2 about ``centre``."""

    columns: tuple[int, ...]
    plane: tuple[int, int]  # positions within ``columns``
    centre: tuple[float, ...]
    rates: tuple[float, float]  # c1 (rad per unit radius), c2 (rad per squared unit)
    gain: float  # of the Gaussian proxy, nat per row

    def apply(self, Z: np.ndarray) -> np.ndarray:
        return _turn(Z, list(self.columns), self.plane, np.asarray(self.centre), self.rates)

    def to_dict(self) -> dict:
        return {"family": "twist", **{k: _plain(v) for k, v in self.__dict__.items()}}

    def describe(self, names: list[str]) -> str:
        a, b = (names[self.columns[p]] for p in self.plane)
        c1, c2 = self.rates
        return f"{a}, {b} turned by {c1:.3g} r + {c2:.3g} r²"


def _logdet(Z: np.ndarray) -> float:
    return float(np.linalg.slogdet(np.cov(Z, rowvar=False))[1])


def gaussian_gain(Z: np.ndarray, mapped: np.ndarray) -> float:
    """Gain of the log-likelihood per row of one Gaussian fitted to ``mapped`` over ``Z``.

    For a map with unit Jacobian: 1/2 (ln det cov Z - ln det cov mapped), in nats.
    """
    return 0.5 * (_logdet(Z) - _logdet(mapped))


def fit_twist(Z: np.ndarray, columns: list[int]) -> Twist | None:
    """The twist of one plane of the block ``columns`` that most raises the Gaussian proxy.

    Every plane is searched over a grid of rates (c2 with c1 = 0, then c1
    with c2 = 0) and the best start refined by Nelder-Mead on both; None when
    the best gain is below `MIN_GAIN`.
    """
    from scipy import optimize  # here: 0.1 s of every first estimate otherwise

    centre = Z[:, columns].mean(axis=0)
    reference = _logdet(Z)
    best = None
    for a in range(len(columns)):
        for b in range(a + 1, len(columns)):

            def loss(rates, plane=(a, b)):
                return _logdet(_turn(Z, columns, plane, centre, rates))

            starts = [(0.0, c) for c in _RATES_R2] + [(c, 0.0) for c in _RATES_R1]
            start = min(starts, key=loss)
            found = optimize.minimize(
                loss, start, method="Nelder-Mead", bounds=_BOUNDS, options={"xatol": 1e-4}
            )
            gain = 0.5 * (reference - float(found.fun))
            if best is None or gain > best[0]:
                best = (gain, (a, b), tuple(float(c) for c in found.x))
    if best is None or not best[0] > MIN_GAIN:
        return None
    gain, plane, rates = best
    return Twist(tuple(columns), plane, tuple(centre.tolist()), rates, gain)


#: the families of `BlockMaps.steps`, by the name their records carry
FAMILIES = {"shear": Shear, "twist": Twist}


# -------------------------------------------------------------- both
@dataclass(frozen=True)
class BlockMaps:
    """Shears then twists, from data units: X -> shift + scale * maps((X - shift) / scale)."""

    shift: tuple[float, ...]
    scale: tuple[float, ...]
    steps: tuple  # Shear and Twist, applied in order
    gain: float  # of the Gaussian proxy over all steps, nat per row

    def apply(self, X: np.ndarray) -> np.ndarray:
        """The data (n, d) in data units, mapped; shape (n, d)."""
        shift, scale = np.asarray(self.shift), np.asarray(self.scale)
        Z = (np.asarray(X, dtype=np.float64) - shift) / scale
        for step in self.steps:
            Z = step.apply(Z)
        return shift + scale * Z

    def to_dict(self) -> dict:
        return {
            "shift": list(self.shift),
            "scale": list(self.scale),
            "steps": [s.to_dict() for s in self.steps],
            "gain": self.gain,
        }

    @classmethod
    def from_dict(cls, record: dict) -> BlockMaps:
        steps = []
        for s in record["steps"]:
            family = FAMILIES.get(s.get("family"))
            if family is None:
                raise ValueError(
                    f"Unknown block map family {s.get('family')!r} in "
                    f"diagnostics.extra['block_maps']; known: {', '.join(FAMILIES)}."
                )
            steps.append(family(**{k: _tuples(v) for k, v in s.items() if k != "family"}))
        return cls(tuple(record["shift"]), tuple(record["scale"]), tuple(steps), record["gain"])

    def describe(self, names: list[str]) -> str:
        return "; ".join(s.describe(names) for s in self.steps)


def find_maps(
    Xs: np.ndarray, blocks: dict, shift: np.ndarray, scale: np.ndarray
) -> BlockMaps | None:
    """Shears, then twists, of each block of the standardised data that raise the proxy.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        Standardised data (``X = shift + scale * Xs``).
    blocks : dict
        Block name -> column indices (``ValidatedData.blocks``).
    shift, scale : numpy.ndarray, shape (d,)
        The standardisation, recorded so that the maps apply to data units.

    Returns
    -------
    BlockMaps or None
        None when no map gains `MIN_GAIN` nat per row of the Gaussian proxy.
    """
    folds = np.random.default_rng(0).permutation(Xs.shape[0]) % _FOLDS  # fixed: no draw
    Z, steps = Xs, []
    groups = [list(idx) for idx in blocks.values() if len(idx) >= 2]
    for idx in groups:
        for column in idx:
            shear = fit_shear(Z, column, tuple(j for j in idx if j != column), folds)
            if shear is not None:
                steps.append(shear)
                Z = shear.apply(Z)
    for _ in range(TWIST_SWEEPS):
        turned = False
        for idx in groups:
            twist = fit_twist(Z, idx)
            if twist is not None:
                steps.append(twist)
                Z = twist.apply(Z)
                turned = True
        if not turned:
            break
    gain = gaussian_gain(Xs, Z)
    if not steps or not gain > MIN_GAIN:
        return None
    return BlockMaps(tuple(shift.tolist()), tuple(scale.tolist()), tuple(steps), gain)


def describe_record(record: dict) -> str:
    """One sentence on the shears and twists tried, for `gmmmi.MisfitWarning`.

    ``record`` is ``diagnostics.extra["block_maps"]`` (`gmmmi._block_refit`).
    """
    parts = []
    for t in record["tried"]:
        where = DATA_TEXT[t["data"]]
        if t["maps"] is None:
            parts.append(f"none found on {where}")
        else:
            parts.append(f"{t['text']} on {where} (K={t['n_components']}: {t['check']})")
    verdict = "kept" if record["kept"] is not None else "none kept"
    return f"Shears and twists of the blocks (MI unchanged) tried: {'; '.join(parts)}; {verdict}. "


def _plain(value):
    """JSON values: tuples of tuples as lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
