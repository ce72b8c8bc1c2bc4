"""Keeping the console's start fast (design rule 10: heavy libraries only when used)."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def numpy_hidden() -> Iterator[None]:
    """Import something without the numpy and pandas it would pick up when they are installed.

    sqlite-utils loads them only to accept numpy values, which sme-bot never stores; numpy
    (installed for matplotlib) alone adds a tenth of a second to start-up. Afterwards they
    import normally, for the charts.
    """
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None there makes an import fail at once
    try:
        yield
    finally:
        for name in hidden:
            del sys.modules[name]
