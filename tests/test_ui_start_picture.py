"""The page's projects carry the start picture (issue 17): Save project and every render output
record it by path and SHA-256; loading puts it back into the start-image box, or says why not."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from direct2v.settings import Project, RenderSettings
from direct2v.ui import controls, project
from direct2v.ui import render as render_tab
from direct2v.services import runtime as rt

from conftest import FAST

CORGI = "A corgi is running, and another corgi joins later"
FIELDS = dict(style="", camera="", backend="offline", llm_model="", base_url="")


@pytest.fixture(autouse=True)
def tiny_model():
    rt.configure("tiny", preview_every=1)
    yield
    rt.configure("tiny")


@pytest.fixture
def warnings(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(project.gr, "Warning", lambda message, *a, **k: said.append(message))
    return said


def values(**changes):
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST)
    v.update(changes)
    return v


def picture(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((40, 56, 3)) * 255).astype(np.uint8)


def save(start_image) -> str:
    table = [["a corgi sits", ""], ["a corgi runs", ""]]
    return project.save_project(CORGI, table, 4, start_image=start_image, **FIELDS, **values())


def test_saved_project_records_the_picture_and_loading_puts_it_back(warnings):
    original = picture()
    path = save(original)
    ref = json.loads(Path(path).read_text(encoding="utf-8"))["start_image"]
    file = Path(ref["path"])
    assert file.is_absolute() and file.parent == Path(path).parent and file.name == "a-corgi-is-running-and-another.start.png"
    assert ref["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert project.load_project(path)[0] == CORGI  # the rest of the project loads as before
    restored, notes, box = project.load_start_picture(path, "table notes")
    assert np.array_equal(restored, original)  # PNG: the very pixels
    assert box == {"__type__": "update", "open": True}
    assert notes == (f"ℹ️ The project's start picture ({file.name}, 56x40) is back under Start from a picture.\n\n"
                     "table notes")
    assert warnings == []


def test_missing_or_changed_picture_is_said_and_the_box_emptied(warnings):
    path = save(picture())
    file = Path(Project.load(path).start_image["path"])
    Image.fromarray(picture(seed=1)).save(file)
    restored, notes, box = project.load_start_picture(path, "table notes")
    assert box == {"__type__": "update", "open": True}  # the place to upload it again, in view
    changed = (f"The project's start image {str(file)!r} has changed since the project recorded it; "
               "upload a picture under Start from a picture to use it anyway.")
    assert restored is None and notes == f"⚠ {changed}\n\ntable notes"
    file.unlink()
    restored, notes, _ = project.load_start_picture(path, "table notes")
    missing = (f"The project's start image {str(file)!r} is missing; put it back or upload a picture under "
               "Start from a picture.")
    assert restored is None and notes == f"⚠ {missing}\n\ntable notes"
    assert warnings == [changed, missing]


def test_project_without_a_picture_empties_the_box(tmp_path, warnings):
    path = save(None)
    assert "start_image" not in json.loads(Path(path).read_text(encoding="utf-8"))
    assert project.load_start_picture(path, "table notes") == (None, "table notes", {"__type__": "update"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert project.load_start_picture(str(bad), "n") == (None, "n", {"__type__": "update"})  # load_project said why
    assert warnings == []


def test_render_outputs_carry_the_picture_back_to_the_box():
    original = picture(seed=2)
    table = [["a corgi sits", ""], ["a corgi runs", ""]]
    outs = list(render_tab.render_video(table, 2, 4, CORGI, start_image=original, **FIELDS, **values(seed=3)))
    gallery, video, downloads, _, status = outs[-1]
    assert status.startswith("✓ Done")
    for output in (gallery[0][0], video):
        restored, _, _ = project.load_start_picture(output)
        assert np.array_equal(restored, original), output


def test_page_wires_the_picture_into_save_and_load():
    from direct2v.ui.layout import build_ui

    cfg = build_ui().get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in cfg["components"]}
    save_dep = next(d for d in cfg["dependencies"] if d.get("api_name") == "save_project")
    assert ids["start-image"] in save_dep["inputs"]
    restore = [d for d in cfg["dependencies"] if ids["load-project"] in d["inputs"] and ids["start-image"] in d["outputs"]]
    assert len(restore) == 1 and ids["table-notes"] in restore[0]["outputs"]
    assert ids["start-image-box"] in restore[0]["outputs"]
