"""Discrete columns and point masses, by the chain rule: no Gaussian is fitted to an atom.

``gmmmi.estimate(..., discrete="auto")`` treats a column with at most
``gmmmi._screening.FEW_VALUES`` (10) distinct values as discrete, and splits the
point masses off a continuous column (values that hold at least `ATOM_SHARE`
of the rows while the other values are distinct: zero-inflated, censored or
hurdle data) into an indicator of the atom. The rows are split into *cells*,
one per combination of the discrete values (atom indicators included); the
continuous columns are fitted per cell by the backend, a column being left
out of the cells where it sits on an atom. With every density written as
p(d, c) = p(d) f(c | d), the (conditional) MI is a signed sum of
E[log p(D_S, C_S)] over blocks S (xy, x, y; or xyz, z, xz, yz), which splits
into

* a discrete part, the entropies of the cell counts merged over the discrete
  columns of S (`gmmmi.contingency`, with its bias correction): the
  contingency-table MI when every column is discrete;
* a continuous part, sum over cells s of p(s) E_{f_s}[log f(C_S | D_S)],
  f(C_S | D_S) being the mixture of the cells that share s's discrete values
  in S, pooled with their weights
  (`gmmmi.integrate.expected_log_densities`).

This is the chain rule: a discrete z gives sum_c p(c) I(x; y | z = c), a
discrete y the category MI of ``discrete_y``, a block [x_c, x_d] gives
I(x_d; y) + I(x_c; y | x_d), a point mass a of y gives
I(x; 1[y = a]) + P(y != a) I(x; y | y != a).

Uncertainty: each cell's fit has the backend's draws (a bootstrap of the
cell's rows), and the cell weights of each draw are drawn alongside them as
``gmmmi.categorical.class_weight_draws`` does (multinomial counts for a
bootstrap); every term of the sum is computed from the same draw's fits and
weights, so one interval covers the whole sum. This is the row bootstrap
stratified by cell: a row bootstrap of all the data draws the cell counts
multinomially and then the rows within each cell, which is what is done here
except that a cell's fit sees its observed count of rows (a difference of
relative order 1/n_cell in the spread; docs/mixed.md measures the coverage).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import __version__, _bias
from . import integrate as _integrate
from ._data import ValidatedData, column_indices, pool_categories
from ._data_units import affine_checked, warn_unstorable
from ._rows import rows_needed, sorted_unique
from ._screening import FEW_VALUES, screen
from ._stacklevel import user_stacklevel
from .categorical import class_weight_draws
from .contingency import CORRECTION, entropy_from_counts
from .diagnostics import DrawKind, FitDiagnostics
from .exceptions import ConvergenceWarning
from .margins import MarginChoice, MarginReason, choose_margins
from .mixture import MixtureDraws
from .result import Result

#: a value of a continuous column is a point mass when it holds at least this share
#: of the rows (zero-inflated data: y = 0 with probability 0.1 and more) ...
ATOM_SHARE = 0.05
#: ... and at least this many rows ...
ATOM_MIN_ROWS = 10
#: ... while at least this share of the other rows have distinct values (a rounded
#: column repeats every value: that is quantisation, warned about by the screen)
ATOM_REST_DISTINCT = 0.5


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns are discrete and which hold point masses.

    Attributes
    ----------
    discrete : tuple of int
        Columns of ``X`` treated as discrete.
    atoms : dict of int to tuple of float
        Continuous columns with point masses, and their atom values.
    requested : str
        ``"auto"`` or ``"list"``: how the plan was made.
    """

    discrete: tuple
    atoms: dict
    requested: str


