"""Storing and reading: the tables that every other part of perfkit agrees on.

Owns the data contract (:mod:`.schema`: every column of ``runs`` and ``stages`` and its type), the
dataset folder with its journal (:mod:`.store`), readers of other tools' results
(:mod:`.importers`: hyperfine, pyperf), the orchestrator's run folders (:mod:`.orchestrator`), and
:mod:`.sources`, which opens any of them. A history of datasets across commits belongs here too.

May import: :mod:`perfkit.errors`, :mod:`perfkit.fmt` and itself. Nothing here knows how runs are
collected, judged or shown.
"""
