"""Modules a library imports for features the audit never runs, loaded on first use instead of at import.

Great Expectations imports every core expectation when it starts, and its KL-divergence expectation imports
scipy.stats and altair at module level for its statistics and its chart: 1.0-1.1 s of each audit's 4 s start on
the golden fixtures, for code no suite of this audit runs. `defer_imports` puts a stand-in for each such module
in sys.modules; the first read of any attribute of it imports the real module, which from then on answers for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

_LOADING = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module not imported yet; reading any attribute imports it."""

    def __getattr__(self, attribute: str) -> object:  # only called for what the stand-in itself lacks
        return getattr(self._real_module(), attribute)

    def _real_module(self) -> types.ModuleType:
        with _LOADING:
            real = self.__dict__.get("_real")
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]  # so that the import below runs the module's code
                real = importlib.import_module(self.__name__)
                self.__dict__["_real"] = real
            return real


def defer_imports(*names: str) -> None:
    """Stand-ins for the modules `names` that are neither imported yet nor missing."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports the parent package, as an import of `name` would
        if spec is None:
            continue
        stand_in = DeferredModule(name)
        stand_in.__spec__ = spec  # the import system reads only this before using a module it finds loaded
        sys.modules[name] = stand_in
