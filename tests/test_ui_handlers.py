"""The page's handlers as plain functions: no server, no browser."""

from __future__ import annotations

import json
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from direct2v.settings import PAPER_PRESET, Project, RenderSettings, SettingsError
from direct2v.ui import compare as compare_tab
from direct2v.ui import controls
from direct2v.ui import direct
from direct2v.ui import project
from direct2v.ui import render as render_tab
from direct2v.ui import gpu_jobs
from direct2v.ui import models as chooser
from direct2v.ui import table as table_tab
from direct2v.services import runtime as rt

from conftest import FAST

CORGI = "A corgi is running, and another corgi joins later"
OFFLINE = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")


@pytest.fixture(autouse=True)
def tiny_model():
    rt.configure("tiny", preview_every=1)
    yield
    rt.configure("tiny")


def values(**changes):
    """The page's settings values (defaults, made fast), with changes."""
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST)
    v.update(changes)
    return v


def table_of(prompts):
    return [[p, ""] for p in prompts]


# ----------------------------------------------------------------------------- the table
def test_table_prompts_reads_every_shape_the_dataframe_sends():
    import pandas as pd

    assert table_tab.table_prompts(None) == []
    assert table_tab.table_prompts([["", ""]]) == []  # the empty Dataframe's placeholder row
    assert table_tab.table_prompts([["a", "3"], ["b", None]]) == ["a", "b"]
    assert table_tab.table_prompts({"headers": ["Frame prompt", "Tokens"], "data": [["x", ""], [None, ""]]}) == ["x", ""]
    assert table_tab.table_prompts(pd.DataFrame({"Frame prompt": ["p", "q"], "Tokens": ["", ""]})) == ["p", "q"]


def test_make_table_flags_rows_over_clips_77_tokens():
    long = "a very small fluffy corgi dog " * 20
    rows = table_tab.make_table(["a corgi", long])
    assert rows[0] == ["a corgi", "4"]  # <start> a corgi <end>
    assert rows[1][1].startswith(str(table_tab.token_counts([long])[0])) and "⚠" in rows[1][1]
    notes = table_tab.table_notes(["a corgi", long])
    assert "Frame 2 exceeds CLIP's 77 tokens" in notes


