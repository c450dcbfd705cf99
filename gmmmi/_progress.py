"""The one progress bar of gmmmi (tqdm), on for long work in a terminal."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def progress_enabled(progress: bool | None) -> bool:
    """Resolve the user's ``progress`` argument.

    ``None`` (the default everywhere) means: on when standard error is a
    terminal and the environment variable ``GMMMI_PROGRESS`` is not ``"0"``.
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("GMMMI_PROGRESS", "") == "0":
        return False
    return sys.stderr.isatty()


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "it"):
    """A tqdm bar (a no-op bar when ``enabled`` is False).

    Use as a context manager and call ``.update(n)``. tqdm's ``delay`` keeps
    the bar hidden for work shorter than about a second.
    """
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, delay=1.0, leave=False)