def plan_columns(
    X: np.ndarray, names: list, discrete: Any, orders: tuple | None = None
) -> ColumnPlan | None:
    """The discrete columns and point masses of ``X``; None when every column is continuous.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        The data in data units.
    names : list of str
        Column names.
    discrete : "auto", None, or sequence of str or int
        ``"auto"``: columns with 2 to 10 distinct values, each
        repeated on average (at most n / 2 values), and the point masses of
        the others (`find_atoms`). None: none. A sequence:
        those columns (names or indices into ``X``'s columns), nothing else.
    orders : tuple of numpy.ndarray, optional
        ``gmmmi._rows.column_orders`` of ``X``, when the caller has them.

    Returns
    -------
    ColumnPlan or None

    Raises
    ------
    ValueError
        For an unknown name or index, or a value that is none of these.
    """
    if discrete is None:
        return None
    if isinstance(discrete, str):
        if discrete != "auto":
            raise ValueError(
                f"discrete must be 'auto', None or a list of column names or indices; got "
                f"{discrete!r}."
            )
        # a constant column is left to the refusal of constant columns, and a column
        # without repeated values (a handful of continuous rows) to the row-count checks
        n = X.shape[0]
        discrete_cols, atoms = [], {}
        for j in range(X.shape[1]):  # one sort of the column serves both questions
            if orders is None:
                values, counts = np.unique(X[:, j], return_counts=True)
            else:
                values, counts = sorted_unique(X[:, j], orders[j])
            if 1 < values.size <= min(FEW_VALUES, n / 2):
                discrete_cols.append(j)
            elif found := _atoms(values, counts, n):
                atoms[j] = found
        cols = tuple(discrete_cols)
        if not cols and not atoms:
            return None
        return ColumnPlan(cols, atoms, "auto")
    cols = column_indices("discrete", discrete, names)
    return ColumnPlan(tuple(sorted(set(cols))), {}, "list") if cols else None


def find_atoms(column: np.ndarray) -> tuple:
    """The point masses of a continuous column (see `ATOM_SHARE`), ascending; () if none."""
    return _atoms(*np.unique(column, return_counts=True), column.size)


def _atoms(values: np.ndarray, counts: np.ndarray, n: int) -> tuple:
    """`find_atoms` from the column's distinct values, their counts and its length."""
    heavy = counts >= max(ATOM_SHARE * n, ATOM_MIN_ROWS)
    if not heavy.any():
        return ()
    rest = n - counts[heavy].sum()
    if rest == 0 or (~heavy).sum() < ATOM_REST_DISTINCT * rest:
        return ()
    return tuple(float(v) for v in values[heavy])


@dataclass(frozen=True)
class _Variable:
    """One discrete variable: a discrete column, or a column's atom indicator."""

    column: int
    block: str
    codes: np.ndarray  # (n,) level of each row; for an indicator 0 = continuous
    levels: list  # label of each code


def _discrete_variables(X, plan, names, block_of, min_category_size) -> list[_Variable]:
    out = []
    for j in plan.discrete:
        values, codes = np.unique(X[:, j], return_inverse=True)
        levels = [_label(v) for v in values]
        if min_category_size is not None:
            codes, levels = pool_categories(codes.ravel(), levels, min_category_size)
        if len(levels) < 2:
            how = "declared discrete" if plan.requested == "list" else "discrete"
            raise ValueError(
                f"Column {names[j]!r} is {how} but takes a single value ({levels[0]}) in all "
                f"{X.shape[0]} rows: a constant carries no information, so its MI with anything "
                "is 0 and a conditional MI given it is the plain MI. Drop the column."
            )
        out.append(_Variable(j, block_of[j], np.asarray(codes).ravel(), levels))
    for j, atoms in plan.atoms.items():
        codes = np.zeros(X.shape[0], dtype=np.int64)
        for k, a in enumerate(atoms):
            codes[X[:, j] == a] = k + 1
        out.append(_Variable(j, block_of[j], codes, ["continuous"] + [f"={a:g}" for a in atoms]))
    return out


def _label(v: float) -> Any:
    """A level's label: an int for integral values, else the float."""
    return int(v) if float(v).is_integer() else float(v)


