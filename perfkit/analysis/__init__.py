"""Analysis: from tables to answers. Pure functions over DataFrames and arrays; no I/O of its own.

Owns the statistics (:mod:`.stats`: intervals, the resampling), the verdict against a target band
and guardrails (:mod:`.verdict`), warnings about the data (:mod:`.diagnostics`), where time and I/O
go (:mod:`.hotspots`), per-stage changes (:mod:`.stage_changes`) and the calibration simulations
(:mod:`.calibration`). Reliability tables, sequential decisions and change points over a history
are analysis modules too.

May import: :mod:`perfkit.data`, :mod:`perfkit.errors`, :mod:`perfkit.fmt`. Never
:mod:`perfkit.collect` or :mod:`perfkit.present`.
"""
