"""The page's queue, step counter, time estimate, undo, history and compare verdict as plain
functions (test_browser_daily.py drives the same through the page)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from direct2v.settings import Project, RenderSettings
from direct2v.services import progress
from direct2v.ui import controls, direct, history as hist
from direct2v.ui import render as render_tab
from direct2v.ui import gpu_jobs
from direct2v.services import runtime as rt
from direct2v.services.compare_job import leader_sentence
from direct2v.ui import table as table_tab
from direct2v.ui.table import make_table
from direct2v.services.turns import QueueFull, Turns

CORGI = "A corgi is running, and another corgi joins later"
OFFLINE = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")


def req(session):
    return SimpleNamespace(session_hash=session)


# ----------------------------------------------------------------------------- the queue
def test_turns_are_first_come_first_served_and_report_places():
    turns = Turns(slots=1, max_waiting=3)
    a, b, c = turns.join(), turns.join(), turns.join()
    assert [turns.ahead(t) for t in (a, b, c)] == [0, 1, 2]
    assert not turns.wait(b, timeout=0.01)  # not b's turn while a is first
    assert turns.wait(a, timeout=0.01)
    assert [turns.ahead(b), turns.ahead(c)] == [1, 2]  # a runs, b and c wait
    full = Turns(max_waiting=2)
    full.join(), full.join()
    with pytest.raises(QueueFull, match="2 renders are already waiting"):
        full.join()
    turns.leave(c)  # cancelled while waiting: out of the line
    assert turns.waiting == 1
    turns.leave(a)
    assert turns.wait(b, timeout=0.01) and turns.waiting == 0


def test_two_slots_run_two_jobs_and_the_third_waits():
    turns = Turns(slots=2)
    a, b, c = turns.join(), turns.join(), turns.join()
    assert turns.wait(a, timeout=0.01) and turns.wait(b, timeout=0.01)
    assert not turns.wait(c, timeout=0.01) and turns.ahead(c) == 2


def test_a_waiting_render_shows_its_place_and_cancel_takes_it_out():
    rt.configure("tiny", preview_every=1)
    turns = rt.RUNTIME.turns = Turns(slots=1)
    try:
        blocker = turns.join()
        assert turns.wait(blocker, timeout=0.01)  # another session's job holds the GPU
        values = dict(zip(controls.SETTING_NAMES, controls.settings_values(
            RenderSettings(width=64, height=64, num_inference_steps=4, t0=1, t1=2))))
        gen = render_tab.render_video([["a", ""], ["b", ""]], 2, 4, request=req("queued"), **values)
        first = next(gen)
        assert first[-1] == "⏳ Waiting: 1 ahead of you in the queue. Cancel takes this job out of the line."
        assert gpu_jobs.cancel_render(req("queued")).startswith("Cancelling")
        rest = list(gen)
        assert rest[-1][-1] == "■ Cancelled while waiting in the queue; nothing was rendered."
        assert all(not isinstance(o[0], list) for o in rest)  # nothing rendered, frames untouched
        assert turns.waiting == 0 and gpu_jobs.cancel_render(req("queued")) == "Nothing is rendering."
        turns.leave(blocker)
    finally:
        rt.RUNTIME.turns = Turns()


def test_a_full_line_turns_a_render_away_in_words():
    rt.RUNTIME.turns = Turns(max_waiting=1)
    try:
        rt.RUNTIME.turns.join()
        values = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings(width=64, height=64))))
        with pytest.raises(gr.Error, match="1 renders are already waiting, the most this server queues"):
            next(render_tab.render_video([["a", ""], ["b", ""]], 2, 4, request=req("late"), **values))
    finally:
        rt.RUNTIME.turns = Turns()


# ----------------------------------------------------------------------------- progress
def test_step_label_names_both_phases():
    total = 53  # what the pipeline counts for 50 steps, t0=44, t1=47: 5 alone, then 48 joint
    n_first = progress.single_frame_steps(50, 44, 47, total)
    assert n_first == 5
    assert progress.step_label(12, total, n_first) == "step 12 of 53: 5 first-frame steps, then 48 joint"
    assert progress.step_label(1, 101, 5, passes=3).endswith("then 96 joint over 3 passes")
    assert progress.single_frame_steps(50, 44, 47, 48, "noise") == 0
    assert progress.step_label(3, 48, 0, picture=True) == "step 3 of 48: all 48 joint"
    assert progress.single_frame_steps(50, 44, 47, 96, "invert") == 48


def _estimates(n_first, joint, first_s, joint_s, frames, setup_s=0.3, joint_setup_s=0.1):
    """What the page shows at every step of a render whose steps take first_s / joint_s seconds."""
    eta = progress.Eta(total=n_first + joint, n_first=n_first, frames_per_pass=frames)
    elapsed, out = setup_s, []
    for step in range(1, n_first + joint + 1):
        elapsed += first_s if step <= n_first else joint_s + (joint_setup_s if step == n_first + 1 else 0.0)
        out.append((*eta.update(step, elapsed), n_first + joint - step, elapsed))
    return out, elapsed


@pytest.mark.parametrize("first_s, joint_s", [(0.05, 0.06), (0.5, 4.0), (1.0, 8.0)])  # a GPU batching, a CPU paying per frame
def test_the_estimate_is_rough_until_both_phases_are_timed_and_never_jumps_tenfold(first_s, joint_s):
    shown, took = _estimates(n_first=5, joint=48, first_s=first_s, joint_s=joint_s, frames=8)
    for step, (left, rough, steps_left, elapsed) in enumerate(shown, start=1):
        assert rough == (step <= 5 + 1), (step, rough)  # timed: two steps of each phase
        assert (left is None) == (step == 1)  # the first step alone carries the set-up: no figure from it
        true_left = took - elapsed
        if left is not None and steps_left > 3:
            assert true_left / 10 < left < true_left * 10, (step, left, true_left)
    lefts = [(left, elapsed) for left, _, _, elapsed in shown if left is not None]
    for (a, ta), (b, tb) in zip(lefts, lefts[1:]):
        expected = max(a - (tb - ta), 1.0)
        assert expected / 2.01 <= b <= expected * 2.01 or b == 0.0
    left, rough, _, elapsed = shown[20]  # well into the joint phase: the measured rate
    assert not rough and left == pytest.approx(took - elapsed, rel=0.05)


def test_one_first_frame_step_and_a_start_picture_are_estimated_too():
    shown, took = _estimates(n_first=1, joint=10, first_s=0.1, joint_s=0.2, frames=4)
    # Step 2 is one joint step with its set-up: rough; step 3 times the joint phase.
    assert [(left is None, rough) for left, rough, _, _ in shown[:3]] == [(True, True), (False, True), (False, False)]
    shown, _ = _estimates(n_first=0, joint=10, first_s=0.1, joint_s=0.2, frames=4)
    assert shown[0][:2] == (None, True) and shown[1][0] == pytest.approx(8 * 0.2) and not shown[1][1]
    assert progress.eta_words(75, True) == "about 1 min 15 s left (rough until both phases are timed)"
    assert progress.eta_words(None, True) == "estimating the time left"
    assert progress.step_label(1, 11, 1) == "step 1 of 11: 1 first-frame step, then 10 joint"


def test_a_render_labels_its_counter():
    rt.configure("tiny", preview_every=100)
    values = dict(zip(controls.SETTING_NAMES, controls.settings_values(
        RenderSettings(width=64, height=64, num_inference_steps=6, t0=2, t1=3))))
    outs = list(render_tab.render_video([["a", ""], ["b", ""]], 2, 4, request=req("label"), **values))
    lines = {int(m.group(1)): str(o[-1]) for o in outs if (m := re.search(r"step (\d+) of 7", str(o[-1])))}
    # 6 steps, t0=2: frame 1 alone for 3 steps, then 4 joint (from T[-t1-1]).
    assert "step 1 of 7: 3 first-frame steps, then 4 joint · first frame · estimating the time left" in lines[1]
    assert "about" in lines[2] and "(rough until both phases are timed)" in lines[2]
    assert "joint · about" in lines[6] and "rough" not in lines[6]


# ----------------------------------------------------------------------------- undo
def test_redirect_all_says_it_replaced_hand_edits_and_undo_brings_them_back():
    session = req("undo-1")
    table, _, _ = direct.direct_script(CORGI, 4, 4, **OFFLINE, table=None, request=session)
    edited = [r[0] for r in table]
    edited[1] = "a corgi wearing a red scarf, edited by hand"
    table_tab.refresh_table(make_table(edited), request=session)  # the cell edit, as the page sends it
    table2, notes, _ = direct.redirect_all("A cat sleeps on a sofa", 4, 4, **OFFLINE, table=make_table(edited), request=session)
    assert [r[0] for r in table2] != edited
    assert "Replaced the previous 4 rows, 1 of them edited by hand (row 2); **Undo** (Ctrl+Z) brings them back." in notes
    back, notes, frames, fps = table_tab.undo(request=session)
    assert [r[0] for r in back] == edited and frames == 4 and fps == gr.update()  # fps was not changed
    assert "Undid Re-direct all: the table is back to its 4 rows." in notes
    back, notes, _, _ = table_tab.undo(request=session)
    assert "Undid the edit of row 2" in notes and back[1][0] != edited[1]
    table_tab.undo(request=session)  # the Direct
    with pytest.raises(gr.Error, match="Nothing to undo"):
        table_tab.undo(request=session)


def test_hand_typed_row_survives_redirect_all_x2_undo_undo_and_redo_goes_forward(monkeypatch):
    """The issue's walk: a row typed by hand, Re-direct all, x2, Undo, Undo: the row is back,
    and a Direct after it counts hand edits truly."""
    session = req("undo-walk")

    class Splitting:
        def double_fps(self, prompts, fps, user_prompt, camera=None, style=None):
            return [f"{p}, {half}" for p in prompts for half in ("start", "end")]

    table, _, _ = direct.direct_script(CORGI, 4, 4, **OFFLINE, table=None, request=session)
    typed = [r[0] for r in table]
    typed[2] = "a corgi in a tiny raincoat, typed by hand"
    table_tab.refresh_table(make_table(typed), request=session)
    again, notes, _ = direct.redirect_all(CORGI + " on a beach", 4, 4, **OFFLINE, table=make_table(typed), request=session)
    assert "1 of them edited by hand (row 3)" in notes
    real = direct.make_director_for
    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: Splitting())
    doubled, _, n, fps = direct.double_frame_rate(again, CORGI, 4, **OFFLINE, request=session)
    monkeypatch.setattr(direct, "make_director_for", real)
    assert n == 8 and fps == 8
    back, _, frames, fps = table_tab.undo(request=session)
    assert [r[0] for r in back] == [r[0] for r in again] and frames == 4 and fps == 4
    back, notes, _, _ = table_tab.undo(request=session)
    assert [r[0] for r in back] == typed and "Undid Re-direct all" in notes
    # Back where the typed row is, a new Direct says it replaces exactly that one hand edit.
    _, notes, _ = direct.direct_script("A cat sleeps on a sofa", 4, 4, **OFFLINE, table=back, request=session)
    assert "Replaced the previous 4 rows, 1 of them edited by hand (row 3)" in notes
    table_tab.undo(request=session)
    forward, notes, _, fps = table_tab.redo(request=session)  # Redo after Undo: the Direct again
    assert "Redid Direct." in notes
    with pytest.raises(gr.Error, match="Nothing to redo"):
        table_tab.redo(request=session)


def test_row_tools_carry_each_rows_origin_and_are_undone_one_by_one():
    session = req("undo-rows")
    table, _, _ = direct.direct_script(CORGI, 3, 4, **OFFLINE, table=None, request=session)
    rows = [r[0] for r in table]
    edited = [rows[0], rows[1], "typed over row 3"]
    table_tab.refresh_table(make_table(edited), request=session)
    moved, notes, row = table_tab.move_row_up(make_table(edited), 3, request=session)
    assert row == 2 and "Moved row 3 up to 2." in notes
    added, notes, _, row = table_tab.add_row(moved, 1, request=session)
    assert [r[0] for r in added] == [rows[0], "", "typed over row 3", rows[1]] and row == 2
    # The typed row moved with its origin: a re-direct of row 3 knows it was edited by hand.
    _, notes = direct.redirect_row(added, 3, CORGI, 4, **OFFLINE, request=session)
    assert "Row 3 re-directed (it had been edited by hand)" in notes
    for expected in ("Re-direct row 3", "adding row 2", "moving row 3 up", "the edit of row 3", "Direct"):
        _, notes, _, _ = table_tab.undo(request=session)
        assert f"Undid {expected}:" in notes


def test_double_says_which_frames_were_copied_and_undo_restores_fps(monkeypatch):
    session = req("undo-2")

    class CopyingDirector:
        def double_fps(self, prompts, fps, user_prompt, camera=None, style=None):
            return [p for p in prompts for _ in range(2)]

    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: CopyingDirector())
    table, notes, n, fps = direct.double_frame_rate(make_table(["a", "b", "c"]), CORGI, 4, **OFFLINE, request=session)
    assert n == 6 and fps == 8
    assert "Doubled 3 → 6 frames at 8 fps. 3 of the 3 frames (rows 1, 2, 3 before doubling) could not be split" in notes
    back, _, frames, fps = table_tab.undo(request=session)
    assert [r[0] for r in back] == ["a", "b", "c"] and frames == 3 and fps == 4


def test_redirect_row_keeps_the_old_row_for_undo():
    session = req("undo-3")
    rows = make_table(["A fox asleep in the snow", "A fox waking in the snow", "A fox trotting in the snow"])
    out, notes = direct.redirect_row(rows, 2, "", 4, **OFFLINE, request=session)
    assert "Row 2 re-directed (it had been edited by hand); **Undo** (Ctrl+Z) brings the old row back." in notes
    back, _, _, _ = table_tab.undo(request=session)
    assert [r[0] for r in back] == [r[0] for r in rows]


def test_sessions_undo_their_own_actions_only():
    direct.direct_script(CORGI, 2, 4, **OFFLINE, table=make_table(["x", "y"]), request=req("s-a"))
    with pytest.raises(gr.Error, match="Nothing to undo"):
        table_tab.undo(request=req("s-b"))
    assert [r[0] for r in table_tab.undo(request=req("s-a"))[0]] == ["x", "y"]


# ----------------------------------------------------------------------------- history
def test_history_keeps_newest_first_and_restores_a_render(tmp_path):
    from direct2v.services.store import OutputStore
    from direct2v.video import write_png

    store = OutputStore(tmp_path)
    history = []
    for seed in (1, 2):
        project = Project(user_prompt=CORGI, frames=["a", "b"], settings=RenderSettings(seed=seed, width=64, height=64), model="tiny")
        frame = write_png(np.full((64, 64, 3), seed * 40, np.uint8), tmp_path / f"f{seed}.png", project)
        finished = {"items": [(str(frame), "Frame 1")], "project": project.to_json(), "video": None, "downloads": []}
        history = hist.add_entry(history, finished, store)
    assert [e["number"] for e in history] == [2, 1]
    assert hist.gallery_items(history)[1][1] == "#1 · A corgi is running, and another corgi… · seed 1 · 64×64 · 50 steps · RVM τ 4"
    values = hist.restore_from_history(history, SimpleNamespace(index=1))
    restored = dict(zip(controls.SETTING_NAMES, values[10: 10 + len(controls.SETTING_NAMES)]))
    assert values[0] == CORGI and [r[0] for r in values[1]] == ["a", "b"] and restored["seed"] == 1
    assert values[-1] == "↺ Restored render #1 (seed 1): its table and settings are back; its files are gone from the server, press Render to make it again."
    assert len(hist.add_entry([{"number": i} for i in range(20, 0, -1)], finished, store)) == hist.MAX_ENTRIES
    draft = Project(user_prompt=CORGI, frames=["a", "b"], settings=RenderSettings(seed=3, width=64, height=64, draft=True))
    assert " · seed 3 · 64×64 · draft, 4 LCM steps · " in hist.entry_label(3, draft)
    with pytest.raises(gr.Error, match="That history entry is gone"):
        hist.restore_from_history(history, SimpleNamespace(index=5))


def test_a_finished_render_reaches_its_sessions_history():
    rt.configure("tiny", preview_every=100)
    values = dict(zip(controls.SETTING_NAMES, controls.settings_values(
        RenderSettings(width=64, height=64, num_inference_steps=4, t0=1, t1=2, seed=5))))
    outs = list(render_tab.render_video([["a", ""], ["b", ""]], 2, 4, CORGI, request=req("hist"), **values))
    history, items = hist.add_to_history([], request=req("hist"))
    assert len(history) == 1 and items[0][1] == "#1 · A corgi is running, and another corgi… · seed 5 · 64×64 · 4 steps · RVM τ 4"
    from PIL import Image

    assert Image.open(items[0][0]).size == (hist.THUMB_SIDE, hist.THUMB_SIDE)  # square, whatever the video's shape
    assert history[0]["video"] == outs[-1][1]
    assert hist.add_to_history(history, request=req("hist"))[0] == history  # taken once

    # A cancelled render puts the finished one's frames back over its partial previews.
    long = dict(values, num_inference_steps=40, t0=30, t1=35)
    gen = render_tab.render_video([["a", ""], ["b", ""]], 2, 4, CORGI, request=req("hist"), **long)
    for out in gen:
        if "step 2 of" in str(out[-1]):
            gpu_jobs.cancel_render(req("hist"))
    assert out[0] == outs[-1][0] and out[1] == gr.update()  # the frames of the video that stays
    assert "the frames and video of your last render are shown again" in out[-1]
    gen = render_tab.render_video([["a", ""], ["b", ""]], 2, 4, CORGI, request=req("hist-new"), **long)
    for out in gen:
        if "step 2 of" in str(out[-1]):
            gpu_jobs.cancel_render(req("hist-new"))
    assert out[0] == [] and "its partial frames are cleared" in out[-1]  # no video: no frames either


def test_history_labels_name_the_method():
    s = RenderSettings()
    assert hist.method_text(s) == "RVM τ 4"
    assert hist.method_text(s.replace(dsf_quantile=0.2)) == "RVM τ 4 + DSF 0.2"
    assert hist.method_text(s.replace(value_mapping="first")) == "T2V-Z"


# ----------------------------------------------------------------------------- compare
def _result(a, b):
    methods = [SimpleNamespace(name="rotational", label="RVM"), SimpleNamespace(name="first", label="T2V-Z")]
    metrics = {
        "rotational": SimpleNamespace(clip_scores=np.array(a), avg_clip=float(np.mean(a))),
        "first": SimpleNamespace(clip_scores=np.array(b), avg_clip=float(np.mean(b))),
    }
    return SimpleNamespace(methods=methods, metrics=metrics)


def test_compare_names_a_leader_only_beyond_the_noise():
    # The case: 0.0007 apart with frame-to-frame scatter far larger.
    tie = leader_sentence(_result([0.2307, 0.2107, 0.2507, 0.2207], [0.2330, 0.2070, 0.2530, 0.2170]))
    assert tie.startswith("RVM and T2V-Z are within noise of each other: a lead of 0.0007, 95% interval -0.")
    assert tie.endswith("over 4 frames; no method is ahead.")
    clear = leader_sentence(_result([0.30, 0.31, 0.29, 0.30], [0.20, 0.21, 0.20, 0.19]))
    assert clear.startswith("Highest average CLIP score: RVM (0.3000), ahead of T2V-Z by 0.1000 (95% interval +0.")
    assert leader_sentence(_result([0.3], [0.2])).endswith("one frame cannot tell a lead from noise.")
