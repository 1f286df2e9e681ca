"""A third-party import that costs seconds at start-up and is almost never used, deferred.

altair, nbformat and nbconvert import ``jsonschema``; ``jsonschema._format`` imports
``rfc3987_syntax`` (when installed, as jupyter-events' ``jsonschema[format-nongpl]`` installs it),
whose import builds an Earley parser for RFC 3987 with lark: 1.3–3.6 s of CPU here, in the
``perfkit report`` process and again in its kernel, to check the ``iri`` string format that no
perfkit schema uses (python-jsonschema/jsonschema#1428 reports the same cost under papermill).

:func:`defer_iri_grammar` puts a stand-in for ``rfc3987_syntax`` into ``sys.modules`` before
jsonschema is imported. Its ``is_valid_syntax`` — the one name jsonschema takes from it — and any
other attribute import the real module on first use and delegate to it, so validation behaves
exactly as before; it only happens later, if ever. Nothing is done when the module is not
installed (jsonschema then falls back as it always does) or has been imported already.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in for a module until a name other than its deferred functions is read."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # the import system probes dunders (``from X import y`` reads ``__path__``);
            # answering them must not import the real module
            raise AttributeError(attr)
        return getattr(load_real(self.__name__), attr)


def load_real(name: str) -> types.ModuleType:
    """The real module ``name`` (imported now if only the stand-in is there)."""
    current = sys.modules.get(name)
    if current is not None and not isinstance(current, _Deferred):
        return current
    sys.modules.pop(name, None)
    try:
        return importlib.import_module(name)
    except BaseException:
        if current is not None:
            sys.modules[name] = current
        raise


def _delegate(name: str, function: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(load_real(name), function)(*args, **kwargs)

    call.__name__ = call.__qualname__ = function
    return call


def defer(name: str, functions: Sequence[str]) -> bool:
    """Put a stand-in for module ``name`` into ``sys.modules`` whose ``functions`` (and any other
    attribute) import the real module on first use. True if a stand-in is (now) in place; False
    when ``name`` is imported already or not installed (nothing is changed then)."""
    current = sys.modules.get(name)
    if isinstance(current, _Deferred):
        return True
    if name in sys.modules:  # imported already, or blocked on purpose (None)
        return False
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    stand_in = _Deferred(name, f"perfkit's deferred stand-in for {name} (see "
                         "perfkit.present._deferred_imports)")
    # what the import system reads of a loaded module, without loading it
    stand_in.__spec__ = spec
    stand_in.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    for function in functions:
        setattr(stand_in, function, _delegate(name, function))
    sys.modules[name] = stand_in
    return True


def defer_iri_grammar() -> bool:
    """Defer ``rfc3987_syntax`` (see the module docstring)."""
    return defer("rfc3987_syntax", ("is_valid_syntax",))
