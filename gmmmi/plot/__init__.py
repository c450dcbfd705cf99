"""Plots of estimates, fitted mixtures and studies (matplotlib only).

Every plot of gmmmi is drawn here; the ``plot`` methods of `gmmmi.Result`,
`gmmmi.MIMatrix`, `gmmmi.IndependenceTest`, `gmmmi.EstimateMI`, ``Comparison``
and ``Calibration`` call these functions. They read only public members of
the objects they draw and import no module above them (the layers of
docs/architecture.md), so those modules can import them.
One module per subject:

* ``distributions``: an estimated quantity's draws (`plot_distribution`;
  a result's, `plot_result`; a permutation test's null draws,
  `plot_null_distribution`);
* ``mixtures``: fitted mixtures: component ellipses
  (`plot_mixture_ellipses`), a corner grid of them (`plot_corner`), and
  data-vs-model density contours, the model's exact
  (`plot_fitted_contours`, one panel: `plot_density_contours`; a result's,
  `plot_result_fit`);
* ``diagnostics``: EM loss curves (`plot_loss_curves`) and PIT histograms
  (`plot_pit`);
* ``selection``: the path of a greedy feature selection
  (`plot_selection_path`);
* ``studies``: many estimates: the heat map of an MI matrix
  (`plot_mi_matrix`), a comparison of uncertainty methods
  (`plot_comparison`) and a calibration study (`plot_calibration`);
* ``timeseries``: MI against lag (`plot_lagged_mi`).

Every function draws on the Axes it is given (or a new one), returns what it
drew on and never calls ``plt.show()``.
"""

from ._style import (
    DATA_COLOR,
    FIT_COLOR,
    INTERVAL_COLOR,
    POINT_COLOR,
    TRAIN_COLOR,
    TRUTH_COLOR,
    VALID_COLOR,
)
from .diagnostics import plot_loss_curves, plot_pit
from .distributions import plot_distribution, plot_null_distribution, plot_result
from .mixtures import (
    plot_corner,
    plot_density_contours,
    plot_fitted_contours,
    plot_mixture_ellipses,
    plot_result_fit,
)
from .selection import plot_selection_path
from .studies import plot_calibration, plot_comparison, plot_mi_matrix
from .timeseries import plot_lagged_mi

__all__ = [
    "DATA_COLOR",
    "FIT_COLOR",
    "INTERVAL_COLOR",
    "POINT_COLOR",
    "TRAIN_COLOR",
    "TRUTH_COLOR",
    "VALID_COLOR",
    "plot_calibration",
    "plot_comparison",
    "plot_corner",
    "plot_density_contours",
    "plot_distribution",
    "plot_fitted_contours",
    "plot_lagged_mi",
    "plot_loss_curves",
    "plot_mi_matrix",
    "plot_mixture_ellipses",
    "plot_null_distribution",
    "plot_pit",
    "plot_result",
    "plot_result_fit",
    "plot_selection_path",
]
