"""Warnings and exceptions that gmmmi raises."""


class ConvergenceWarning(UserWarning):
    """A fit did not converge, or the component search stopped at ``max_components``.

    The estimate is still returned; the warning says which fits were affected
    and what to change (``max_iter``, ``threshold_fit``, ``max_components``).
    """


class IntegrationWarning(UserWarning):
    """An integral fell back to another method or its error estimate is large."""


class DataUnitsWarning(UserWarning):
    """The fitted mixture cannot be represented in the data's units in float64.

    Raised for columns whose scale is so extreme (standard deviation beyond
    about 1e±154) that their variances over- or underflow. The reported
    integrals, computed in standardised units, are unaffected; the stored
    mixtures hold inf or 0 in those columns.
    """


class DataWarning(UserWarning):
    """The data, as given, are likely to give a wrong estimate or error bar.

    Raised before the fit by the screening of the standardised data
    (``docs/refusals.md``, "Warnings about the data"); the estimate is still
    returned. Each message names the rows or columns concerned, says how
    the estimate is affected and what to do:

    * exact copies of rows (the bootstrap counts every copy as an
      independent observation);
    * a column with many tied values (rounded or quantised data);
    * a far, isolated outlier (named by row and column);
    * few rows for the number of columns (the estimate of independent
      blocks is far from 0 on average).
    """


class MisfitWarning(UserWarning):
    """The fitted mixture does not describe the data: the estimate may be far off.

    Raised by `gmmmi.estimate` when the goodness-of-fit check of its fit to
    all the data (``result.fit_check``, `gmmmi.fit_check.automatic_check`)
    fails, after a wider component search did not fix it. The message names
    the margin or pair of coordinates that departs most, by how many sd, and
    what to try; its interval does not include this error (docs/trust.md).
    """


class ResultFileError(ValueError):
    """A file given to `gmmmi.load` is damaged, truncated, or not a gmmmi result.

    The message names the file and what is missing or damaged.
    """


class PValueResolutionWarning(UserWarning):
    """Too few permutations for any corrected p-value to reach 0.05 (see `gmmmi.mi_matrix`)."""


class TaskFailedWarning(UserWarning):
    """Some tasks of `gmmmi.estimate_many` or `gmmmi.mi_matrix` failed (see their `TaskError`)."""


class SerialDependenceWarning(UserWarning):
    """The rows look like a time series, but are resampled as independent draws.

    Raised by `gmmmi.estimate` with ``bootstrap="iid"`` when a column's
    autocorrelation in row order is significant (``gmmmi.serial``); the message
    names the columns and the fix, ``bootstrap="block"``.
    """


class SharpRelationWarning(UserWarning):
    """The relation between x and y is sharper than the fitted mixture resolves.

    Raised after the fit when the components' spread of a column given the
    other block is well above the spread of the data around a local fit on
    nearest neighbours (``docs/trust.md``): a thin curve followed by a few
    broad components, so the estimate is likely too low and its error bar
    does not show it. The message gives the ratio and the likely shortfall.
    """
