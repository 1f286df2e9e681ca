"""Collecting: running commands and measuring them through the kernel's own accounting.

Owns the spawner (:mod:`._spawner`, a stdlib-only helper process) and its client
(:mod:`.process`), the run order (:mod:`.schedule`), the collection loop (:mod:`.measure`), its
extension points (:mod:`.hooks`), the traced pass under strace (:mod:`.trace`), the orchestrator
run-folder watchers (:mod:`.watchers`) and the host record (:mod:`.hostinfo`). New per-run
recorders (output hashes, file sizes) are hooks here.

May import: :mod:`perfkit.data` (to write what it collects), :mod:`perfkit.errors`,
:mod:`perfkit.fmt`. Never :mod:`perfkit.analysis` or :mod:`perfkit.present`: a collection that
must look at a verdict (stop when decided) gets it as a callable.
"""
