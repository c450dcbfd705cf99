"""Every Numba-compiled function of gmmmi: pure functions on arrays.

* ``linalg``     Cholesky factors, Gaussian and mixture log-densities, logsumexp.
* ``logdensity`` blocked mixture log-densities, shared by EM and the integrands.
* ``em``         EM for full-covariance mixtures: batched fits, one step, M-step moments.
* ``em1d``       EM for 1-D mixtures (the margins' maps): the same fits, scalar parameters.
* ``kmeans``     Lloyd's k-means.
* ``resample``   bootstrap replicas as distinct rows with counts; K = 1 replicas in closed form.
* ``moments``    one Gaussian's moments of weighted rows, summed in row order (K = 1 fits).
* ``integrands`` quadrature, quasi-Monte Carlo and Monte Carlo integrands.

Compile time (the first call in a fresh environment, docs/scaling.md) follows from
how Numba compiles: every ``@njit`` function is compiled on its own, then linked into
and compiled again with each function that calls it. So:

* a small helper is ``inline="always"``: it is compiled only inside its callers
  (``block_scratch``, ``block_views``, ``whiten_component``, ``quad_form``...; never one
  whose fastmath flags differ from its caller's: ``_exp_block``);
* a large one is not (``block_logpdf``, ``_stats_2``): Numba types and lowers an inlined
  body again inside its caller, and a big function costs more than its parts (inlining
  ``block_logpdf`` into ``_e_step`` cost 1.3 s more than compiling it on its own);
* a larger helper with several call sites (``_e_step``, ``_m_step``, ``prepare_mixture``)
  is not inlined either: inlined, it would be compiled once per call site;
* a helper called only from compiled code has ``no_cpython_wrapper=True,
  no_cfunc_wrapper=True`` (``NO_WRAPPERS``): no Python entry point is built for it
  (calling it from Python would crash the interpreter; tests call it through a kernel);
* no allocation in the kernels the estimate runs first (the EM kernel, k-means, the
  M-step moments, ``cholesky_batch``): a public Python function allocates the outputs
  and scratch (``em._scratch``, once per batch of fits) and calls its compiled twin
  (``em._em_fit_batch``, ``kmeans._lloyd``...); every ``np.empty``/``zeros``/``full``
  in a kernel is a compilation of its own (0.05-0.15 s), optimised again in each caller;
* one call site per use of a helper: the EM kernel's K = 1 closed form and EM share
  their scoring calls of the E-step (each call site is code compiled again);
* no ``inline="always"`` for a large body with one call site: one fit's EM is written in
  the EM kernel's loop (Numba's inlining of it cost 0.3-0.7 s of compilation);
* one signature per function: a flag is a run-time value (``em.STATS``), not a literal
  ``True``/``False``, which would compile the function once per value;
* no array-to-array slice assignment (``a[:] = b``): it compiles Numba's formatted
  shape-mismatch error, about 3.5 s of CPU once per process; loops instead;
* the EM kernel is serial and releases the GIL, and `gmmmi._threads.run_split` runs
  it in threads: a ``prange`` kernel takes several times longer to compile.
"""
