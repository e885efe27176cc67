"""`direct2v direct` without a key: the local model by default, stderr naming who wrote the script
(the built-in writer, and why, when the model cannot be loaded); fractional --fps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from direct2v.settings import Project

from tiny_chat import build_tiny_chat_model

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "Snow starts falling on a quiet village at night"


def run_direct(*args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", **env_extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for key in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "DIRECT2V_LOCAL_MODEL"):
        if key not in env_extra:
            env.pop(key, None)
    return subprocess.run([sys.executable, "-m", "direct2v", "direct", PROMPT, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_no_key_no_weights_announces_the_built_in_writer_on_stderr(tmp_path):
    proc = run_direct("--frames", "3", "--out", str(tmp_path / "s.json"))
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 3
    notices = [line for line in proc.stderr.splitlines() if "built-in writer" in line]
    assert len(notices) == 1
    assert notices[0].startswith("Written by the built-in writer (rule-based, no language model): "
                                 "The local model 'Qwen/Qwen3-4B-Instruct-2507' cannot be loaded "
                                 "(HF_HUB_OFFLINE is set and it is not in the Hugging Face cache)")
    assert "--llm-model PATH" in notices[0] and "DIRECT2V_LOCAL_MODEL" in notices[0]


def test_no_key_with_weights_uses_the_local_model(tmp_path):
    model = build_tiny_chat_model(tmp_path / "tiny-chat")
    proc = run_direct("--frames", "2", DIRECT2V_LOCAL_MODEL=model, DIRECT2V_CACHE_DIR=str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr
    frames = json.loads(proc.stdout)
    assert len(frames) == 2 and all(f.strip() for f in frames)
    assert "built-in writer" not in proc.stderr
    assert f"Written by the local model {model!r}" in proc.stderr  # who wrote it, every time


@pytest.mark.parametrize("fps", ["2.5", "0.5"])
def test_fractional_fps_is_accepted(fps):
    proc = run_direct("--frames", "4", "--fps", fps, "--backend", "offline", "--double", "1", "--project")
    assert proc.returncode == 0, proc.stderr
    project = Project.from_json(proc.stdout)
    assert len(project.frames) == 8 and project.settings.fps == max(1, round(2 * float(fps)))
