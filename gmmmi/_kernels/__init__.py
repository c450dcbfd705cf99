"""Every Numba-compiled function of gmmmi: pure functions on arrays.

* ``linalg``     Cholesky factors, Gaussian and mixture log-densities, logsumexp.
* ``logdensity`` blocked mixture log-densities, shared by EM and the integrands.
* ``em``         EM for full-covariance mixtures: batched fits, one step, M-step moments.
* ``kmeans``     Lloyd's k-means.
* ``resample``   bootstrap replicas as distinct rows with counts.
* ``integrands`` quadrature, quasi-Monte Carlo and Monte Carlo integrands.
"""
