"""Pictures per row of the frame table (issue 23): a row's picture holds from that row on, moves
with its row through the row tools and Undo, reaches the render as spans, and comes back with
a loaded project (or the notes say it must be added again)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from direct2v import cli
from direct2v.services import runtime as rt
from direct2v.services.policy import ServerPolicy
from direct2v.services.row_pictures import NO_PICTURE, MAX_SIDE, RowPictures, fit_reference, frame_references
from direct2v.settings import Project, RenderSettings
from direct2v.ui import controls, edits, project, project_pictures
from direct2v.ui import render as render_tab
from direct2v.ui import row_pictures as rows
from direct2v.ui import table as table_tab

from conftest import FAST
from test_ui_identity import tiny_with_adapter  # noqa: F401  (autouse: the tiny model and adapter)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CORGI = "A corgi is running, and another corgi joins later"
FIELDS = dict(style="", camera="", backend="offline", llm_model="", base_url="")
PROMPTS = ["a corgi sits", "a corgi stands", "a corgi runs", "a corgi jumps"]


_sessions = iter(range(10**6))


@pytest.fixture
def req():
    """A browser session of its own for each test."""
    return SimpleNamespace(session_hash=f"row-pictures-{next(_sessions)}")


def picture(seed: int = 0, size=(40, 56)) -> np.ndarray:
    return (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8)


def table_of(prompts):
    return [[p, ""] for p in prompts]


def keys(prompts, req):
    return edits.table_now(req.session_hash, prompts).row_pictures()


def test_a_rows_picture_holds_from_its_row_and_moves_with_it(req):
    table = table_of(PROMPTS)
    strip, notes = rows.set_row_picture(picture(1), 3, table, req)
    assert [caption for _, caption in strip["value"]] == ["Rows 3–4"] and strip["visible"]
    assert "Row 3 has its own picture now; it holds for rows 3–4." in notes
    key = keys(PROMPTS, req)[2]
    assert keys(PROMPTS, req) == (None, None, key, None)
    # Rows before it keep the video's picture, the rest get the row's.
    refs = rows.references_for(PROMPTS, picture(9), req)
    assert sorted(refs) == [0, 2] and np.array_equal(refs[0], picture(9)) and np.array_equal(refs[2], picture(1))
    shown, line = rows.selected_row_picture(4, table, req)
    assert shown is None and line == "Row 4 gets row 3's picture (rows 3–4)."

    table, _, _, _ = table_tab.add_row(table, 1, req)  # a new row 2: the picture is on row 4 now
    prompts = table_tab.table_prompts(table)
    assert keys(prompts, req) == (None, None, None, key, None)
    table, _, _ = table_tab.move_row_up(table, 4, req)
    prompts = table_tab.table_prompts(table)
    assert keys(prompts, req) == (None, None, key, None, None)
    table, _, _, _ = table_tab.delete_row(table, 3, req)  # the picture goes with its row ...
    assert rows.references_for(table_tab.table_prompts(table), None, req) is None
    table, _, _, _ = table_tab.undo(req)  # ... and comes back with it
    assert keys(table_tab.table_prompts(table), req) == (None, None, key, None, None)
    assert "Removed row 3's picture" in rows.remove_row_picture(3, table, req)[1]
    table, _, _, _ = table_tab.undo(req)  # removing it was a step of the history too
    assert keys(table_tab.table_prompts(table), req)[2] == key


def test_none_from_a_row_and_the_refusals(req):
    table = table_of(PROMPTS)
    rows.set_row_picture(picture(1), 1, table, req)
    strip, notes = rows.no_picture_from_row(3, table, req)
    assert [c for _, c in strip["value"]] == ["Rows 1–2", "Rows 3–4: no picture"]
    refs = rows.references_for(PROMPTS, None, req)
    assert sorted(refs) == [0, 2] and refs[2] is None
    with pytest.raises(gr.Error, match="Row 2 has no picture of its own; it gets row 1's picture"):
        rows.remove_row_picture(2, table, req)
    with pytest.raises(gr.Error, match="Row 9 does not exist"):
        rows.set_row_picture(picture(2), 9, table, req)
    rt.configure("tiny")  # no adapter on this server
    with pytest.raises(gr.Error, match="This server has no IP-Adapter"):
        rows.set_row_picture(picture(2), 2, table, req)


def test_the_store_is_bounded_and_a_dropped_picture_is_named():
    big = fit_reference(Image.fromarray(picture(0, size=(3000, 1500))))
    assert big.shape == (MAX_SIDE, MAX_SIDE // 2, 3) and not big.flags.writeable
    assert rows._thumbnail(big).shape == (192, 96, 3)  # the strip's tile, redrawn on every table change
    store = RowPictures(max_per_session=2, budget_bytes=3 * big.nbytes)
    a, b, c = (store.add("s", fit_reference(Image.fromarray(picture(k)))) for k in range(3))
    assert store.get("s", a) is None and store.get("s", c) is not None  # two per session, the oldest goes
    for k in range(4):
        store.add(f"other-{k}", big)
    assert store.get("s", b) is None and store.get("other-0", store.add("x", big)) is None  # the byte budget
    with pytest.raises(KeyError) as e:
        frame_references((None, "gone", NO_PICTURE), lambda key: None)
    assert e.value.args == (1,)


def render(req, identity_image=None, **changes):
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST, seed=3, ip_adapter_scale=0.8, value_mapping="none", **changes)
    outs = list(render_tab.render_video(table_of(PROMPTS[:2]), 2, 4, CORGI, request=req, identity_image=identity_image,
                                        **FIELDS, **v))
    gallery, video, _, _, status = outs[-1]
    assert status.startswith("✓ Done"), status
    render.started = next(o[4] for o in outs if o[4].startswith("Rendering"))
    return video, np.stack([np.asarray(Image.open(g[0])) for g in gallery])


def test_render_shows_row_pictures_from_their_frame_and_records_them(req):
    _, plain = render(req)
    rows.set_row_picture(picture(1), 2, table_of(PROMPTS[:2]), req)
    video, with_row = render(req)
    assert render.started.endswith("seed 3, identity: a picture from frame 2…")
    assert np.array_equal(with_row[0], plain[0]) and not np.array_equal(with_row[1], plain[1])
    (ref,) = Project.load(video).ip_images
    assert ref["frame"] == 1 and Path(ref["path"]).name == "identity-frame-2.png"
    assert ref["sha256"] == keys(PROMPTS[:2], req)[1]  # the picture's key is the hash of its PNG


def save(req, identity_image=None):
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST)
    return project.save_project(CORGI, table_of(PROMPTS), 4, identity_image=identity_image, request=req, **FIELDS, **v)


def test_saved_project_brings_every_picture_back_and_the_cli_renders_with_them(req, tmp_path):
    rows.set_row_picture(picture(1), 3, table_of(PROMPTS), req)
    path = save(req, identity_image=picture(9))
    records = json.loads(Path(path).read_text())["ip_images"]
    assert [r["frame"] for r in records] == [0, 2]
    other = SimpleNamespace(session_hash=req.session_hash + "-elsewhere")
    values = project.load_project(path, other)
    assert "🖼 The pictures of row 3 are back" in values[2]
    assert [c for _, c in rows.gallery_items(edits.table_now(other.session_hash, PROMPTS), other.session_hash)] == ["Rows 3–4"]
    identity, notes, box = project.load_identity_picture(path, "n", other)
    assert np.array_equal(identity, picture(9)) and notes.startswith("ℹ️ The project's identity picture") and box["open"]
    # The command line renders the saved project with the same pictures.
    out = tmp_path / "v.zip"
    assert cli.main(["render", path, "--steps", "4", "--t0", "1", "--t1", "2", "--quiet", "--out", str(out)]) == 0
    assert [r["sha256"] for r in Project.load(out).ip_images] == [r["sha256"] for r in records]


def test_public_zip_carries_the_pictures_and_a_hash_alone_asks_for_them_again(req, monkeypatch, tmp_path):
    monkeypatch.setattr(rt.RUNTIME, "policy", ServerPolicy(public=True, reason="test"))
    rows.set_row_picture(picture(1), 3, table_of(PROMPTS), req)
    bundle = Path(save(req, identity_image=picture(9)))
    with zipfile.ZipFile(bundle) as zf:
        records = json.loads(zf.read("project.direct2v.json"))["ip_images"]
        assert sorted(r["path"] for r in records) == sorted(n for n in zf.namelist() if n.endswith(".png"))
    assert str(bundle.parent) not in bundle.read_bytes().decode("latin-1")
    visitor = SimpleNamespace(session_hash=req.session_hash + "-visitor")
    assert "🖼 The pictures of row 3 are back" in project.load_project(str(bundle), visitor)[2]
    assert np.array_equal(project.load_identity_picture(str(bundle), "", visitor)[0], picture(9))
    lone = tmp_path / bundle.name  # the command line reads the pictures inside the zip too, the zip alone
    lone.write_bytes(bundle.read_bytes())
    out = tmp_path / "from-zip.zip"
    assert cli.main(["render", str(lone), "--steps", "4", "--t0", "1", "--t1", "2", "--quiet", "--out", str(out)]) == 0
    assert [r["sha256"] for r in Project.load(out).ip_images] == [r["sha256"] for r in records]
    assert all("png_base64" not in r for r in Project.load(out).ip_images)

    # The project alone (its JSON): only hashes. The notes say so; pictures added again are checked.
    alone = bundle.with_name("alone.direct2v.json")
    with zipfile.ZipFile(bundle) as zf:
        alone.write_bytes(zf.read("project.direct2v.json"))
    third = SimpleNamespace(session_hash=req.session_hash + "-third")
    notes = project.load_project(str(alone), third)[2]
    assert ("⚠ The project's picture for row 3 is not in the project, only its hash; select row 3 and add the picture "
            "again.") in notes
    assert [c for _, c in rows.gallery_items(edits.table_now(third.session_hash, PROMPTS), third.session_hash)] == [
        "Row 3: add the picture again"]
    with pytest.raises(gr.Error, match="Row 3's picture is not on the server"):
        rows.references_for(PROMPTS, None, third)
    assert "✓ It is the picture the project recorded." in rows.set_row_picture(picture(1), 3, table_of(PROMPTS), third)[1]
    identity, notes, _ = project.load_identity_picture(str(alone), "", third)
    assert identity is None and "identity picture is not in the project, only its hash" in notes
    assert project_pictures.identity_added_again(picture(8), "", third).startswith("⚠ This is not the identity picture")


def test_director_actions_keep_pictures_at_their_moment_of_the_video(req):
    from direct2v.ui import direct

    table = table_of(PROMPTS)
    rows.set_row_picture(picture(1), 2, table, req)
    key = keys(PROMPTS, req)[1]
    doubled, _, n, fps = direct.double_frame_rate(table, CORGI, 4, request=req, **FIELDS)
    assert (n, fps) == (8, 8)  # row 2 is rows 3 and 4 now: its picture starts at row 3
    assert keys(table_tab.table_prompts(doubled), req) == (None, None, key, None, None, None, None, None)
    fresh, _, _ = direct.direct_script(CORGI, 4, 4, table=doubled, request=req, **FIELDS)
    assert keys(table_tab.table_prompts(fresh), req) == (None, None, key, None)  # a new script: same row numbers


def test_page_wires_the_row_picture_box_the_strip_and_the_load():
    from direct2v.ui.layout import build_ui

    cfg = build_ui().get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in cfg["components"]}
    deps = cfg["dependencies"]

    def dep(inputs, outputs):
        return [d for d in deps if set(inputs) <= set(d["inputs"]) and set(outputs) <= set(d["outputs"])]

    given = dep([ids["row-image"], ids["row"], ids["frame-table"]], [ids["row-pictures"], ids["table-notes"]])
    assert [d["targets"][0][1] for d in given] == ["upload"]
    assert len(dep([ids["row"], ids["frame-table"]], [ids["row-image"], ids["row-picture-line"]])) >= 3
    assert any([tuple(t) for t in d["targets"]] == [(ids["frame-table"], "change")] for d in dep([ids["frame-table"]], [ids["row-pictures"]]))
    assert dep([ids["load-project"], ids["table-notes"]], [ids["identity-image"], ids["table-notes"], ids["identity-box"]])
    final = next(d for d in deps if d.get("api_name") not in ("render",) and ids["render-btn"] not in [t[0] for t in d["targets"]]
                 and ids["preview"] in d["outputs"] and ids["start-image"] in d["inputs"])
    assert ids["identity-image"] in final["inputs"]  # Render final keeps the identity too


def test_a_visitor_who_leaves_takes_their_pictures_along(req, monkeypatch):
    from direct2v.services.row_pictures import ROW_PICTURES
    from direct2v.ui import gpu_jobs

    monkeypatch.setattr(rt.RUNTIME, "policy", ServerPolicy(public=True, reason="test"))
    rows.set_row_picture(picture(1), 2, table_of(PROMPTS), req)
    key = keys(PROMPTS, req)[1]
    assert ROW_PICTURES.get(req.session_hash, key) is not None
    assert ROW_PICTURES.get("someone-else", key) is None  # per visitor
    gpu_jobs.visitor_left(req)
    assert ROW_PICTURES.get(req.session_hash, key) is None and keys(PROMPTS, req) == (None,) * 4


def test_a_restored_render_brings_back_its_pictures(req):
    from direct2v.ui import history as hist

    rows.set_row_picture(picture(1), 2, table_of(PROMPTS[:2]), req)
    render(req, identity_image=picture(9))
    history, _ = hist.add_to_history([], request=req)
    rows.remove_row_picture(2, table_of(PROMPTS[:2]), req)  # the page changes after the render ...
    values = hist.restore_from_history(history, SimpleNamespace(index=0), request=req)
    assert "🖼 The pictures of row 2 are back" in values[-1]  # ... and the restore brings it all back
    assert keys(PROMPTS[:2], req)[1] is not None
    identity, status, box = hist.restored_identity(values[-1], req)
    assert np.array_equal(identity, picture(9)) and status.startswith("ℹ️ The project's identity picture") and box["open"]
    assert hist.restored_identity("s", req) == ({"__type__": "update"}, "s", {"__type__": "update"})  # once