def test_add_delete_move_rows():
    t = table_of(["one", "two", "three"])
    rows, notes, n, row = table_tab.add_row(t, 2)  # an empty row to write, not a copy to flag as a repeat
    assert [r[0] for r in rows] == ["one", "two", "", "three"] and n == 4 and row == 3
    assert "Added an empty row 3 below row 2; write its prompt. **Undo** (Ctrl+Z) takes it back." in notes
    rows, notes, n, row = table_tab.delete_row(t, 1)
    assert [r[0] for r in rows] == ["two", "three"] and n == 2 and row == 1 and "Deleted row 1 (“one”)." in notes
    rows, notes, row = table_tab.move_row_up(t, 3)
    assert [r[0] for r in rows] == ["one", "three", "two"] and row == 2 and "Moved row 3 up to 2." in notes
    rows, notes, row = table_tab.move_row_down(t, 1)
    assert [r[0] for r in rows] == ["two", "one", "three"] and row == 2 and "Moved row 1 down to 2." in notes


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: table_tab.move_row_up(table_of(["a", "b"]), 1), "Row 1 is already the first row."),
        (lambda: table_tab.move_row_down(table_of(["a", "b"]), 2), "Row 2 is already the last row."),
        (lambda: table_tab.delete_row(table_of(["a", "b", "c"]), 7), "Row 7 does not exist; the table has rows 1 to 3."),
        (lambda: table_tab.delete_row(table_of(["a", "b"]), 1), "A video needs at least 2 frames"),
        (lambda: table_tab.delete_row([], 1), "The table is empty"),
        (lambda: table_tab.move_row_up(table_of(["a", "b"]), None), "Pick a row to move"),
    ],
)
def test_row_tools_explain_what_went_wrong(call, message):
    with pytest.raises(gr.Error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_select_row_is_one_based():
    assert table_tab.select_row(SimpleNamespace(index=[4, 0])) == 5


def test_refresh_table_recounts_tokens_and_follows_row_count():
    rows, notes, n = table_tab.refresh_table([["a corgi", "999"], ["", "1"], ["two dogs", "x"]],
                                             request=SimpleNamespace(session_hash="refresh"))
    assert [r[1] for r in rows] == ["4", "2", "4"]
    assert n == 3 and "Frame 2 is empty" in notes


# ----------------------------------------------------------------------------- directing
def test_direct_offline_writes_exactly_n_rows():
    rows, notes, n = direct.direct_script(CORGI, 6, 4, **OFFLINE)
    assert n == 6 and len(rows) == 6 and all(r[0].strip() for r in rows)
    assert "two corgis" in rows[-1][0].lower() or "second corgi" in " ".join(r[0] for r in rows).lower()
    assert notes.splitlines()[0] == "✍️ Written by the built-in writer (rule-based, no language model)."
    assert notes.splitlines()[-1].startswith("6 frames.")


@pytest.mark.parametrize(
    "prompt, frames, extra, message",
    [
        ("", 8, {}, "Type a prompt first"),
        ("   ", 8, {}, "Type a prompt first"),
        ("x" * 2500, 8, {}, "The prompt is 2500 characters long"),
        (CORGI, 1, {}, "The number of frames must be a whole number from 2 to 256"),
        (CORGI, 8, {"backend": "compatible"}, "Enter the server's base URL"),
    ],
)
def test_direct_rejects_bad_input_with_a_message(prompt, frames, extra, message):
    with pytest.raises(gr.Error, match=message):
        direct.direct_script(prompt, frames, 4, **{**OFFLINE, **extra})


def test_direct_without_a_key_names_the_problem_and_never_echoes_keys(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(gr.Error) as e:
        direct.direct_script(CORGI, 4, 4, **{**OFFLINE, "backend": "openai"})
    assert "key" in str(e.value).lower()
    secret = "sk-FAKE-not-a-key-01"
    # A server that does not exist: the error must be about the connection, without the key.
    with pytest.raises(gr.Error) as e:
        direct.direct_script(
            CORGI, 4, 4, **{**OFFLINE, "backend": "compatible", "base_url": "http://127.0.0.1:9/v1", "api_key": secret}
        )
    assert secret not in str(e.value) and str(e.value)


def test_double_frame_rate_doubles_rows_frames_and_fps():
    rows, _, _ = direct.direct_script(CORGI, 4, 4, **OFFLINE)
    rows2, notes, n, fps = direct.double_frame_rate(rows, CORGI, 4, **OFFLINE)
    assert len(rows2) == 8 and n == 8 and fps == 8
    with pytest.raises(gr.Error, match="empty"):
        direct.double_frame_rate(table_of(["a", ""]), CORGI, 4, **OFFLINE)


def test_redirect_row_replaces_only_that_row():
    rows, _, _ = direct.direct_script(CORGI, 6, 4, **OFFLINE)
    edited = [list(r) for r in rows]
    edited[1][0] = "A corgi in a red scarf  running on a grassy meadow, tongue out "  # odd spacing kept
    edited[3][0] = "my own frame four"
    out, notes = direct.redirect_row(edited, 3, CORGI, 4, **OFFLINE)  # the row box is 1-based
    before = table_tab.table_prompts(edited)
    after = table_tab.table_prompts(out)
    assert len(after) == 6
    assert after[:2] + after[3:] == before[:2] + before[3:]  # every other row byte for byte
    assert after[2] != before[2] and after[2].strip()
    assert "red scarf" in after[2]  # written from the edited row before it, not the old script
    assert out[2][1] == str(table_tab.token_counts([after[2]])[0]) and int(out[2][1]) <= table_tab.CLIP_TOKEN_LIMIT
    again, _ = direct.redirect_row(edited, 3, CORGI, 4, **OFFLINE)
    assert again == out  # the offline director is deterministic


def test_redirect_row_needs_no_prompt_but_a_row():
    table = table_of(["A fox asleep in the snow, soft light", "A fox waking in the snow", "A fox trotting in the snow, tail up"])
    out, _ = direct.redirect_row(table, 2, "", 4, **OFFLINE)
    prompts = table_tab.table_prompts(out)
    assert prompts[0] == table[0][0] and prompts[2] == table[2][0] and prompts[1] != table[1][0]
    with pytest.raises(gr.Error, match="Pick a row to re-direct"):
        direct.redirect_row(table, None, "", 4, **OFFLINE)
    with pytest.raises(gr.Error, match="Row 4 does not exist"):
        direct.redirect_row(table, 4, "", 4, **OFFLINE)
    with pytest.raises(gr.Error, match="empty"):
        direct.redirect_row(table_of(["", "", ""]), 2, "", 4, **OFFLINE)


def test_redirect_row_passes_the_table_and_options_to_the_director(monkeypatch):
    seen = {}

    class Recorder:
        def redirect_frame(self, frames, index, **kw):
            seen.update(frames=list(frames), index=index, **kw)
            return [*frames[:index], "  a brand new   row ", *frames[index + 1:]]  # the table, one row new

    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: Recorder())
    table = table_of(["one", "two", "three"])
    out, _ = direct.redirect_row(table, 3, f"  {CORGI} ", 6, **{**OFFLINE, "style": " anime ", "camera": "static"})
    assert table_tab.table_prompts(out) == ["one", "two", "a brand new row"]
    assert seen == dict(frames=["one", "two", "three"], index=2, user_prompt=CORGI, fps=6, camera="static", style="anime",
                       fresh=True)  # the button is an explicit re-direct: a new answer, not the cached one


def test_backend_changed_shows_only_the_fields_it_uses():
    model, url, key, _, _ = direct.backend_changed("offline")
    assert (model["visible"], url["visible"], key["visible"]) == (False, False, False)
    model, url, key, _, _ = direct.backend_changed("compatible")
    assert (model["visible"], url["visible"], key["visible"]) == (True, True, True)
    model, url, key, _, _ = direct.backend_changed("local")
    assert (model["visible"], url["visible"], key["visible"]) == (True, False, False)


def test_each_back_end_keeps_its_own_model_name():
    # The case: "llama3.1" typed for a compatible server must not follow to the local model.
    model, _, _, models, shown = direct.backend_changed("local", "llama3.1", {}, "compatible")
    assert model["value"] == "" and models == {"compatible": "llama3.1"} and shown == "local"
    model, _, _, models, shown = direct.backend_changed("compatible", " Qwen/Qwen3-4B ", models, "local")
    assert model["value"] == "llama3.1" and models == {"compatible": "llama3.1", "local": "Qwen/Qwen3-4B"}


# ----------------------------------------------------------------------------- settings
def test_settings_round_trip_through_the_page_values():
    s = RenderSettings(seed=123, rvm_period=7, dsf_quantile=0.3, attention_blocks="all", fps=6, negative_prompt="blur")
    back = controls.settings_from_values(dict(zip(controls.SETTING_NAMES, controls.settings_values(s))), fps=6)
    assert back == s.replace(attention_blocks="all")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"t0": 3, "t1": 3}, "t0 must be smaller than t1"),
        ({"width": 100}, "width must be a multiple of 8"),
        ({"t1": 6}, "t1 must be between 0 and 5"),
        ({"dsf_quantile": 1.5}, "DSF quantile p must be between 0.0 and 1.0"),
        ({"seed": None}, "seed is empty"),
    ],
)
def test_settings_errors_are_readable(changes, message):
    with pytest.raises(SettingsError, match=message):
        controls.settings_from_values(values(**changes)).validate()


