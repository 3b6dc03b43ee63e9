"""kit.archive.tree: reading inside an incident never follows a link or opens a special file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.archive import list_inside, read_inside, walk
from kit.archive.tree import lstat_inside, safe_relative
from kit.errors import ArchiveError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "INC"
    (root / "reports/run").mkdir(parents=True)
    (root / "reports/run/a.json").write_text("{}")
    (root / "reports/run/passwd").symlink_to("/etc/passwd")
    (root / "etc").symlink_to("/etc")
    os.mkfifo(root / "reports/run/pipe")
    return root


def test_reading_refuses_links_on_the_way_and_at_the_end(tree: Path) -> None:
    assert read_inside(tree, "reports/run/a.json") == b"{}"
    with pytest.raises(ArchiveError, match="reports/run/passwd is a symbolic link to '/etc/passwd'"):
        read_inside(tree, "reports/run/passwd")
    with pytest.raises(ArchiveError, match="etc is a symbolic link"):
        read_inside(tree, "etc/passwd")
    with pytest.raises(ArchiveError, match="FIFO"):
        read_inside(tree, "reports/run/pipe")  # refused without opening it: no hang
    with pytest.raises(FileNotFoundError):
        read_inside(tree, "reports/run/missing.json")
    for bad in ("../INC/reports/run/a.json", "/etc/passwd", "reports//run", "reports/./run/a.json"):
        assert not safe_relative(bad)
        with pytest.raises(ArchiveError, match="not a plain path"):
            read_inside(tree, bad)


def test_walking_names_links_and_special_files_without_entering_them(tree: Path) -> None:
    entries = {e.path: e for e in walk(tree, hash_files=True)}
    assert set(entries) == {"etc", "reports", "reports/run", "reports/run/a.json", "reports/run/passwd",
                            "reports/run/pipe"}
    assert entries["etc"].kind == "symlink" and entries["etc"].target == "/etc"
    assert entries["reports/run/pipe"].kind == "fifo" and entries["reports/run/pipe"].special
    assert entries["reports/run/a.json"].sha256 is not None and entries["reports/run/a.json"].size == 2
    assert [e.path for e in list_inside(tree, "reports/run")] == ["reports/run/a.json", "reports/run/passwd",
                                                                  "reports/run/pipe"]
    assert lstat_inside(tree, "nothing/here") is None


def test_a_deep_tree_is_walked_without_recursion(tmp_path: Path) -> None:
    deep = tmp_path / "INC"
    path = deep
    for _ in range(300):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "leaf.txt").write_text("x")
    files = [e for e in walk(deep) if e.kind == "file"]
    assert len(files) == 1 and files[0].path.count("/") == 300
