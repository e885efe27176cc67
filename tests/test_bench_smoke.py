"""The GPU benchmarks must keep running: a CPU smoke run of each on the tiny model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_long  # noqa: E402
import bench_render  # noqa: E402


def test_bench_render_runs_and_writes_every_row(tmp_path, capsys):
    out = tmp_path / "render.json"
    assert bench_render.main(["--tiny", "--frames", "2", "--runs", "1", "--steps", "6", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    labels = [r["label"] for r in data["rows"]]
    assert labels == [label for label, _ in bench_render.ROWS]
    assert data["rows"][0]["ratio_to_peer"] == 1.0
    assert all(r["median_s"] > 0 and r["floor_s"] > 0 for r in data["rows"])
    assert data["unet_flops_batch1"] > 0
    assert "| T2V-Z (diffusers) | 2 |" in capsys.readouterr().out


def test_bench_long_reports_cache_size(tmp_path):
    out = tmp_path / "long.json"
    assert bench_long.main(["--tiny", "--frames", "6", "--per-pass", "4", "--steps", "6", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["frames"], r["chunking"]) for r in rows] == [(6, "cache"), (6, "t2vz")]
    assert rows[0]["cache_bytes"] > 0 and rows[1]["cache_bytes"] == 0
