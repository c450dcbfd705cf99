"""Seeds: every conversion between Generators, SeedSequences and int seeds.

The functions reproduce, number for number, the seeds gmmmi has always
produced; two families of call sites differ only in how many words they
draw from a user's Generator (`sequence_from_generator`):

* ``words=1``: `gmmmi.compare` and `gmmmi.calibration` (studies.py);
* ``words=4``: `gmmmi.estimate_many`, `gmmmi.mi_matrix` and the independence tests.

and in how they turn a SeedSequence into an int (`int_seed` halves the first
64-bit word, `spawn_int_seeds` reduces it modulo 2**63). Every public
function's ``random_state`` is checked here, once (`check_random_state`), and
turned into a Generator (`resolve_generator`) or a SeedSequence
(`resolve_sequence`).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import check_int


def fresh_seed() -> int:
    """A new non-negative int seed (< 2**63) from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy % (2**63))


def sequence_from_generator(rng: np.random.Generator, words: int) -> np.random.SeedSequence:
    """A SeedSequence seeded by ``words`` draws of ``rng.integers(2**63)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The user's Generator; it advances by ``words`` draws.
    words : int
        1 or 4, by call site (see the module docstring).

    Returns
    -------
    numpy.random.SeedSequence
    """
    return np.random.SeedSequence(rng.integers(2**63, size=words).tolist())


def int_seed(seq: np.random.SeedSequence) -> int:
    """A reproducible non-negative int seed (< 2**63): the first word halved."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def spawn_int_seeds(root: np.random.SeedSequence, n: int) -> list[int]:
    """One int seed (< 2**63) per child of ``root.spawn(n)``: the first word mod 2**63."""
    return [int(c.generate_state(1, np.uint64)[0] % 2**63) for c in root.spawn(n)]


def check_random_state(
    random_state: int | np.random.Generator | np.random.SeedSequence | None,
) -> int | np.random.Generator | np.random.SeedSequence:
    """The one check of a user's ``random_state``; None becomes a fresh int seed.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        A non-negative int (a float with an integral value is accepted, as
        elsewhere), a Generator or a SeedSequence (passed through), or None.

    Returns
    -------
    int, numpy.random.Generator or numpy.random.SeedSequence

    Raises
    ------
    TypeError
        For any other type (bools included).
    ValueError
        For a negative or non-integral number.
    """
    if isinstance(random_state, (np.random.Generator, np.random.SeedSequence)):
        return random_state
    if random_state is None:
        return fresh_seed()
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Real):
        raise TypeError(
            "random_state must be an integer, a numpy Generator, a SeedSequence or None; got "
            f"{random_state!r} ({type(random_state).__name__})."
        )
    return check_int("random_state", random_state, minimum=0)


def resolve_generator(random_state) -> tuple[int | None, np.random.Generator]:
    """A Generator from ``random_state``, and the int seed to record (None if not an int).

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        See `check_random_state`; a Generator is used as it is.

    Returns
    -------
    seed : int or None
    rng : numpy.random.Generator
    """
    state = check_random_state(random_state)
    if isinstance(state, np.random.Generator):
        return None, state
    return (state if isinstance(state, int) else None), np.random.default_rng(state)


def resolve_sequence(
    random_state, *, words: int, branch: int | None = None
) -> tuple[int | None, np.random.SeedSequence]:
    """A SeedSequence from ``random_state``, and the int seed to record (None if not an int).

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        See `check_random_state`.
    words : int
        Words drawn from a Generator (`sequence_from_generator`; 1 or 4, by
        call site).
    branch : int or None, default None
        A spawn-key word appended to an int's or a SeedSequence's key, for a
        stream distinct from the one without it (a Generator's draws already
        are distinct).

    Returns
    -------
    seed : int or None
    sequence : numpy.random.SeedSequence
    """
    state = check_random_state(random_state)
    if isinstance(state, np.random.Generator):
        return None, sequence_from_generator(state, words)
    seed = state if isinstance(state, int) else None
    seq = np.random.SeedSequence(state) if seed is not None else state
    if branch is not None:
        seq = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, branch))
    return seed, seq


def resolve_int_seed(random_state: int | None) -> int:
    """An int seed from ``random_state`` (checked), a fresh one for None.

    For the functions that derive several streams from one recorded int
    (`gmmmi.lagged_mi`, `gmmmi.transfer_entropy`).

    Raises
    ------
    TypeError
        For a Generator or a SeedSequence, and as `check_random_state`.
    ValueError
        As `check_random_state`.
    """
    state = check_random_state(random_state)
    if not isinstance(state, int):
        raise TypeError(
            f"random_state must be an integer or None here; got {type(state).__name__}."
        )
    return state
