"""The GPU benchmarks must keep running: a CPU smoke run of each on the tiny model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_long  # noqa: E402
import bench_render  # noqa: E402


def test_bench_render_runs_chosen_rows_and_separates_phases(tmp_path, capsys):
    out = tmp_path / "render.json"
    args = ["--tiny", "--frames", "2", "--runs", "1", "--steps", "6", "--json", str(out), "--rows", "1", "rotational + DSF 0.2", "6"]
    assert bench_render.main(args) == 0
    data = json.loads(out.read_text())
    assert [r["label"] for r in data["rows"]] == ["T2V-Z (diffusers)", "rotational + DSF 0.2", "sparse-causal"]
    assert data["rows"][0]["ratio_to_peer"] == 1.0
    for r in data["rows"]:
        assert r["median_s"] > 0 and r["floor_s"] > 0 and r["unet_phase_s"] > 0 and r["decode_s"] > 0
        # t1 = 3 of 6 steps: 4 joint steps, each one UNet call on both frames x CFG (batch 4 > 2).
        assert r["joint_unet_calls"] == 4 and 0 < r["joint_unet_s"] < r["unet_phase_s"]
    assert data["unet_flops_batch1"] > 0
    text = capsys.readouterr().out
    assert "| T2V-Z (diffusers) | 2 |" in text and "UNet floor" in text


def test_bench_render_keeps_finished_rows_when_cut_off(tmp_path, monkeypatch):
    out = tmp_path / "render.json"
    real, calls = bench_render.measure, []

    def measure(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # what a time limit does to the second row
        return real(*a, **kw)

    monkeypatch.setattr(bench_render, "measure", measure)
    try:
        bench_render.main(["--tiny", "--frames", "2", "--runs", "1", "--steps", "6", "--json", str(out), "--rows", "1", "3"])
    except KeyboardInterrupt:
        pass
    assert [r["label"] for r in json.loads(out.read_text())["rows"]] == ["T2V-Z (diffusers)"]


def test_bench_render_names_the_rows_on_a_bad_choice():
    with pytest.raises(SystemExit, match="unknown row 'fastest'; choose from 1='T2V-Z"):
        bench_render.main(["--tiny", "--rows", "fastest"])


def test_bench_dsf_prints_side_by_side(capsys):
    import bench_dsf

    assert bench_dsf.main(["--tokens", "64", "--frames", "2", "--heads", "2", "--dim", "8", "--rounds", "1"]) == 0
    text = capsys.readouterr().out
    checks = [float(line.rsplit("=", 1)[1]) for line in text.splitlines() if line.startswith("check p=")]
    assert len(checks) == 2 and max(checks) < 1e-5  # current equals previous before anything is timed
    for label in ("plain attention (peer)", "VM + DSF p=0.2, previous", "VM + DSF p=0.2, current"):
        assert f"| {label} |" in text


def test_bench_long_reports_cache_size(tmp_path):
    out = tmp_path / "long.json"
    assert bench_long.main(["--tiny", "--frames", "6", "--per-pass", "4", "--steps", "6", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["frames"], r["chunking"]) for r in rows] == [(6, "cache"), (6, "t2vz")]
    assert rows[0]["cache_bytes"] > 0 and rows[1]["cache_bytes"] == 0
    assert all(r["decode_s"] > 0 for r in rows)


def test_tokenizer_builder_takes_the_file_route_of_transformers_4(monkeypatch):
    """transformers 4.x's CLIPTokenizer(vocab_file, merges_file) has no vocab= keyword."""
    import transformers

    from direct2v.render.loading import tiny_tokenizer

    real = transformers.CLIPTokenizer
    expected = tiny_tokenizer()("a red fox").input_ids
    seen = []

    class FilesOnly(real):
        def __init__(self, vocab_file=None, merges_file=None, **kwargs):
            if "vocab" in kwargs or vocab_file is None:
                raise TypeError("__init__() missing 2 required positional arguments: 'vocab_file' and 'merges_file'")
            seen.append((vocab_file, merges_file))
            super().__init__(vocab_file, merges_file, **kwargs)

    monkeypatch.setattr(transformers, "CLIPTokenizer", FilesOnly)
    tok = tiny_tokenizer()
    assert seen and tok("a red fox").input_ids == expected


def test_bench_speed_counts_full_and_shallow_unet_images(tmp_path, capsys):
    import bench_speed

    out = tmp_path / "speed.json"
    rows = ["1", "rotational, cache_interval 3", "9", "10"]
    assert bench_speed.main(["--tiny", "--steps", "6", "--frames", "2", "--runs", "1", "--json", str(out), "--rows", *rows]) == 0
    peer, cached, draft, no_triton = json.loads(out.read_text())["rows"]
    assert peer["ratio"] == 1.0 and peer["unet_shallow_images"] == 0
    # 6 steps, t0/t1 = 4/5 (44/47 of 50 scaled): frame 1 alone for 1 step, 6 joint steps on 2 frames x CFG.
    assert peer["unet_full_images"] == 2 * 1 + 4 * 6
    # Every third call of each phase runs the deep part: 1 single-frame, 2 of the 6 joint calls.
    assert (cached["unet_full_images"], cached["unet_shallow_images"]) == (2 * 1 + 4 * 2, 4 * 4)
    # The draft: LCM, 4 steps with t1 = 3, no guidance, every other call shallow.
    assert draft["steps"] == 4 and draft["unet_full_images"] + draft["unet_shallow_images"] == 1 + 2 * 4
    # DSF on the PyTorch kernels only (on a CPU the only route): the same UNet calls as the peer.
    assert no_triton["label"].endswith("no Triton") and no_triton["unet_full_images"] == peer["unet_full_images"]
    assert "| T2V-Z (diffusers) | 6 |" in capsys.readouterr().out
