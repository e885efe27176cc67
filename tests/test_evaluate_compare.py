"""The method comparison on tiny real renders: files, table layout, grid, progress, seeds,
cancelling, bad input, the page handler and the CLI entry."""

from __future__ import annotations

import csv
import io
import json
import time

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from direct2v import cli
from direct2v.evaluate import compare_methods, load_clip, video_metrics
from direct2v.evaluate.compare import CompareProgress, OUTPUT_FILES
from direct2v.evaluate.metrics import EvaluationError
from direct2v.evaluate.report import label_height, video_grid
from direct2v.render import load_pipeline, render
from direct2v.render.errors import PromptError, RenderCancelled
from direct2v.settings import RenderSettings, SettingsError
from direct2v.services import runtime as rt
from direct2v.evaluate.methods import parse_methods
from direct2v.services.compare_job import cannot_separate, compare_for_page
from direct2v.video import to_uint8

PROMPTS = [
    "a corgi runs on the grass",
    "a corgi runs, another corgi appears at the edge",
    "two corgis run side by side",
    "two corgis sit in the sun",
]
LABELS = ["T2V-Z", "TAV", "RVM", "RVM+DSF"]
SETTINGS = RenderSettings(height=64, width=64, num_inference_steps=6, t0=3, t1=4, seed=3, fps=4)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


@pytest.fixture(scope="module")
def pipe():
    return load_pipeline("tiny", device="cpu")


@pytest.fixture(scope="module")
def scorer():
    return load_clip("tiny", device="cpu")


class RecordingRender:
    """The real renderer, recording the settings of each call."""

    def __init__(self, frames_override=None):
        self.calls = []
        self.frames_override = frames_override

    def __call__(self, pipe, prompts, settings, **kw):
        self.calls.append(settings)
        result = render(pipe, prompts, settings, **kw)
        if self.frames_override is not None:
            result.frames = self.frames_override(result.frames)
        return result


@pytest.fixture(scope="module")
def comparison(pipe, scorer, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "nested" / "results"
    steps = []
    rec = RecordingRender()
    cmp = compare_methods(
        pipe, PROMPTS, SETTINGS.replace(dsf_quantile=0.5), scorer=scorer, out_dir=out,
        on_step=steps.append, render_fn=rec, dsf_quantile=0.2,
    )
    return cmp, steps, rec, out


def parse_markdown(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines]
    assert all(set(c) <= {"-"} for c in rows[1])
    return rows[0], rows[2:]


def test_table_layout_and_values(comparison):
    cmp, _, _, out = comparison
    assert [m.name for m in cmp.methods] == ["first", "sparse_causal", "rotational", "rotational+dsf"]
    header, rows = parse_markdown(cmp.table_markdown)
    assert header == ["Frame #", *LABELS]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "Avg.", "Avg. Dist."]
    for col, m in enumerate(cmp.methods, start=1):
        metrics = cmp.metrics[m.name]
        assert [float(r[col]) for r in rows[:4]] == pytest.approx(list(metrics.clip_scores), abs=5e-5)
        assert float(rows[4][col]) == pytest.approx(metrics.avg_clip, abs=5e-5)
        assert float(rows[5][col]) == pytest.approx(metrics.avg_dist, abs=5e-5)
    assert (out / "table.md").read_text() == cmp.table_markdown


def test_csv_parses_and_matches_metrics(comparison):
    cmp, _, _, out = comparison
    rows = list(csv.reader(io.StringIO((out / "table.csv").read_text())))
    assert rows[0] == ["Frame #", *LABELS]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "Avg.", "Avg. Dist."]
    values = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
    for col, m in enumerate(cmp.methods):
        scores = cmp.metrics[m.name].clip_scores
        np.testing.assert_allclose(values[:4, col], scores, atol=1e-6)
        assert values[4, col] == pytest.approx(values[:4, col].mean(), abs=1e-5)
        assert values[5, col] == pytest.approx(np.abs(values[0, col] - values[:4, col]).mean(), abs=1e-5)


def test_metrics_are_those_of_the_returned_videos(comparison, scorer):
    cmp, _, _, _ = comparison
    for m in cmp.methods:
        video = cmp.videos[m.name]
        assert video.shape == (4, 64, 64, 3) and video.dtype == np.float32
        again = video_metrics(video, PROMPTS, scorer)
        np.testing.assert_allclose(cmp.metrics[m.name].clip_scores, again.clip_scores, atol=1e-6)
        np.testing.assert_allclose(cmp.metrics[m.name].consistency, again.consistency, atol=1e-6)