def estimate_mixed(
    data: Any,
    plan: ColumnPlan,
    *,
    backend: Any,
    fit_options: dict,
    api_options: dict,
    n_components: int | None,
    rng: np.random.Generator,
    seed: int | None,
    progress: bool,
    integrate_kw: dict,
    base: float,
    n_folds: int,
    min_category_size: int | None,
    check_fit_output: Any,
    estimand: str = "mi",
    transform: str | None = "auto",
) -> Result:
    """The (conditional) MI of data with discrete columns or point masses, as a `gmmmi.Result`.

    Parameters
    ----------
    data : gmmmi._data.ValidatedData
        The validated data (``X`` in data units, ``blocks``, ``labels``).
    plan : ColumnPlan
    backend : gmmmi.backends.Backend
    fit_options, api_options : dict
        The backend's options and ``gmmmi.api.API_OPTIONS``' values.
    n_components : int or None
        A fixed K of every cell's fit, or None to choose it per cell.
    rng : numpy.random.Generator
        Used by the cells' fits in cell order, then for the cell weights.
    seed : int or None
        The recorded seed.
    progress : bool
    integrate_kw : dict
        ``method``, ``mc_samples``, ``rng`` of the integrals.
    base : float
        Logarithm base of the output.
    n_folds : int
        Cross-validation folds of a fit (rows needed per cell).
    min_category_size : int or None
        Pool the levels of each discrete column with fewer rows.
    check_fit_output : callable
        ``(backend, draws, diagnostics)``: the contract check of `gmmmi.estimate`.
    estimand : {"mi", "entropy"}, default "mi"
        ``"mi"``: the MI of x and y (given z). ``"entropy"``: the entropy
        of x, -E[log p(D, C)] = H(D) + sum_s p(s) h(C | s), with the
        differential part in data units (`gmmmi.entropy`).
    transform : {"auto", "none", "gaussianize"} or None, default "auto"
        The margins' maps of the continuous columns (`gmmmi.margins`), chosen
        on the rows of the cells where every continuous column is continuous
        and applied to each column's continuous values in every cell (one
        monotone map per column leaves every term of the chain unchanged).
        None (entropy, which maps change): the raw data.

    Returns
    -------
    gmmmi.Result
        With ``meta["discrete"]`` saying what was treated as discrete.
    """
    X, blocks = data.X, data.blocks
    names = [str(name) for key in blocks for name in data.labels[key]]
    block_of = {j: key for key, cols in blocks.items() for j in cols}
    variables = _discrete_variables(X, plan, names, block_of, min_category_size)
    continuous = [j for j in range(X.shape[1]) if j not in plan.discrete]
    if variables:
        D = np.stack([v.codes for v in variables], axis=1)
        configs, cell_of_row = np.unique(D, axis=0, return_inverse=True)
        cell_of_row = cell_of_row.ravel()
    else:  # entropy of continuous columns: one cell
        configs, cell_of_row = np.zeros((1, 0), dtype=np.int64), np.zeros(len(X), dtype=np.int64)
    counts = np.bincount(cell_of_row, minlength=len(configs)).astype(float)
    atom_var = {v.column: i for i, v in enumerate(variables) if v.column in plan.atoms}
    active = [
        [j for j in continuous if j not in atom_var or cfg[atom_var[j]] == 0] for cfg in configs
    ]
    X, margins = _margins(
        data, continuous, active, cell_of_row, transform, backend, fit_options, n_components, rng
    )
    shift, scale = _standardisation(X, continuous, active, cell_of_row, names)
    Xs = (X - shift) / scale
    cells = [_describe_cell(cfg, variables, names) for cfg in configs]
    _check_cell_rows(counts, active, cells, n_folds, names)
    _screen_cells(Xs, shift, scale, cell_of_row, active, block_of, cells, names, n_folds)

    fits = {}
    for s, cols in enumerate(active):
        if not cols:
            continue
        rows = np.ascontiguousarray(Xs[cell_of_row == s][:, cols])
        try:
            draws, diag = backend.fit(
                rows, n_components=n_components, rng=rng, progress=progress, **fit_options
            )
        except ValueError as err:
            raise ValueError(f"Cell {cells[s]} could not be fitted: {err}") from err
        check_fit_output(backend, draws, diag)
        fits[s] = (draws, diag)
    kind, shape = _kind_and_shape(fits, fit_options)
    n_draws = shape[0] * shape[1]
    weights = class_weight_draws(kind, counts, n_draws, rng)
    subsets = [(-1.0, ("x",))] if estimand == "entropy" else _subsets("z" in blocks)
    n = counts.sum()
    # -E[log f(C)] in data units is the standardised one plus sum_j log scale_j over the
    # columns continuous in the cell (for MI these cancel)
    jacobian = np.array([np.log(scale[cols]).sum() for cols in active])
    if estimand != "entropy":
        jacobian[:] = 0.0

    def chain(mixtures, w):
        disc = _discrete_part(subsets, configs, variables, w * n) + w @ jacobian
        terms = _cell_terms(subsets, configs, variables, active, block_of, mixtures, w)
        cont = _integrate.expected_log_densities(
            [mixtures.get(s) for s in range(len(configs))], w, terms, **integrate_kw
        )
        return disc + cont.values, cont

    draw_mix = {s: f[0] for s, f in fits.items()}
    values, integral = chain(draw_mix, weights)
    references = {s: f[1].reference_fit for s, f in fits.items()}
    if all(r is not None for r in references.values()):
        point = float(chain(references, (counts / n)[None])[0][0])
    else:
        point = float(values.mean())
    quantity = estimand if estimand == "entropy" else ("cmi" if "z" in blocks else "mi")
    log_base = math.log(base)
    bias = 0.0  # K = 1 cells of a CMI given discrete z: their Wishart bias (gmmmi._bias)
    if quantity == "cmi" and api_options.get("bias_correction", True):
        cell_diagnostics = {s: f[1] for s, f in fits.items()}
        discrete_blocks = {v.block for v in variables}
        bias = _bias.chain_correction(cell_diagnostics, counts, active, block_of, discrete_blocks)
        values, point = values - bias, point - bias
    mixture, reference = _pooled_mixtures(fits, references, weights, counts, active, continuous)
    mixture, bad = affine_checked(mixture, scale[continuous], shift[continuous])
    if reference is not None:
        reference, bad_reference = affine_checked(reference, scale[continuous], shift[continuous])
        bad |= bad_reference
    warn_unstorable(bad, scale[continuous], [names[j] for j in continuous])
    # each cell's own full-data fit, like the pooled one, in data units (of the mapped columns)
    in_units = {
        s: (draws, _reference_in_units(diag, scale[active[s]], shift[active[s]]))
        for s, (draws, diag) in fits.items()
    }
    diagnostics = _combine(in_units, kind, shape, reference, counts, weights, cells, active, names)
    for s, (_, diag) in fits.items():
        for message in backend.check(diag):
            warnings.warn(
                f"Cell {cells[s]}: {message}", ConvergenceWarning, stacklevel=user_stacklevel()
            )
    meta = {
        "backend": backend.name,
        "method": diagnostics.method,
        "quantity": quantity,
        "unit": {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}"),
        "base": base,
        "n_samples": int(X.shape[0]),
        "labels": data.labels,
        "blocks": data.blocks,
        "integral_method": integral.method,
        "options": {**fit_options, **api_options},
        "random_state": seed,
        "gmmmi_version": __version__,
        "transform": margins,
        "bias_correction": _bias.record(bias, log_base),
    }
    if variables:
        meta["discrete"] = _record(
            plan, variables, names, cells, counts, continuous, min_category_size
        )
    return Result(
        draws={quantity: values.reshape(shape) / log_base},
        point={quantity: point / log_base},
        integration_error={quantity: integral.errors.reshape(shape) / log_base},
        mixture=mixture,
        diagnostics=diagnostics,
        meta=meta,
    )


