"""Presenting: what a person reads — terminal lines, charts, notebooks, HTML and markdown.

Owns the charts (:mod:`.charts`, altair in, nothing saved), the notebook-facing views of a
comparison (:mod:`.compare_view`) and of hotspots (:mod:`.hotspots_view`), the terminal summary of
a collection (:mod:`.summary`), escaping and tables (:mod:`.markup`), the papermill runner
(:mod:`.runner`), the offline HTML export (:mod:`.html_export`) and ``perfkit report`` itself
(:mod:`.report`).

May import: :mod:`perfkit.analysis`, :mod:`perfkit.data`, :mod:`perfkit.errors`,
:mod:`perfkit.fmt`. Never :mod:`perfkit.collect` or :mod:`perfkit.cli`.
"""

from perfkit.present._deferred_imports import defer_iri_grammar as _defer_iri_grammar

# before altair/nbformat/nbconvert import jsonschema: seconds of start-up saved, behaviour kept
_defer_iri_grammar()
