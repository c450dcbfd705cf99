"""The line ``print(result)`` shows about discrete columns (``Result.meta["discrete"]``)."""

from __future__ import annotations


def describe(record: dict | None) -> str | None:
    """One line on the discrete columns for ``print(result)``; None without any."""
    if not record:
        return None
    parts = [f"{name!r} ({len(record['levels'][name])} levels)" for name in record["columns"]]
    parts += [
        f"{name!r} has point mass(es) at {', '.join(f'{a:g}' for a in atoms)}"
        for name, atoms in record["atoms"].items()
    ]
    how = "auto" if record["requested"] == "auto" else "as given"
    pooled = (
        f", levels under {record['pooled_below']} rows pooled" if record["pooled_below"] else ""
    )
    return (
        f"discrete ({how}): {'; '.join(parts)}; chain rule over {record['cells']} cells"
        f"{pooled}, {record['correction']} correction"
    )
