"""Import a heavy dependency on first use, so that commands which never draw do not pay for it.

altair pulls in jsonschema and its format checkers (about 1.5–4 s here, most of it a grammar that
``rfc3987_syntax`` compiles at import), which ``perfkit measure --help`` or a one-line usage error
should not wait for. :func:`lazy_module` returns the module object at once and runs its code when an
attribute is first read (the standard library's :class:`importlib.util.LazyLoader`).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module *name*, executed on first attribute access (at once if it is already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
