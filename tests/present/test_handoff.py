"""perfkit report computes once: the hand-off to the kernel, and the deferred IRI grammar."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perfkit import _paths
from perfkit.present import _deferred_imports, compare_view, handoff

DEMO = _paths.REPO_ROOT / "data" / "demo-fix"


class _Computed(Exception):
    """Raised by a stand-in for perfkit.compare: the builder computed instead of taking."""


def test_the_builder_takes_what_the_report_built_for_exactly_its_arguments(tmp_path, monkeypatch):
    targets = ["wall_s", "manifest_writes"]
    # a marked report: if the builder returns it, it did not compute anything itself
    marked = compare_view.ComparisonReport(result=None, baseline_data=None, candidate_data=None,
                                           sources=("handed over", "handed over"))
    key = compare_view.comparison_arguments(DEMO, metrics=targets, resamples=200)
    prepared = tmp_path / handoff.give(tmp_path, "comparison", key, marked)

    def computed(*args, **kwargs):
        raise _Computed

    monkeypatch.setattr(compare_view, "compare", computed)
    # the notebook passes every parameter explicitly (lists, not tuples): the same arguments
    taken = compare_view.comparison(str(DEMO), None, baseline=None, metrics=list(targets),
                                    target=[0.1, 0.2], resamples=200, prepared=prepared)
    assert taken.sources == ("handed over", "handed over")
    # any other argument: computed afresh, never the handed-over report
    for other in ({"resamples": 400}, {"seed": 1}, {"metrics": ["wall_s"]}, {"confidence": 0.9},
                  {"title": "x"}, {"guardrails": {"max_rss_kib": 0.1}}):
        with pytest.raises(_Computed):
            compare_view.comparison(DEMO, **{"resamples": 200, "metrics": targets, **other},
                                    prepared=prepared)
    handoff.withdraw(tmp_path)
    assert not prepared.exists()
    with pytest.raises(_Computed):
        compare_view.comparison(DEMO, resamples=200, metrics=targets, prepared=prepared)


def test_a_damaged_or_foreign_handoff_file_is_ignored(tmp_path):
    bad = tmp_path / "x.pickle"
    bad.write_bytes(b"not a pickle")
    assert handoff.take(bad, "comparison", {}) is None
    assert handoff.take("", "comparison", {}) is None
    name = handoff.give(tmp_path, "hotspots", {"source": "a"}, object())
    assert handoff.take(tmp_path / name, "comparison", {"source": "a"}) is None


def test_a_deferred_module_loads_on_first_use_and_behaves_as_itself(tmp_path, monkeypatch):
    (tmp_path / "slowmod").mkdir()
    (tmp_path / "slowmod" / "__init__.py").write_text(
        "import sys\nLOADS = sys.modules.setdefault('slowmod_loads', [])\nLOADS.append(1)\n"
        "def check(term, value):\n    return term == 'iri' and ':' in value\nOTHER = 42\n")
    (tmp_path / "slowmod" / "part.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("slowmod", "slowmod.part", "slowmod_loads"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    loads = sys.modules.setdefault("slowmod_loads", [])
    assert _deferred_imports.defer("slowmod", ["check"])
    assert _deferred_imports.defer("slowmod", ["check"])  # twice: still the one stand-in
    from slowmod import check  # what jsonschema does at import: nothing is loaded yet
    import slowmod
    assert not hasattr(slowmod, "__wrapped__") and loads == []
    assert check("iri", "http://x") is True and check("iri", "x") is False
    assert loads == [1] and sys.modules["slowmod"].OTHER == 42
    assert not isinstance(sys.modules["slowmod"], _deferred_imports._Deferred)
    assert check("iri", "a:b") and loads == [1]  # loaded once
    # already imported, or not installed: nothing is changed
    assert not _deferred_imports.defer("slowmod", ["check"])
    assert not _deferred_imports.defer("no_such_module_perfkit", ["f"])
    assert "no_such_module_perfkit" not in sys.modules


def test_jsonschema_imports_without_building_the_iri_grammar():
    # a fresh interpreter with the stand-in alone (no pandas: fast), then jsonschema
    module = _paths.REPO_ROOT / "perfkit" / "present" / "_deferred_imports.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('deferred', {str(module)!r})\n"
        "deferred = importlib.util.module_from_spec(spec); spec.loader.exec_module(deferred)\n"
        "print(deferred.defer_iri_grammar())\n"
        "import jsonschema, jsonschema._format as f\n"
        "print('lark' in sys.modules, 'iri' in jsonschema.FormatChecker.checkers,"
        " f._rfc3987_is_valid_syntax.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if done.stdout.split()[0] == "False":
        pytest.skip("rfc3987_syntax is not installed here: nothing to defer")
    # jsonschema still registers the iri checker, bound to the stand-in's delegate
    assert done.stdout.split() == ["True", "False", "True", "is_valid_syntax"]


def test_present_installs_the_stand_in_before_jsonschema_is_imported():
    source = (_paths.REPO_ROOT / "perfkit" / "present" / "__init__.py").read_text()
    assert "_defer_iri_grammar()" in source


def test_the_key_and_the_builder_share_every_default():
    # the hand-off key repeats the builder's signature: a default changed on one side only (as the
    # statistic once was) makes every report compute twice, silently
    import inspect

    key = inspect.signature(compare_view.comparison_arguments).parameters
    built = inspect.signature(compare_view.comparison).parameters
    assert set(key) == set(built) - {"prepared"}
    assert {n: p.default for n, p in key.items()} == {n: built[n].default for n in key}