def test_paper_preset_sets_its_fields_and_leaves_the_rest():
    out = dict(zip(controls.SETTING_NAMES, controls.apply_preset("paper")))
    for k, v in PAPER_PRESET.items():
        assert out[k] == v
    assert isinstance(out["width"], dict) and out["width"]["__type__"] == "update"


# ----------------------------------------------------------------------------- projects
def test_save_and_load_project_round_trip_without_the_key(tmp_path):
    rows, _, _ = direct.direct_script(CORGI, 4, 4, **OFFLINE)
    v = values(seed=42, dsf_quantile=0.25, negative_prompt="blurry")
    path = project.save_project(CORGI, rows, 4, style="watercolor", camera="static", backend="openai", llm_model="gpt-4o", base_url="", **v)
    text = open(path, encoding="utf-8").read()
    assert "api_key" not in text and "sk-" not in text
    data = json.loads(text)
    assert data["frames"] == [r[0] for r in rows] and data["settings"]["seed"] == 42
    loaded = project.load_project(path)
    prompt, table, _, n, fps, style, camera, backend, llm_model, base_url, *settings = loaded
    assert (prompt, n, fps, style, camera, backend, llm_model) == (CORGI, 4, 4, "watercolor", "static", "openai", "gpt-4o")
    assert [r[0] for r in table] == [r[0] for r in rows]
    assert dict(zip(controls.SETTING_NAMES, settings))["dsf_quantile"] == 0.25
    assert Project.load(path).settings.negative_prompt == "blurry"


