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


@pytest.fixture
def public(monkeypatch):
    from direct2v.services.policy import ServerPolicy

    monkeypatch.setattr(rt.RUNTIME, "policy", ServerPolicy(public=True, reason="test"))


def test_public_save_carries_the_picture_inside_and_names_no_server_path(public, warnings):
    import zipfile

    original = picture(seed=4)
    bundle = Path(save(original))
    assert bundle.suffix == ".zip"
    with zipfile.ZipFile(bundle) as zf:
        ref = json.loads(zf.read("project.direct2v.json"))["start_image"]
        assert ref["path"] == "a-corgi-is-running-and-another.start.png" and ref["path"] in zf.namelist()
    assert str(bundle.parent) not in bundle.read_bytes().decode("latin-1")
    assert project.load_project(str(bundle))[0] == CORGI
    restored, notes, _ = project.load_start_picture(str(bundle), "n")
    assert np.array_equal(restored, original) and notes.startswith("ℹ️ The project's start picture")
    assert warnings == []


def test_public_render_outputs_record_no_server_path(public):
    table = [["a corgi sits", ""], ["a corgi runs", ""]]
    outs = list(render_tab.render_video(table, 2, 4, CORGI, start_image=picture(seed=5), **FIELDS, **values(seed=3)))
    gallery, video_path, _, _, status = outs[-1]
    assert status.startswith("✓ Done")
    for output in (gallery[0][0], video_path):
        ref = Project.load(output).start_image
        assert ref["path"] == "start.png" and len(ref["sha256"]) == 64


@pytest.mark.parametrize("probe", ["/etc/passwd", "/root/.ssh", "/no/such/file.png", "start.png"])
def test_public_project_paths_are_ignored_with_one_note(public, warnings, tmp_path, probe):
    """Whether the path exists, is a folder, or matches the hash: the same note, nothing read."""
    passwd = Path("/etc/passwd")
    digest = hashlib.sha256(passwd.read_bytes()).hexdigest() if probe == "/etc/passwd" else "0" * 64
    path = tmp_path / "probe.direct2v.json"
    Project(frames=["a", "b"], start_image={"path": probe, "sha256": digest}).save(path)
    restored, notes, _ = project.load_start_picture(str(path), "n")
    assert restored is None and notes == f"⚠ {project.PATH_IGNORED}\n\nn"
    assert warnings == [project.PATH_IGNORED]


def test_huge_start_picture_is_refused_from_its_header_and_decoded_once(tmp_path, monkeypatch):
    import gradio as gr
    from gradio.data_classes import FileData

    from direct2v.ui import start_image as image_tab

    big = tmp_path / "big.png"
    Image.new("L", (12000, 12000)).save(big)
    box = image_tab.decode_once(gr.Image(type="numpy", image_mode="RGB"))
    with pytest.raises(gr.Error, match="decompression bomb.*the limit is 16384 per side and 32 megapixels"):
        box.preprocess(FileData(path=str(big)))
    small = tmp_path / "small.png"
    Image.fromarray(picture()).save(small)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    first, second = box.preprocess(FileData(path=str(small))), box.preprocess(FileData(path=str(small)))
    assert first is second and np.array_equal(first, picture()) and not first.flags.writeable
    assert len(opened) == 1  # one decode for every handler that takes the picture
