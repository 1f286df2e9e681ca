from perfkit.data.paths import fold_path


def test_orchestrator_run_ids_fold_to_one_pattern():
    a = fold_path(".runs/0001-task/cli/2026-11-29T01-02-03-123Z-ab12cd34/manifest.json")
    b = fold_path(".runs/0001-task/cli/2026-11-29T01-05-44-901Z-77ee0011/manifest.json")
    assert a == b == ".runs/0001-task/cli/<run>/manifest.json"


def test_timestamps_temp_dirs_and_uuids_fold():
    assert fold_path("/tmp/tmpk2j3_x/out/1732842123.json") == "/tmp/<tmp>/out/<ts>.json"
    assert fold_path("out/20261129/x.log") == "out/<ts>/x.log"
    assert fold_path("a/123e4567-e89b-12d3-a456-426614174000/b") == "a/<run>/b"
    assert fold_path("state.ab12cd34.tmp") == "state.<tmp>.tmp"
    assert fold_path("win\\dir\\file.txt") == "win/dir/file.txt"


def test_stable_names_and_counters_are_kept():
    for path in ("out/history.json", "attempt-0012.log", "/abs/path/x", "v1.2.3/a"):
        assert fold_path(path) == path.replace("\\", "/")


def test_a_numbered_suffix_after_tmp_is_folded():
    a = fold_path(".runs/t/cli/2026-11-29T01-02-03-123Z-ab12cd34/manifest.json.tmp-4312-17")
    assert a == ".runs/t/cli/<run>/manifest.json.tmp-<tmp>"
    assert fold_path("out/notes.tmp") == "out/notes.tmp"  # nothing variable after it
    assert fold_path("out/x.tmp-final") == "out/x.tmp-final"
    assert fold_path("m.json.tmp-31339-1795918869477-1") == "m.json.tmp-<tmp>"  # epoch ms inside
