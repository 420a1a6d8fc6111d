"""The zoo's manifest module: reads follow the file (a cell landing shows without a restart), writes are whole."""

from __future__ import annotations

import json
import os

import pytest

from albertviz.zoo.manifest_file import (
    MANIFEST_NAME,
    ZooError,
    manifest_mtime,
    read_manifest,
    updating_manifest,
)


def test_a_missing_or_broken_manifest_is_a_zoo_error(tmp_path):
    assert manifest_mtime(tmp_path) == 0.0
    with pytest.raises(ZooError, match="is missing"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text('{"models": {')
    with pytest.raises(ZooError, match="cannot be read"):
        read_manifest(tmp_path)


def test_reads_are_cached_until_the_file_changes(tmp_path):
    path = tmp_path / MANIFEST_NAME
    path.write_text(json.dumps({"models": {"none-full": {}}}))
    first = read_manifest(tmp_path)
    assert read_manifest(tmp_path) is first  # unchanged file: the cached dict
    path.write_text(json.dumps({"models": {"none-full": {}, "all-full": {}}}))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a new mtime even on a coarse clock
    assert set(read_manifest(tmp_path)["models"]) == {"none-full", "all-full"}
    assert manifest_mtime(tmp_path) > 0


def test_updates_write_sorted_entries_and_nothing_when_the_block_fails(tmp_path):
    with updating_manifest(tmp_path) as m:
        m.setdefault("models", {})["none-full"] = {"seed": 0}
        m["models"]["all-full"] = {"seed": 0}
        m.setdefault("seeds", {})["none-full"] = {"2": {}, "1": {}}
    written = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert list(written["models"]) == ["all-full", "none-full"] and list(written["seeds"]["none-full"]) == ["1", "2"]
    with pytest.raises(RuntimeError), updating_manifest(tmp_path) as m:
        m["models"].clear()
        raise RuntimeError("trainer crashed")
    assert json.loads((tmp_path / MANIFEST_NAME).read_text()) == written
    assert not list(tmp_path.glob("*.tmp"))