def _margins(
    data, continuous, active, cell_of_row, transform, backend, fit_options, n_components, rng
):
    """The data with each continuous column's values mapped as `gmmmi.margins` chooses.

    The choice runs on the rows of the cells where every continuous column
    is continuous, one fit per cell (as for a category label); the chosen
    map of a column is applied to its values in every cell where it is
    continuous, so all cells share one coordinate per column. Returns the
    data and the record of ``Result.meta["transform"]``.
    """
    X = data.X
    full = [s for s, cols in enumerate(active) if cols == continuous]
    if transform is None or not continuous or not full:
        reason = MarginReason.ENTROPY_KEEPS_RAW if transform is None else MarginReason.NO_FULL_CELL
        return X, MarginChoice(transform or "none", "none", reason).to_dict()
    rows = np.isin(cell_of_row, full)
    position = {j: k for k, j in enumerate(continuous)}
    sub = ValidatedData(
        X=np.ascontiguousarray(X[rows][:, continuous]),
        blocks={
            key: [position[j] for j in cols if j in position] for key, cols in data.blocks.items()
        },
        labels={
            key: [name for j, name in zip(cols, data.labels[key], strict=True) if j in position]
            for key, cols in data.blocks.items()
        },
        categories=np.searchsorted(full, cell_of_row[rows]),
        category_values=list(range(len(full))),
    )
    _, choice = choose_margins(
        sub,
        transform,
        backend=backend,
        kl=False,
        fit_options=fit_options,
        n_components=n_components,
        rng=rng,
    )
    if choice.chosen != "none":
        X = X.copy()
        for j, marginal_map in zip(continuous, choice.maps, strict=True):
            where = np.isin(cell_of_row, [s for s, cols in enumerate(active) if j in cols])
            X[where, j] = marginal_map(X[where, j])
    return X, choice.to_dict()


