"""pytest setup for strict nbval over the notebooks (``pytest notebooks/*.ipynb --nbval ...``).

nbval starts each notebook's kernel as a new process in this folder: it inherits the environment,
not pytest's ``pythonpath`` setting, so a plain checkout (perfkit not installed) must be put on
``PYTHONPATH`` for ``import perfkit`` to work in the kernel.
"""

import os
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if _ROOT not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([_ROOT, *_paths])