def test_same_seed_and_method_settings(comparison, pipe):
    cmp, _, rec, _ = comparison
    assert [s.value_mapping for s in rec.calls] == ["first", "sparse_causal", "rotational", "rotational"]
    # Plain methods run with DSF off even though the shared settings had 0.5; +dsf uses 0.2.
    assert [s.dsf_quantile for s in rec.calls] == [0.0, 0.0, 0.0, 0.2]
    assert {s.seed for s in rec.calls} == {3} and cmp.seed == 3
    # Rendering a method alone with the same seed gives the comparison's video exactly.
    alone = render(pipe, PROMPTS, SETTINGS.replace(value_mapping="rotational", dsf_quantile=0.2))
    np.testing.assert_array_equal(alone.frames, cmp.videos["rotational+dsf"])


def test_progress_counts_over_all_methods(comparison):
    _, steps, _, _ = comparison
    assert all(isinstance(s, CompareProgress) for s in steps)
    per = steps[0].method_total
    assert [s.step for s in steps] == list(range(1, 4 * per + 1))
    assert {s.total for s in steps} == {4 * per}
    assert [s.method_index for s in steps] == [i for i in range(4) for _ in range(per)]
    assert steps[-1].fraction == 1.0 and steps[-1].eta_s == pytest.approx(0.0)
    assert steps[per].phase.startswith("TAV: ") and steps[per].method_step == 1


def test_plot_png(comparison):
    cmp, _, _, out = comparison
    assert cmp.plot_path == out / "clip_scores.png"
    assert cmp.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(cmp.plot_path) as im:
        assert im.format == "PNG" and im.width > 200 and im.height > 200
        # Not a blank canvas: the lines and legend draw several colours.
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10


def test_grid_array_and_video(comparison):
    cmp, _, _, out = comparison
    lh = label_height(64)
    assert cmp.grid.shape == (4, lh + 64, 4 * 64, 3) and cmp.grid.dtype == np.uint8
    for i, m in enumerate(cmp.methods):
        np.testing.assert_array_equal(cmp.grid[:, lh:, i * 64 : (i + 1) * 64], to_uint8(cmp.videos[m.name]))
    reader = imageio.get_reader(str(cmp.grid_video_path))
    frames = np.stack([f for f in reader])  # list(reader) asks len(), which is inf
    reader.close()
    assert frames.shape == cmp.grid.shape
    assert np.abs(frames.astype(int) - cmp.grid.astype(int)).mean() < 12  # H.264 is lossy, not different


def test_metrics_json_and_paths(comparison):
    cmp, _, _, out = comparison
    assert set(cmp.paths) == set(OUTPUT_FILES) and all(p.is_file() for p in cmp.paths.values())
    data = json.loads((out / "metrics.json").read_text())
    assert data["seed"] == 3 and data["prompts"] == PROMPTS
    by_name = {m["name"]: m for m in data["methods"]}
    assert by_name["rotational+dsf"]["dsf_quantile"] == 0.2 and by_name["rotational"]["dsf_quantile"] == 0.0
    assert by_name["first"]["avg_dist"] == pytest.approx(cmp.metrics["first"].avg_dist)
    assert len(by_name["first"]["consistency"]) == 3


def test_video_grid_labels_and_shapes():
    videos = {"a": np.zeros((2, 40, 24, 3), np.float32), "b": np.ones((2, 40, 24, 3), np.float32)}
    grid = video_grid(videos, labels=["RVM", "T2V-Z"])
    lh = label_height(40)
    assert grid.shape == (2, lh + 40, 48, 3) and (lh + 40) % 16 == 0
    for i in range(2):
        strip = grid[0, :lh, i * 24 : (i + 1) * 24]
        assert strip.max() > 150 and strip.min() < 60  # text drawn on the dark strip
    assert (grid[:, lh:, :24] == 0).all() and (grid[:, lh:, 24:] == 255).all()
    with pytest.raises(ValueError, match="same shape"):
        video_grid({"a": np.zeros((2, 8, 8, 3)), "b": np.zeros((3, 8, 8, 3))})


def test_seed_minus_one_is_drawn_once(pipe, scorer):
    rec = RecordingRender()
    cmp = compare_methods(
        pipe, PROMPTS[:2], SETTINGS.replace(seed=-1), scorer=scorer, methods=["first", "rotational"], render_fn=rec
    )
    seeds = {s.seed for s in rec.calls}
    assert len(seeds) == 1 and cmp.seed in seeds and cmp.seed >= 0
    assert cmp.paths == {} and cmp.table_markdown.count("\n") == 2 + 2 + 2