def _standardisation(X, continuous, active, cell_of_row, names):
    """Shift and scale of each continuous column over the rows where it is continuous."""
    shift, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    for j in continuous:
        cells = [s for s, cols in enumerate(active) if j in cols]
        values = X[np.isin(cell_of_row, cells), j]
        # in units of the largest magnitude, so that the moments cannot overflow (1e300)
        unit = float(np.abs(values).max()) if values.size else 0.0
        unit = unit if unit > 0 else 1.0
        sd = unit * (values / unit).std() if values.size else 0.0
        if not sd > 0:
            raise ValueError(
                f"Column {names[j]!r} is continuous but takes one value where it is not a point "
                "mass; declare it discrete (discrete=[...]) or drop it."
            )
        shift[j], scale[j] = unit * (values / unit).mean(), sd
    return shift, scale


def _screen_cells(Xs, shift, scale, cell_of_row, active, block_of, cells, names, n_folds):
    """`gmmmi._screening.screen` on each cell's continuous columns; errors name the cell.

    A cell where some continuous column has at most 10 distinct values is too
    small to judge (the screen would call that column discrete) and is skipped;
    a cell where x or y has no continuous column is screened without the check
    of deterministic relations, which compares the two.
    """
    for s, cols in enumerate(active):
        rows = Xs[cell_of_row == s][:, cols]
        if not cols or any(np.unique(c).size <= FEW_VALUES for c in rows.T):
            continue
        blocks = {}
        for key in ("x", "y", "z"):
            idx = [k for k, j in enumerate(cols) if block_of[j] == key]
            if idx:
                blocks[key] = idx
        labels = {key: [names[cols[k]] for k in idx] for key, idx in blocks.items()}
        try:
            screen(
                np.ascontiguousarray(rows),
                shift[cols],
                scale[cols],
                blocks,
                labels,
                categorical=not ("x" in blocks and "y" in blocks),
                n_folds=n_folds,
            )
        except ValueError as err:
            raise ValueError(f"Cell {cells[s]}: {err}") from err


def _describe_cell(cfg, variables, names) -> str:
    """``'z0'=2, 'y0'=0`` for a cell."""
    return ", ".join(
        f"{names[v.column]}{_level_text(v, c)}" for v, c in zip(variables, cfg, strict=False)
    )


def _level_text(v: _Variable, code: int) -> str:
    label = v.levels[code]
    return label if isinstance(label, str) and label[:1] == "=" else f"={label}"


def _check_cell_rows(counts, active, cells, n_folds, names) -> None:
    """ValueError naming the cells with too few rows for their fit (`rows_needed`)."""
    rare = [
        s for s, cols in enumerate(active) if cols and counts[s] < rows_needed(len(cols), n_folds)
    ]
    if not rare:
        return
    listed = "; ".join(
        f"{cells[s]} ({int(counts[s])} rows, needs {rows_needed(len(active[s]), n_folds)})"
        for s in rare[:5]
    )
    raise ValueError(
        f"Too few rows in {len(rare)} cell(s) of the discrete columns for a fit of their "
        f"continuous columns: {listed}. Each combination of discrete values is fitted on its "
        "own rows. Pass min_category_size=... to pool rare levels of each discrete column "
        "(neighbouring numbers are merged, e.g. '5-7'), or drop those rows."
    )


def _kind_and_shape(fits, fit_options):
    """The draws' kind and (chain, draw) shape, shared by every cell."""
    if not fits:  # no continuous column: the cell counts alone, resampled as a bootstrap
        b = int(fit_options.get("n_bootstrap", 50))
        return (DrawKind.BOOTSTRAP, (1, b)) if b > 0 else (DrawKind.SINGLE_FIT, (1, 1))
    kinds = {diag.kind for _, diag in fits.values()}
    shapes = {tuple(diag.sample_shape) for _, diag in fits.values()}
    if len(kinds) > 1 or len(shapes) > 1:
        raise ValueError(
            "The backend returned draws of different kinds or shapes for different cells; every "
            "cell needs the same number of draws of the same kind."
        )
    return kinds.pop(), shapes.pop()


def _subsets(conditional: bool) -> list:
    """``(coef, blocks)`` of I = sum coef E[log p(blocks)]."""
    if conditional:
        return [(1.0, ("x", "y", "z")), (1.0, ("z",)), (-1.0, ("x", "z")), (-1.0, ("y", "z"))]
    return [(1.0, ("x", "y")), (-1.0, ("x",)), (-1.0, ("y",))]


def _groups(configs, variables, subset) -> np.ndarray:
    """Group id of every cell by its discrete values in the blocks ``subset``."""
    idx = [i for i, v in enumerate(variables) if v.block in subset]
    if not idx:
        return np.zeros(len(configs), dtype=np.int64)
    return np.unique(configs[:, idx], axis=0, return_inverse=True)[1].ravel()