def test_load_project_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(gr.Error, match="Cannot load bad.json: Not a valid project file"):
        project.load_project(str(bad))
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"format": "direct2v-project", "settings": {"t0": 40, "t1": 10}}))
    with pytest.raises(gr.Error, match="t0 must be smaller than t1"):
        project.load_project(str(odd))
    with pytest.raises(gr.Error, match="Choose a project file"):
        project.load_project(None)


# ----------------------------------------------------------------------------- rendering
def run(gen):
    return list(gen)


def test_render_streams_previews_then_frames_then_video(tmp_path):
    prompts = ["a red ball", "a red ball bouncing", "a red ball on the floor"]
    outs = run(render_tab.render_video(table_of(prompts), 3, 5, **values(seed=-1)))
    previews = [o[0] for o in outs[:-1] if isinstance(o[0], list)]
    assert len(previews) >= 5  # live previews every step, then the final frames one by one
    gallery, video, downloads, used_seed, status = outs[-1]
    assert len(gallery) == 3 and image(gallery[0][0]).shape == (64, 64, 3)
    assert [label for _, label in gallery] == ["Frame 1", "Frame 2", "Frame 3"]
    # Every preview uses fresh file names (Gradio rewrites hashed numpy images in place,
    # which the browser can catch half-written); a final frame's file is written once.
    steps = [o[0] for o in outs if isinstance(o[0], list) and "step" in o[-1]]
    step_paths = [path for update in steps for path, _ in update]
    assert len(steps) >= 3 and len(step_paths) == len(set(step_paths))
    assert not {path for path, _ in gallery} & set(step_paths)
    assert video.endswith(".mp4") and sorted(p.rsplit(".", 1)[1] for p in downloads) == ["gif", "mp4", "zip"]
    assert isinstance(used_seed, int) and used_seed >= 0  # -1 drew a seed, shown back
    assert f"seed {used_seed}" in status and "5 fps" in status
    import imageio.v2 as imageio

    reader = imageio.get_reader(video, format="FFMPEG")
    assert reader.count_frames() == 3 and reader.get_meta_data()["fps"] == pytest.approx(5)
    reader.close()


def test_every_output_of_a_render_reproduces_it():
    """The gallery's PNGs, the mp4, gif and zip each carry the project: prompt, table,
    director options, every setting with the seed used, and the model."""
    from direct2v.settings import DirectorOptions

    prompts = ["a red ball", "a red ball bouncing"]
    v = values(seed=-1, dsf_quantile=0.3)
    fields = dict(style="ink", camera="static", backend="offline", llm_model="", base_url="")
    outs = run(render_tab.render_video(table_of(prompts), 2, 6, CORGI, **fields, **v))
    gallery, video, downloads, used, _ = outs[-1]
    want = Project(
        user_prompt=CORGI, frames=prompts, settings=controls.settings_from_values(v, 6).replace(seed=used),
        director=DirectorOptions(backend="offline", style="ink", camera="static"), model="tiny",
    )
    for path in [gallery[0][0], gallery[1][0], *downloads]:
        assert Project.load(path).to_json() == want.to_json(), path
    # Loading the PNG on the page gives back the table and every setting.
    loaded = project.load_project(gallery[1][0])
    assert loaded[0] == CORGI and [r[0] for r in loaded[1]] == prompts and loaded[4] == 6
    assert dict(zip(controls.SETTING_NAMES, loaded[-len(controls.SETTING_NAMES):]))["seed"] == used
    name = video.rsplit("/", 1)[1]
    assert name.startswith(f"a-red-ball-64x64-seed{used}-") and name.endswith(".mp4")


