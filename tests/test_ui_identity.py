"""The page's "Keep this identity" box (issue 23): the picture reaches every frame through the
server's IP-Adapter, outputs and saved projects record it, a public server's project carries it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from direct2v.render.ip_adapter import ensure_ip_adapter, record_pictures
from direct2v.services import runtime as rt
from direct2v.services.policy import ServerPolicy
from direct2v.settings import Project, RenderSettings
from direct2v.ui import controls, identity, project
from direct2v.ui import render as render_tab

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CORGI = "A corgi is running, and another corgi joins later"
FIELDS = dict(style="", camera="", backend="offline", llm_model="", base_url="")
TABLE = [["a corgi sits", ""], ["a corgi runs", ""]]


@pytest.fixture(autouse=True)
def tiny_with_adapter():
    rt.configure("tiny", preview_every=1, ip_adapter="tiny")
    yield
    if rt.RUNTIME.models.loaded:
        ensure_ip_adapter(rt.RUNTIME.models.get(), None)  # the loader keeps this pipeline for other tests
    rt.configure("tiny")


def values(**changes):
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST, seed=3)
    v.update(changes)
    return v


def picture(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((40, 56, 3)) * 255).astype(np.uint8)


def render(**kw):
    gallery, video, downloads, _, status = list(render_tab.render_video(TABLE, 2, 4, CORGI, **FIELDS, **kw))[-1]
    assert status.startswith("✓ Done"), status
    return video, np.stack([np.asarray(Image.open(g[0])) for g in gallery])


def test_the_picture_changes_the_frames_and_the_outputs_record_it():
    face = picture()
    video, with_face = render(identity_image=face, **values(ip_adapter_scale=0.8))
    made = Project.load(video)
    assert made.ip_adapter == "tiny" and made.settings.ip_adapter_scale == 0.8
    (ref,) = made.ip_images
    file = Path(ref["path"])
    assert ref["frame"] == 0 and ref["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert "png_base64" not in ref  # a private server: the file is the owner's own
    assert np.array_equal(np.asarray(record_pictures(made.ip_images)[0]), face)
    _, plain = render(**values(ip_adapter_scale=0.8))
    assert not np.array_equal(with_face, plain)
    _, zero = render(identity_image=face, **values(ip_adapter_scale=0.0))
    assert np.array_equal(zero, plain)  # strength 0 is no picture


def test_a_server_without_an_adapter_refuses_the_picture_and_says_so():
    rt.configure("tiny")
    assert "no IP-Adapter" in identity.identity_note()
    with pytest.raises(gr.Error, match="This server has no IP-Adapter"):
        render(identity_image=picture(), **values())


def test_saved_project_records_the_picture_and_a_public_one_carries_it(monkeypatch):
    face = picture(1)
    path = project.save_project(CORGI, TABLE, 4, identity_image=face, **FIELDS, **values())
    (ref,) = json.loads(Path(path).read_text())["ip_images"]
    assert Path(ref["path"]).name == "a-corgi-is-running-and-another.identity.png" and "png_base64" not in ref
    monkeypatch.setattr(rt.RUNTIME, "policy", ServerPolicy(public=True))
    public = Path(project.save_project(CORGI, TABLE, 4, identity_image=face, **FIELDS, **values()))
    (ref,) = Project.load(public).ip_images
    assert public.suffix == ".zip" and ref["path"] == "a-corgi-is-running-and-another.identity.png"  # no server path
    (public.parent / ref["path"]).unlink()  # another machine: only the project travels
    back, notes, _ = project.load_identity_picture(str(public), "")
    assert np.array_equal(back, face) and notes.startswith("ℹ️ The project's identity picture")


def test_page_has_the_box_and_sends_it_to_render_and_save():
    from direct2v.ui.layout import build_ui

    cfg = build_ui().get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in cfg["components"]}
    slider = next(c for c in cfg["components"] if c.get("props", {}).get("elem_id") == "ip-scale")
    assert slider["props"]["value"] == 0.5
    for api in ("render", "save_project"):
        dep = next(d for d in cfg["dependencies"] if d.get("api_name") == api)
        assert ids["identity-image"] in dep["inputs"] and ids["ip-scale"] in dep["inputs"]


def test_compare_tab_scores_identity_with_the_picture():
    from direct2v.ui import compare as compare_tab

    rt.configure("tiny", preview_every=1, ip_adapter="tiny", clip_model="tiny")
    outs = list(compare_tab.compare_methods(TABLE, 2, 4, ["first"], identity_image=picture(), **values()))
    status, _, table_md, _ = outs[-1]
    assert status.startswith("✓"), status
    assert "| Identity |" in table_md
