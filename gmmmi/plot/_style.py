"""Colours and figure creation shared by the plots."""

from __future__ import annotations

#: colours shared by the plots (matplotlib's default cycle names)
DATA_COLOR = "0.45"
FIT_COLOR = "C1"
POINT_COLOR = "black"
TRUTH_COLOR = "C3"
INTERVAL_COLOR = "0.6"
TRAIN_COLOR = "0.5"
VALID_COLOR = "salmon"


def _axes(ax, figsize=(6.0, 4.0)):
    """``ax`` itself, or the Axes of a new figure of size ``figsize`` (inches)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
