"""Every code example of the original GMM-MI README runs with ``gmm_mi`` renamed ``gmmmi``.

The snippets below are copied from that README (kept as written, with the
original import name); each test runs them, in order, in one namespace with
``gmm_mi`` replaced by ``gmmmi``, and checks the answer the README states:
(0.21 ± 0.04) nat for a bivariate Gaussian of true MI 0.2231 nat.
"""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

SEED_README = Path("/work/shared/seed-readme.txt")
TRUTH = -0.5 * np.log(1 - 0.6**2)  # 0.2231 nat

INSTALL_CHECK = """\
from gmm_mi.mi import EstimateMI
"""

BASIC = """\
import numpy as np
from gmm_mi.mi import EstimateMI

# create simple bivariate Gaussian data
mean, cov = np.array([0, 0]), np.array([[1, 0.6], [0.6, 1]])
rng = np.random.default_rng(0)
X = rng.multivariate_normal(mean, cov, 200) # has shape (200, 2)
# calculate MI
mi_estimator = EstimateMI()
MI_mean, MI_std = mi_estimator.fit_estimate(X)
"""

FITTED_MODEL = """\
import matplotlib.pyplot as plt
fig, ax = plt.subplots(1, 1, figsize=(10, 10))
# X is the array with the input data
ax.scatter(X[:, 0], X[:, 1], label='Input data')
# the extra arguments can be changed
ax = mi_estimator.plot_fitted_model(ax=ax, color='salmon', alpha=0.8, linewidth=4)
ax.tick_params(axis='both', which='both', labelsize=20)
ax.set_xlabel('X1', fontsize=30)
ax.set_ylabel('X2', fontsize=30)
ax.legend(fontsize=25, frameon=False)
"""

CONTOURS = """\
fig = mi_estimator.plot_fitted_contours(parameters=['X1', 'X2'],
                                        shade_alpha=0.4, linewidths=2,
                                        legend_kwargs = {'loc': 'lower right'},
                                        kde=True, # smooths contours; set this to False to accelerate plotting
                                        )
fig.set_size_inches(7, 7)
"""  # noqa: E501

HOLDERS = """\
from gmm_mi.param_holders import GMMFitParamHolder, SelectComponentsParamHolder, MIDistParamHolder

# parameters for every GMM fit that is being run
gmm_fit_params = GMMFitParamHolder(threshold_fit=1e-5, reg_covar=1e-15)
# parameters to choose the number of components
select_components_params = SelectComponentsParamHolder(n_inits=3, n_folds=2)
# parameters for MI distribution estimation
mi_dist_params = MIDistParamHolder(n_bootstrap=50, MC_samples=1e5)

mi_estimator = EstimateMI(gmm_fit_params=gmm_fit_params,
                          select_components_params=select_components_params)
mi_estimator.fit(X)
MI_mean, MI_std = mi_estimator.estimate(mi_dist_params=mi_dist_params)
"""

SNIPPETS = [INSTALL_CHECK, BASIC, FITTED_MODEL, CONTOURS, HOLDERS]


def run(code, namespace, seed=0):
    """Execute a snippet with ``gmm_mi`` renamed; EstimateMI() seeded with ``seed``.

    The README leaves the seed to chance; the tests fix it (through the
    default of EstimateMI's keyword-only ``random_state``) to be repeatable.
    """
    from gmmmi.mi import EstimateMI

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(EstimateMI.__init__.__kwdefaults__, "random_state", seed)
        exec(compile(code.replace("gmm_mi", "gmmmi"), "<seed README>", "exec"), namespace)
    return namespace


def squeeze(text):
    """Text without whitespace or comments, to compare snippets with the README's wrapped text."""
    return re.sub(r"\s+", "", re.sub(r"#[^\n]*", "", text))


@pytest.mark.skipif(not SEED_README.exists(), reason="the seed README is not on this machine")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=["install", "basic", "model", "contours", "hp"])
def test_snippets_are_the_readmes(snippet):
    assert squeeze(snippet) in squeeze(SEED_README.read_text())


@pytest.fixture(scope="module")
def basic():
    """The README's first example, run once for the tests below."""
    return run(BASIC, {})


def test_install_check():
    assert run(INSTALL_CHECK, {})["EstimateMI"].__module__ == "gmmmi.mi"


def test_basic_example_gives_the_readme_answer(basic):
    mean, sd = basic["MI_mean"], basic["MI_std"]
    # README: (0.21 ± 0.04) nat, truth 0.22 nat
    assert 0.02 < sd < 0.08
    assert abs(mean - TRUTH) < 3 * sd
    assert abs(mean - 0.21) < 0.03


def test_fitted_model_plot(basic, tmp_path):
    namespace = run(FITTED_MODEL, dict(basic))
    ax = namespace["ax"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Input data", "Fitted model"]
    # two ellipses (1 and 2 sigma) per component, in the colour asked for
    assert len(ax.patches) == 2 * basic["mi_estimator"].best_components
    assert all(p.get_edgecolor()[:3] == plt.matplotlib.colors.to_rgb("salmon") for p in ax.patches)
    namespace["fig"].savefig(tmp_path / "seed_fitted_model.png", dpi=40)
    plt.close("all")


def test_contour_plot(basic, tmp_path):
    fig = run(CONTOURS, dict(basic))["fig"]
    assert isinstance(fig, Figure)
    assert [a.get_xlabel() for a in fig.axes if a.get_visible() and a.axison][-2:] == ["X1", "X2"]
    assert fig.legends[0]._loc == 4  # "lower right"
    fig.savefig(tmp_path / "seed_contours.png", dpi=40)
    plt.close("all")


def test_hyperparameter_example_is_equivalent(basic):
    namespace = run(HOLDERS, dict(basic))
    mean, sd = namespace["MI_mean"], namespace["MI_std"]
    assert 0.02 < sd < 0.08
    assert abs(mean - TRUTH) < 3 * sd
    # "equivalent to the first example": the same settings, up to the seed
    assert abs(mean - basic["MI_mean"]) < sd
