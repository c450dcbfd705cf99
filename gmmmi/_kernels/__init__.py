"""Every Numba-compiled function of gmmmi: pure functions on arrays.

* ``linalg``     Cholesky factors, Gaussian and mixture log-densities, logsumexp.
* ``em``         EM for full-covariance mixtures, k-means, batched fits (numba backend).
* ``integrands`` quadrature, quasi-Monte Carlo and Monte Carlo integrands.
"""
