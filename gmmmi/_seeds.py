"""Seeds: every conversion between Generators, SeedSequences and int seeds.

The functions reproduce, number for number, the seeds gmmmi has always
produced; two families of call sites differ only in how many words they
draw from a user's Generator (`sequence_from_generator`):

* ``words=1``: `gmmmi.compare` and `gmmmi.calibration` (studies.py);
* ``words=4``: `gmmmi.estimate_many`, `gmmmi.mi_matrix` and the independence tests.

and in how they turn a SeedSequence into an int (`int_seed` halves the first
64-bit word, `spawn_int_seeds` reduces it modulo 2**63).
"""

from __future__ import annotations

import numpy as np


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