def test_bad_input_fails_before_rendering(pipe, scorer, tmp_path):
    rec = RecordingRender()
    kw = dict(scorer=scorer, render_fn=rec)
    with pytest.raises(PromptError, match="Frame 2 is empty"):
        compare_methods(pipe, ["a", " "], SETTINGS, **kw)
    with pytest.raises(PromptError):
        compare_methods(pipe, [], SETTINGS, **kw)
    with pytest.raises(EvaluationError, match="Unknown method 'rvm2'"):
        compare_methods(pipe, PROMPTS, SETTINGS, methods=["first", "rvm2"], **kw)
    with pytest.raises(EvaluationError, match="listed twice"):
        compare_methods(pipe, PROMPTS, SETTINGS, methods=["rvm", "rotational"], **kw)
    with pytest.raises(EvaluationError, match="DSF quantile"):
        compare_methods(pipe, PROMPTS, SETTINGS, dsf_quantile=0.0, **kw)
    with pytest.raises(SettingsError, match="multiple of 8"):
        compare_methods(pipe, PROMPTS, SETTINGS.replace(width=68), **kw)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EvaluationError, match="Cannot create the output folder"):
        compare_methods(pipe, PROMPTS, SETTINGS, out_dir=blocker / "sub", **kw)
    assert rec.calls == []


def test_wrong_frame_count_from_renderer(pipe, scorer):
    rec = RecordingRender(frames_override=lambda f: f[:-1])
    with pytest.raises(EvaluationError, match="expected 4 frames"):
        compare_methods(pipe, PROMPTS, SETTINGS, scorer=scorer, methods=["first"], render_fn=rec)


def test_cancel_stops_the_comparison(pipe, scorer, tmp_path):
    rec = RecordingRender()
    seen = []

    def should_cancel():
        return len(seen) >= 8  # during the second method

    with pytest.raises(RenderCancelled):
        compare_methods(
            pipe, PROMPTS, SETTINGS, scorer=scorer, out_dir=tmp_path, on_step=seen.append,
            should_cancel=should_cancel, render_fn=rec,
        )
    assert len(rec.calls) == 2
    assert not (tmp_path / "table.md").exists()


# ------------------------------------------------------------------ page handler


def test_compare_for_page_streams_and_finishes(pipe, scorer, tmp_path):
    updates = list(
        compare_for_page(pipe, PROMPTS, SETTINGS, ["first", "rotational+dsf"], scorer, out_dir=tmp_path)
    )
    assert updates[0].progress == 0.0 and "T2V-Z, RVM+DSF" in updates[0].status
    progress = [u.progress for u in updates]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any("Rendering RVM+DSF (2/2)" in u.status for u in updates[1:-1])
    last = updates[-1]
    assert last.grid_video == str(tmp_path / "grid.mp4") and (tmp_path / "grid.mp4").is_file()
    assert last.plot == str(tmp_path / "clip_scores.png") and (tmp_path / "clip_scores.png").is_file()
    assert "| Avg. Dist. |" in last.table_markdown and "| Consistency |" in last.table_markdown
    assert f"seed {SETTINGS.seed}" in last.status and last.comparison.seed == SETTINGS.seed
    assert all(u.grid_video is None for u in updates[:-1])


def test_compare_says_first_when_its_settings_cannot_separate_rvm_from_t2vz(pipe, scorer, tmp_path):
    # 6 steps, t1=4: 5 joint steps; with tau = 5 the reference never leaves frame 1 (issue 22).
    s = SETTINGS.replace(rvm_period=5)
    updates = list(compare_for_page(pipe, PROMPTS[:2], s, ["first", "rotational"], scorer, out_dir=tmp_path))
    assert updates[0].status.startswith("⚠ RVM cannot differ from T2V-Z at these settings: τ = 5 is at least the 5 joint steps")
    last = updates[-1].status
    assert "⚠ T2V-Z and RVM rendered identical frames" in last and "within noise" not in last
    assert last.index("⚠ RVM cannot differ") < last.index("score the same on every frame; no method is ahead.")
    assert updates[-1].table_markdown.startswith("⚠ RVM cannot differ")
    # One step more of the joint phase than tau, and the methods are told apart.
    chosen = parse_methods(["first", "rotational", "first+dsf", "rotational+dsf"])
    assert cannot_separate(chosen, SETTINGS, 0.2) == []  # tau 4 < 5 joint steps
    assert [w.split(" at ")[0] for w in cannot_separate(chosen, s, 0.2)] == [
        "RVM cannot differ from T2V-Z", "RVM+DSF cannot differ from T2V-Z+DSF"]


