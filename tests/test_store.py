"""The page's bounded output store: folders per result, the oldest pruned beyond the bound."""

from __future__ import annotations

import os

import pytest

from direct2v.services.store import OutputStore


def test_each_result_gets_a_fresh_folder_and_the_oldest_go(tmp_path):
    removed: list[set[str]] = []
    store = OutputStore(tmp_path, keep={"render": 3}, on_remove=removed.append)
    made = []
    for i in range(5):
        d = store.new_dir("render")
        (d / "frame.png").write_bytes(b"x" * (i + 1))
        made.append(d)
    left = sorted(p.name for p in (tmp_path / "render").iterdir())
    # new_dir prunes before the caller writes, so the newest `keep` folders remain.
    assert left == sorted(p.name for p in made[-3:])
    assert removed == [{os.path.abspath(made[0] / "frame.png")}, {os.path.abspath(made[1] / "frame.png")}]
    assert store.usage() == (3, 3 + 4 + 5)


def test_kinds_are_bounded_separately_and_unknown_kinds_refused(tmp_path):
    store = OutputStore(tmp_path, keep={"render": 1, "thumb": 2})
    for _ in range(3):
        store.new_dir("render")
        store.new_dir("thumb")
    assert len(list((tmp_path / "render").iterdir())) == 1
    assert len(list((tmp_path / "thumb").iterdir())) == 2
    with pytest.raises(ValueError, match="Unknown output kind 'video'"):
        store.new_dir("video")


def test_a_failing_listener_does_not_fail_the_render(tmp_path):
    def boom(paths):
        raise RuntimeError("listener broke")

    store = OutputStore(tmp_path, keep={"render": 1}, on_remove=boom)
    first = store.new_dir("render")
    (first / "a").write_text("a")
    second = store.new_dir("render")
    assert second.exists() and not first.exists()
