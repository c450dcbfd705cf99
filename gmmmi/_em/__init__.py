"""The EM wing: everything below the numba backend that fits Gaussian mixtures by EM.

One module per job, in the order one fit runs through them:

* ``options``   option names, GMM-MI's defaults and `gmmmi.estimate`'s, their checks.
* ``procedure`` one fit of the GMM-MI procedure: choose K, fit all data, bootstrap, warn.
* ``select``    the fold split, cross-validation at one K, and the choice of K.
* ``init``      initial mixtures (random, bounding box, k-means, scikit-learn style).
* ``fit``       batched EM fits in one compiled call, their status counts.
* ``repair``    refits of fits with a collapsed component.
* ``bootstrap`` bootstrap replicas fitted from one start, or choosing K again.

The compiled kernels they call live in `gmmmi._kernels` (``em``, ``kmeans``,
``resample``, ``logdensity``); thread limits in `gmmmi._threads`.
"""
