"""Names, numbers and lines shared by a result's text and its plots.

`gmmmi.result` prints with them and `gmmmi.plot` labels with them, so a plot
reads only public members of the objects it draws and never imports the
module that made them.
"""

from __future__ import annotations

import math

import numpy as np

from ._intervals import critical_value
from .diagnostics import DrawKind, FitDiagnostics

#: how each quantity is named in text and plots
QUANTITY_LABELS = {
    "mi": "MI",
    "cmi": "CMI",
    "kl_xy": "KL[p(x)||p(y)]",
    "kl_yx": "KL[p(y)||p(x)]",
    "entropy": "H",
    "kl": "KL",
    "js": "JS",
}


def draws_of(draws: dict, quantity: str) -> np.ndarray:
    """The draws of ``quantity`` in ``draws`` (a result's ``draws``).

    Raises
    ------
    KeyError
        Naming the quantities there are, if ``quantity`` is not one of them.
    """
    if quantity not in draws:
        raise KeyError(f"No draws of {quantity!r}; this result has {list(draws)}.")
    return draws[quantity]


def method_text(diagnostics: FitDiagnostics) -> str:
    """How the draws were made, e.g. ``"200 bootstrap"`` or ``"NUTS 4×1000 draws"``."""
    kind, (c, d) = diagnostics.kind, diagnostics.sample_shape
    if kind is DrawKind.BOOTSTRAP:
        if diagnostics.extra.get("bootstrap") == "block":
            length = diagnostics.extra["block_length"]
            return f"{c * d} block bootstrap, blocks of {length:.3g} rows"
        return f"{c * d} bootstrap"
    if kind is DrawKind.SINGLE_FIT:
        return "single fit"
    return f"{diagnostics.method} {c}×{d} draws"


def sample_sd(values) -> float:
    """The sd of ``values`` (ddof 1); NaN for fewer than two."""
    values = np.asarray(values)
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def decimals(sd: float) -> int:
    """Decimals that show ``sd`` to two significant digits."""
    return max(0, 1 - int(math.floor(math.log10(sd))))


def has_spread(value: float, sd: float) -> bool:
    """True for a finite sd above rounding noise (1e-12 of the value, or 1e-300)."""
    return bool(np.isfinite(sd) and sd > max(1e-12 * abs(value), 1e-300))


def format_pm(value: float, sd: float, *, sep: str = " ± ") -> str:
    """``value ± sd`` with sd to 2 significant digits and value to the same decimal.

    Without a finite sd above rounding noise (e.g. identical draws), the value
    alone to 4 significant digits.
    """
    if not (np.isfinite(value) and has_spread(value, sd)):
        return f"{value:.4g}"
    places = decimals(sd)
    return f"{value:.{places}f}{sep}{sd:.{places}f}"


def interval_name(prob: float, method: str = "normal", correction: dict | None = None) -> str:
    """How an interval of `Result.interval` is named in text and plots.

    E.g. ``"95% interval (value ± 1.96 sd)"``, ``"95% HDI"``, or for a block
    bootstrap (``correction``, `Result.interval_correction`)
    ``"95% interval (value ± 2.08 sd, fixed-b)"``.
    """
    if method == "hdi":
        return f"{100 * prob:g}% HDI"
    rule = "" if correction is None else f", {correction['rule']}"
    return f"{100 * prob:g}% interval (value ± {critical_value(prob, correction):.2f} sd{rule})"
