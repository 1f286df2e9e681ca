"""perfkit.collect.hostinfo: the metadata record is best effort and complete enough to compare hosts."""

from __future__ import annotations

import platform
import shutil
import subprocess

import pytest

from perfkit import __version__
from perfkit.collect import hostinfo


def test_collect_host_fields(tmp_path):
    info = hostinfo.collect(tmp_path)
    assert info["kernel"] == platform.release()
    assert info["python"] == platform.python_version()
    assert info["perfkit_version"] == __version__
    assert info["cpu_count"] >= 1
    assert info["cwd"] == str(tmp_path.resolve())
    # tmp_path is not inside a git repository
    assert info["git_commit"] is None
    if shutil.which("node"):
        assert info["node"].startswith("v")
    else:
        assert info["node"] is None


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_commit_of_the_working_directory(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f").write_text("1")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    info = hostinfo.git_info(tmp_path)
    assert len(info["git_commit"]) == 40 and info["git_dirty"] is False
    (tmp_path / "f").write_text("2")
    assert hostinfo.git_info(tmp_path)["git_dirty"] is True


def test_missing_tools_give_none(monkeypatch, tmp_path):
    monkeypatch.setattr(hostinfo.shutil, "which", lambda name: None)
    info = hostinfo.collect(tmp_path)
    assert info["node"] is None and info["git_commit"] is None and info["git_dirty"] is None