def _discrete_part(subsets, configs, variables, cell_counts) -> np.ndarray:
    """sum coef E[log p(D_S)] = -sum coef H(D_S), per draw, bias-corrected."""
    total = np.zeros(cell_counts.shape[0])
    for coef, subset in subsets:
        group = _groups(configs, variables, subset)
        merged = np.zeros((cell_counts.shape[0], group.max() + 1))
        np.add.at(merged.T, group, cell_counts.T)
        if merged.shape[1] > 1:
            total -= coef * entropy_from_counts(merged, CORRECTION)
    return total


def _cell_terms(subsets, configs, variables, active, block_of, mixtures, w):
    """``(coef, idx, q)`` of every cell: q = f(C_S | D_S) pooled over the matching cells."""
    terms = [[] for _ in configs]
    for coef, subset in subsets:
        group = _groups(configs, variables, subset)
        for s, cols in enumerate(active):
            idx = [i for i, j in enumerate(cols) if block_of[j] in subset]
            if not idx or s not in mixtures:
                continue
            members = np.flatnonzero(group == group[s])
            share = w[:, members]
            total = share.sum(axis=1, keepdims=True)
            share = np.where(total > 0, share / np.where(total > 0, total, 1.0), 1 / len(members))
            parts = [mixtures[m].marginal(_positions(active[m], cols, idx)) for m in members]
            terms[s].append((coef, idx, MixtureDraws.pool(parts, share)))
    return terms


def _positions(cols_m, cols_s, idx) -> list:
    """Positions in cell m's columns of the columns ``cols_s[idx]`` of cell s."""
    return [cols_m.index(cols_s[i]) for i in idx]


def _pooled_mixtures(fits, references, weights, counts, active, continuous):
    """p(continuous columns) pooled over the cells where every one is continuous (else d = 0)."""
    full = [s for s in fits if active[s] == continuous]
    S = weights.shape[0]
    if not full:
        empty = MixtureDraws(np.ones((S, 1)), np.zeros((S, 1, 0)), np.zeros((S, 1, 0, 0)))
        return empty, None
    share = weights[:, full] / weights[:, full].sum(axis=1, keepdims=True)
    mixture = MixtureDraws.pool([fits[s][0] for s in full], share)
    reference = None
    if all(references[s] is not None for s in full):
        ref_share = (counts[full] / counts[full].sum())[None]
        reference = MixtureDraws.pool([references[s] for s in full], ref_share)
    return mixture, reference


def _reference_in_units(diag, scale, shift):
    """A copy of ``diag`` with its reference fit mapped to data units."""
    if diag.reference_fit is None:
        return diag
    return replace(diag, reference_fit=affine_checked(diag.reference_fit, scale, shift)[0])


def _combine(fits, kind, shape, reference, counts, weights, cells, active, names):
    """One FitDiagnostics for the chain: each fitted cell's in ``per_category``.

    ``per_category`` holds the cells with continuous columns, in cell order;
    ``extra["cells"]`` describes every cell (its values, rows, columns and K).
    """
    extra = {
        "cells": [
            {
                "cell": cells[s],
                "n_samples": int(counts[s]),
                "columns": [names[j] for j in active[s]],
                "n_components": int(fits[s][1].n_components) if s in fits else 0,
            }
            for s in range(len(cells))
        ],
        "class_weights": weights,
    }
    if not fits:
        return FitDiagnostics(
            kind=kind,
            n_components=0,
            sample_shape=shape,
            method="contingency table",
            extra=extra,
        )
    diags = [diag for _, diag in fits.values()]
    return replace(
        diags[0],
        n_components=max(g.n_components for g in diags),
        reference_fit=reference,
        n_iter=np.max([g.n_iter for g in diags], axis=0),
        converged=np.all([g.converged for g in diags], axis=0),
        sample_stats=None,
        extra=extra,
        selection=None,
        per_category=tuple(diags),
    )


def _record(plan, variables, names, cells, counts, continuous, min_category_size) -> dict:
    """``Result.meta["discrete"]``: what was treated as discrete, and why."""
    return {
        "requested": plan.requested,
        "columns": [names[j] for j in plan.discrete],
        "levels": {names[v.column]: [str(x) for x in v.levels] for v in variables},
        "atoms": {names[j]: list(a) for j, a in plan.atoms.items()},
        "pooled_below": min_category_size,
        "cells": len(cells),
        "correction": CORRECTION,
        "mixture_columns": [names[j] for j in continuous],
    }