def test_renders_of_two_sizes_get_different_names_and_folders_stay_bounded(tmp_path):
    from direct2v.services.store import OutputStore

    store = rt.RUNTIME.store = OutputStore(tmp_path / "store", keep={"render": 2})
    try:
        names = []
        for size in (64, 72, 64):
            out = run(render_tab.render_video(table_of(["a", "b"]), 2, 4, **values(seed=3, width=size)))[-1]
            names.append(out[1].rsplit("/", 1)[1])
        assert names[0] != names[1] and "72x64" in names[1] and names[0] == names[2]
        assert len(list((tmp_path / "store" / "render").iterdir())) == 2  # the oldest folder went
        files, size = store.usage()
        assert files > 0 and size > 0
    finally:
        rt.RUNTIME.store = None


def test_same_seed_same_frames():
    prompts = ["a cat", "a dog"]
    a = run(render_tab.render_video(table_of(prompts), 2, 4, **values(seed=7)))[-1][0]
    b = run(render_tab.render_video(table_of(prompts), 2, 4, **values(seed=7)))[-1][0]
    np.testing.assert_array_equal(image(a[1][0]), image(b[1][0]))


def image(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_long_render_previews_keep_earlier_passes():
    """With more frames than one pass, the preview gallery grows pass by pass, labelled by frame."""
    prompts = [f"a paper boat, moment {i}" for i in range(6)]
    outs = run(render_tab.render_video(table_of(prompts), 6, 4, **values(seed=1, frames_per_pass=4)))
    labels = [[label for _, label in o[0]] for o in outs[:-1] if isinstance(o[0], list)]
    first_pass = ["Frame 1", "Frame 2"]
    assert labels[0] == ["Frame 1"] and first_pass in labels
    assert ["Frame 1", "Frame 2", "Frame 3", "Frame 4"] in labels
    assert labels[-1] == [f"Frame {i}" for i in range(1, 7)]
    assert "anchor cache" in outs[-1][-1]


@pytest.mark.parametrize(
    "prompts, frames, changes, message",
    [
        ([], 8, {}, "The frame table is empty"),
        (["a", "  ", "c"], 3, {}, "Frame 2 is empty"),
        (["a", "b", "c"], 4, {}, "The table has 3 rows but Frames is set to 4"),
        (["a", "b"], 2, {"t0": 4, "t1": 2}, "t0 must be smaller than t1"),
        (["a", "b"], 2, {"height": 70}, "height must be a multiple of 8"),
    ],
)
def test_render_rejects_bad_input_before_starting(prompts, frames, changes, message):
    with pytest.raises(gr.Error, match=message):
        next(render_tab.render_video(table_of(prompts), frames, 4, **values(**changes)))


def test_cancel_stops_within_a_step_and_the_next_render_works():
    gen = render_tab.render_video(table_of(["a", "b", "c"]), 3, 4, **values(num_inference_steps=40, t0=30, t1=35))
    outs = []
    for out in gen:
        outs.append(out)
        if "step 2 of" in str(out[-1]):
            assert gpu_jobs.cancel_render(None).startswith("Cancelling")
    status = outs[-1][-1]
    assert "Cancelled at step" in status
    step = int(status.split("Cancelled at step ")[1].split()[0])
    assert step <= 3  # stopped within one step of the click
    assert gpu_jobs.cancel_render(None) == "Nothing is rendering."
    assert run(render_tab.render_video(table_of(["a", "b"]), 2, 4, **values()))[-1][1].endswith(".mp4")


def test_model_load_failure_is_a_message_and_the_app_recovers(tmp_path):
    rt.configure(str(tmp_path / "no-such-model"))
    gen = render_tab.render_video(table_of(["a", "b"]), 2, 4, **values())
    next(gen)  # "Loading the model…"
    with pytest.raises(gr.Error, match="The director still works"):
        next(gen)
    assert "could not be loaded" in chooser.model_notice()
    rt.configure("tiny")
    assert run(render_tab.render_video(table_of(["a", "b"]), 2, 4, **values()))[-1][1].endswith(".mp4")


def test_out_of_memory_becomes_advice(monkeypatch):
    from direct2v.render.errors import RenderOutOfMemory

    def boom(*a, **k):
        raise RenderOutOfMemory("Out of GPU memory rendering 2 frames at 64x64. Lower the size.")
        yield  # pragma: no cover

    monkeypatch.setattr(rt, "render_stream", boom)
    with pytest.raises(gr.Error, match="Out of GPU memory.*press Render again"):
        run(render_tab.render_video(table_of(["a", "b"]), 2, 4, **values()))


def test_tiny_model_notice_says_noise():
    assert "noise" in chooser.model_notice()


def test_examples_are_the_papers_prompts_and_direct_offline():
    ex = direct.load_examples()
    assert {e["prompt"] for e in ex} >= {CORGI, "A rainbow forming after a rain shower"}
    for e in ex:
        rows, _, n = direct.direct_script(e["prompt"], e["frames"], e["fps"], **OFFLINE)
        assert n == e["frames"] == len(rows)


# ----------------------------------------------------------------------------- compare tab
def test_compare_tab_renders_each_method_and_reports_the_table():
    outs = run(compare_tab.compare_methods(table_of(["a red ball", "a red ball bouncing"]), 2, 4, ["first", "rotational"], **values(seed=3)))
    status, grid, table_md, plot = outs[-1]
    assert status.startswith("✓ Done") and "seed 3" in status
    assert grid.endswith(".mp4") and plot.endswith(".png")
    assert "T2V-Z" in table_md and "RVM" in table_md and "Avg. Dist." in table_md
    assert any("step" in o[0] for o in outs[:-1])  # progress streamed


def test_compare_rejects_bad_input():
    with pytest.raises(gr.Error, match="Tick at least one method"):
        next(compare_tab.compare_methods(table_of(["a", "b"]), 2, 4, [], **values()))
    with pytest.raises(gr.Error, match="t0 must be smaller than t1"):
        next(compare_tab.compare_methods(table_of(["a", "b"]), 2, 4, ["first"], **values(t0=3, t1=3)))


# ----------------------------------------------------------------------------- director failures
@pytest.mark.parametrize(
    "error_name, text",
    [
        ("DirectorTimeoutError", "The OpenAI server did not answer within 60 s (tried 3 times)."),
        ("DirectorRefusalError", "The model declined to write this script."),
        ("DirectorFormatError", "The answer had 6 frames instead of 8 after 3 tries."),
        ("DirectorAuthError", "The OpenAI server rejected the API key sk-secret-123456 (401)."),
        ("DirectorConnectionError", "Cannot reach http://127.0.0.1:9/v1: connection refused."),
    ],
)
def test_director_failures_are_messages_and_leave_the_table(monkeypatch, error_name, text):
    from direct2v.director import errors

    class Failing:
        def direct(self, *a, **k):
            raise getattr(errors, error_name)(text)

        double_fps = redirect_frame = direct

    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: Failing())
    key = "sk-secret-123456"
    with pytest.raises(gr.Error) as e:
        direct.direct_script(CORGI, 8, 4, **{**OFFLINE, "backend": "openai", "api_key": key})
    assert e.value.message.replace("***", key) == text and key not in e.value.message
    with pytest.raises(gr.Error):
        direct.double_frame_rate(table_of(["a", "b"]), CORGI, 4, **{**OFFLINE, "backend": "openai", "api_key": key})
    with pytest.raises(gr.Error) as e:
        direct.redirect_row(table_of(["a", "b"]), 1, "", 4, **{**OFFLINE, "backend": "openai", "api_key": key})
    assert e.value.message.replace("***", key) == text and key not in e.value.message


def test_a_wrong_length_answer_never_replaces_the_table(monkeypatch):
    class Short:
        def direct(self, *a, **k):
            return ["only one frame"]

    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: Short())
    with pytest.raises(gr.Error, match="returned 1 frames instead of 4"):
        direct.direct_script(CORGI, 4, 4, **OFFLINE)
