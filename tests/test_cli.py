"""`python -m direct2v ...` as a user runs it: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import pytest

from direct2v import cli
from direct2v.settings import Project

ROOT = Path(__file__).resolve().parents[1]
CORGI = "A corgi is running, and another corgi joins later"
FAST = ["--model", "tiny", "--steps", "6", "--t0", "2", "--t1", "3", "--width", "64", "--height", "64"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for key in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "direct2v", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_direct_prints_a_json_script_of_n_frames(tmp_path):
    proc = run_cli("direct", CORGI, "--frames", "6", "--backend", "offline", "--out", str(tmp_path / "s.json"))
    assert proc.returncode == 0, proc.stderr
    frames = json.loads(proc.stdout)
    assert len(frames) == 6 and all(isinstance(f, str) and f for f in frames)
    assert json.loads((tmp_path / "s.json").read_text()) == frames


def test_direct_double_and_project(tmp_path):
    proc = run_cli("direct", CORGI, "--frames", "4", "--backend", "offline", "--double", "1", "--project")
    assert proc.returncode == 0, proc.stderr
    project = Project.from_json(proc.stdout)
    assert len(project.frames) == 8 and project.settings.fps == 8 and project.user_prompt == CORGI


def test_render_writes_a_video_and_a_reproducible_project(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing", "a red ball on the floor"]))
    out = tmp_path / "v.mp4"
    proj = tmp_path / "p.json"
    proc = run_cli("render", str(script), *FAST, "--seed", "-1", "--fps", "6", "--dsf", "0.2",
                   "--out", str(out), "--save-project", str(proj))
    assert proc.returncode == 0, proc.stderr
    assert "7/7" in proc.stderr  # the progress bar reached the end
    reader = imageio.get_reader(out, format="FFMPEG")
    assert reader.count_frames() == 3 and reader.get_meta_data()["fps"] == pytest.approx(6)
    reader.close()
    saved = Project.load(proj)
    assert saved.settings.seed >= 0 and saved.settings.dsf_quantile == 0.2 and saved.model == "tiny"
    assert f"seed {saved.settings.seed}" in proc.stderr
    # The video alone carries the same project (the seed actually used included).
    assert Project.load(out).to_json() == saved.to_json()
    # The saved project reproduces the same frames.
    out2 = tmp_path / "v2.zip"
    assert run_cli("render", str(proj), "--out", str(out2)).returncode == 0
    import zipfile

    names = zipfile.ZipFile(out2).namelist()
    assert names == ["frame_0000.png", "frame_0001.png", "frame_0002.png", "project.direct2v.json"]
    assert Project.load(out2).settings.seed == saved.settings.seed


@pytest.mark.parametrize("scheduler", ["lcm", "tcd"])
def test_few_step_schedulers_render(tmp_path, scheduler):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing"]))
    proc = run_cli("render", str(script), "--model", "tiny", "--scheduler", scheduler, "--steps", "4", "--guidance", "1",
                   "--width", "64", "--height", "64", "--out", str(tmp_path / "v.zip"), "--save-project", str(tmp_path / "p.json"))
    assert proc.returncode == 0, proc.stderr
    s = Project.load(tmp_path / "p.json").settings
    assert (s.scheduler, s.num_inference_steps, s.t0, s.t1, s.guidance_scale) == (scheduler, 4, 2, 3, 1.0)


def test_draft_renders_with_a_lora_folder_and_the_project_records_it(tmp_path):
    from direct2v.render.loading import tiny_components
    from test_render_draft import random_lora

    lora = random_lora(tiny_components()["unet"], tmp_path / "lcm")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing"]))
    proc = run_cli("render", str(script), *FAST, "--draft", "on", "--draft-lora", lora, "--out", str(tmp_path / "v.zip"),
                   "--save-project", str(tmp_path / "p.json"))
    assert proc.returncode == 0, proc.stderr
    assert "5/5" in proc.stderr  # LCM's 4 steps, t1=3 of 4: one step for frame 1, four joint steps
    s = Project.load(tmp_path / "p.json").settings
    assert s.draft and s.draft_lora == lora and s.num_inference_steps == 6  # the settings as set; the draft ran its preset
    missing = run_cli("render", str(script), *FAST, "--draft", "on", "--out", str(tmp_path / "w.zip"))
    assert missing.returncode == 3 and "latent-consistency/lcm-lora-sdv1-5" in one_line_error(missing)


def test_paper_preset_flag_is_applied():
    args = cli.build_parser().parse_args(["render", "s.json", "--preset", "paper", "--steps", "120"])
    s = cli.settings_from_args(args)
    # --steps alone scales the preset's t0/t1 (90/95 of 100) with it.
    assert (s.scheduler, s.t0, s.t1, s.guidance_scale, s.num_inference_steps) == ("pndm", 108, 114, 12.0, 120)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["render", "missing.json"], 2, "missing.json: no such file."),
        (["render", "{script}", "--width", "100"], 2, "width must be a multiple of 8 (got 100)."),
        (["render", "{script}", "--t0", "47", "--t1", "44"], 2, "t0 must be smaller than t1"),
        (["render", "{script}", "--dsf", "2"], 2, "DSF quantile p must be between 0.0 and 1.0"),
        (["render", "{script}", "--out", "x.avi"], 2, "--out must end in .mp4, .gif or .zip"),
        (["render", "{empty}", "--model", "tiny"], 2, "empty"),
        (["render", "{notjson}"], 2, "Not a valid project file"),
        (["render", "{script}", "--model", "/no/such/model/dir", "--out", "{tmp}/x.mp4"], 3, "/no/such/model/dir"),
        (["render", "{script}", "--mode", "bogus"], 2, "invalid choice: 'bogus'"),
        (["render", "{script}", "--scheduler", "lcm", "--steps", "60"], 2, "The lcm scheduler takes at most 50 steps"),
        # Not cached and the Hub offline: one line (diffusers' own "Couldn't connect" lines are
        # silenced), and the reason is whole, not cut mid-word.
        (["render", "{script}", "--model", "nobody-here/no-such-model", "--out", "{tmp}/x.mp4"], 3,
         "error: Could not load Stable Diffusion model 'nobody-here/no-such-model': it is not in the local cache "
         "and the Hub could not be reached. The Hub is set offline (HF_HUB_OFFLINE=1): unset it to download the model."),
        (["direct", "", "--backend", "offline"], 2, "prompt"),
        (["direct", CORGI, "--backend", "openai"], 4, "OPENAI_API_KEY"),
        (["direct", CORGI, "--frames", "0"], 2, "frames"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path, args, code, message):
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["a", "b"]))
    empty = tmp_path / "e.json"
    empty.write_text(json.dumps(["a", " "]))
    notjson = tmp_path / "n.json"
    notjson.write_text("[oops")
    args = [a.format(script=script, empty=empty, notjson=notjson, tmp=tmp_path) for a in args]
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    line = one_line_error(proc)
    assert message.lower() in line.lower()
    assert "Traceback" not in proc.stderr


def test_usage_names_the_command_the_user_typed():
    assert cli.program_name("/home/u/.venv/bin/direct2v") == "direct2v"
    assert cli.program_name("/repo/direct2v/__main__.py") == "python -m direct2v"
    code = "import sys; sys.argv[0] = '/venv/bin/direct2v'; from direct2v.cli import main; sys.exit(main())"
    proc = subprocess.run([sys.executable, "-c", code, "render"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and one_line_error(proc).startswith("direct2v render: error:"), proc.stderr


def test_progress_bar_redraws_on_a_terminal_and_logs_deciles_otherwise():
    import io
    from types import SimpleNamespace

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    bar_tty, bar_pipe = cli.ProgressBar(tty), cli.ProgressBar(pipe)
    for step in range(1, 21):
        info = SimpleNamespace(step=step, total=20, phase="joint", eta_s=1.0)
        bar_tty(info)
        bar_pipe(info)
    assert tty.getvalue().count("\r") == 20 and tty.getvalue().endswith("\n")
    assert len(pipe.getvalue().splitlines()) == 11  # 0%..100% in tenths