def test_compare_for_page_bad_input_raises_at_once(pipe, scorer):
    gen = compare_for_page(pipe, ["a", ""], SETTINGS, ["first"], scorer)
    with pytest.raises(PromptError):
        next(gen)
    gen = compare_for_page(pipe, PROMPTS, SETTINGS.replace(t0=5, t1=4), ["first"], scorer)
    with pytest.raises(SettingsError, match="t0"):
        next(gen)


def test_compare_for_page_close_stops_worker(pipe, scorer, tmp_path):
    rec = RecordingRender()

    def slow_render(pipe, prompts, settings, *, on_step, **kw):
        # 0.1 s a step: the three renders would take over 2 s if closing did not stop them.
        def step(info):
            time.sleep(0.1)
            on_step(info)

        return rec(pipe, prompts, settings, on_step=step, **kw)

    gen = compare_for_page(pipe, PROMPTS, SETTINGS, ["first", "sparse_causal", "rotational"], scorer,
                           out_dir=tmp_path, render_fn=slow_render)
    next(gen)
    assert "Rendering T2V-Z (1/3): step " in next(gen).status
    gen.close()  # waits for the worker to stop
    # Stopped within the first render: the other two never start, even given the time they would
    # need. (No bound on how long close() takes: on a loaded 2-core CI machine a tight one fails
    # for reasons that are not the code's.)
    time.sleep(1.5)
    assert len(rec.calls) == 1
    assert not (tmp_path / "grid.mp4").exists()


def test_compare_for_page_cancel_raises(pipe, scorer):
    gen = compare_for_page(pipe, PROMPTS, SETTINGS, ["first"], scorer, should_cancel=lambda: True)
    with pytest.raises(RenderCancelled):
        list(gen)


# ------------------------------------------------------------------ CLI entry


def test_compare_main_end_to_end(tmp_path, capsys):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(PROMPTS[:3]))
    out = tmp_path / "out"
    rc = cli.main([
        "compare", str(script), "--model", "tiny", "--clip-model", "tiny", "--out-dir", str(out), "--seed", "7",
        "--steps", "6", "--t0", "3", "--t1", "4", "--width", "64", "--height", "64",
        "--methods", "first,rvm+dsf", "--dsf", "0.3", "--device", "cpu", "--quiet",
    ])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    header, rows = parse_markdown(cap.out.split("\n\n")[0])
    assert header == ["Frame #", "T2V-Z", "RVM+DSF"] and len(rows) == 3 + 2
    data = json.loads((out / "metrics.json").read_text())
    assert data["seed"] == 7 and [m["dsf_quantile"] for m in data["methods"]] == [0.0, 0.3]
    with Image.open(out / "clip_scores.png") as im:
        assert im.format == "PNG"
    reader = imageio.get_reader(str(out / "grid.mp4"))
    assert reader.get_data(0).shape[1] == 2 * 64
    reader.close()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["{missing}", "--out-dir", "{out}"], 2, "no such file"),
        (["{script}", "--out-dir", "{out}", "--methods", "first,bogus"], 2, "Unknown method 'bogus'"),
        (["{script}", "--out-dir", "{out}", "--width", "65"], 2, "multiple of 8"),
        (["{script}", "--out-dir", "{out}", "--clip-model", "{out}/no/such/clip", "--model", "tiny"], 3, "No such CLIP model folder"),
        (["{script}", "--out-dir", "{out}", "--steps", "many"], 2, "invalid int value"),
        (["{empty}", "--out-dir", "{out}"], 2, "no frame prompts"),
    ],
)
def test_compare_main_bad_input(tmp_path, capsys, args, code, message):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(PROMPTS[:2]))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    fill = dict(missing=tmp_path / "missing.json", out=tmp_path / "out", script=script, empty=empty)
    rc = cli.main(["compare", *[a.format(**fill) for a in args]])
    err = capsys.readouterr().err
    assert rc == code
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "table.md").exists()


def test_compare_stream_takes_plain_data(tmp_path):
    # Model ids and a settings dict, as a ZeroGPU worker receives them; "tiny" loads the
    # tiny pipeline and CLIP.
    rt.configure("tiny")
    updates = list(rt.compare_stream("tiny", "tiny", PROMPTS[:2], SETTINGS.to_dict(), ["first", "rvm"], 0.2))
    status, progress, grid, table, plot = updates[-1]
    assert progress == 1.0 and grid.endswith("grid.mp4") and plot.endswith("clip_scores.png")
    assert "T2V-Z" in table and "RVM" in table and f"seed {SETTINGS.seed}" in status
