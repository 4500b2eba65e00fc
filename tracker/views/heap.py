"""The collection Streamlit runs after every script run, kept to the objects that can become garbage.

Streamlit ends every script run with `gc.collect(2)` (the hidden option runner.postScriptGC), holding the
interpreter lock, and the run's last messages, "script done" among them, wait for it. A full collection
walks every object the collector tracks, and after a visit of each page about 230,000 of them are the
modules, functions and classes the dashboard has imported, which never become garbage. `gc.freeze()`
moves the objects alive now into a permanent generation that collections skip. It is done again whenever
a run has imported modules (a page's first visit), so every freeze covers the code loaded so far and a
server freezes a handful of times in its life. Objects of sessions alive at a freeze are still freed when
their last reference goes; only a reference cycle among them stays until the process ends.
Measured: docs/performance.md, "Every page in the browser".
"""

from __future__ import annotations

import gc
import sys

_modules_frozen = 0  # len(sys.modules) at the last freeze


def freeze_loaded_code() -> None:
    """Leave the imported code out of every later collection (once per growth of sys.modules)."""
    global _modules_frozen
    if len(sys.modules) > _modules_frozen:
        _modules_frozen = len(sys.modules)
        gc.freeze()
