"""Job queue latency under the name issue 13 gives it: `python bench/queue.py --json`.

Runs bench/job_queue.py (defer-to-start p50/p95 and jobs/s through a real Procrastinate
worker; goal p95 < 50 ms); every argument is passed through.

This file sits in bench/, which Python puts first on sys.path for every bench script, so
`import queue` there (concurrent.futures, logging.handlers, asyncio all do) finds this file
instead of the standard library's module. When imported that way it therefore replaces
itself with the real `queue` before anything can use it, and when run as a script it takes
bench/ off sys.path before importing anything that could import `queue`.
"""

import os
import sys

_HERE = os.path.dirname(os.path.realpath(__file__))


def _others(path: list[str]) -> list[str]:
    """sys.path without this directory ('' is the current directory)."""
    return [p for p in path if os.path.realpath(p or os.curdir) != _HERE]


if __name__ != "__main__":
    # Imported as `queue` (shadowing): load the standard library's module and stand aside.
    # The import system returns whatever sys.modules holds under our name once this ends.
    import importlib

    _saved = sys.path[:]
    sys.path[:] = _others(_saved)
    del sys.modules[__name__]
    try:
        sys.modules[__name__] = importlib.import_module(__name__)
    finally:
        sys.path[:] = _saved
else:
    sys.path[:] = _others(sys.path)
    _shadow = sys.modules.get("queue")
    if _shadow is not None and os.path.dirname(os.path.realpath(_shadow.__file__ or "")) == _HERE:
        del sys.modules["queue"]
    import runpy

    runpy.run_path(os.path.join(_HERE, "job_queue.py"), run_name="__main__")
