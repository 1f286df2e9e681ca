"""Where perfkit finds its checkout's files: one place for every path derived from the package.

``REPO_ROOT`` is the checkout when perfkit runs from one (``pip install -e``); the notebooks and the
demo's example workload live there, not in an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
EXAMPLES_DIR = REPO_ROOT / "examples"
TEMPLATES_DIR = PACKAGE_DIR / "present" / "templates"
