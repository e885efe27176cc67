"""Shared fixtures: a running app on the tiny model (for the API and browser tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Small renders so the page's tests take seconds on a CPU.
FAST = dict(width=64, height=64, num_inference_steps=6, t0=2, t1=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"app did not start in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_app(tmp: Path, *args: str, **env_changes: str):
    """`python app.py --model tiny ...` on a free loopback port, as a user would start it."""
    log = tmp / "app.log"
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "DIRECT2V_CACHE_DIR": str(tmp / "cache"),
        "GRADIO_TEMP_DIR": str(tmp / "gradio"),
        "TRANSFORMERS_VERBOSITY": "error",
        **env_changes,
    }
    for key in ("SPACE_ID", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        if key not in env_changes:  # a test may play a Space with the owner's keys on purpose
            env.pop(key, None)
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--model", "tiny", "--port", str(port), *args],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, log)
        yield SimpleNamespace(url=url, log=log, proc=proc, temp=tmp / "gradio")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app"), "--preview-every", "1") as a:
        yield a


@pytest.fixture(scope="session")
def app_url(app):
    return app.url


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture
def hub_online(monkeypatch):
    """huggingface_hub refuses every request, loopback included, while HF_HUB_OFFLINE is set
    (CI sets it); tests that talk to a scripted server on 127.0.0.1 through it lift that."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def gen(seed: int = 0):
    """A CPU generator at `seed`: the render tests' reproducible noise."""
    import torch

    return torch.Generator("cpu").manual_seed(seed)


@pytest.fixture(scope="module")
def components():
    """Tiny random SD 1.5 components, one set per test module; a module overrides this fixture
    for other components (test_render_sdxl.py: tiny SDXL ones)."""
    from direct2v.render.loading import tiny_components

    return tiny_components()


@pytest.fixture(scope="module")
def pipe(components):
    """The DirecT2V pipeline of the module's `components` (SDXL components: the SDXL pipeline),
    progress bar off."""
    from direct2v.render.pipeline import DirecT2VPipeline
    from direct2v.render.sdxl import DirecT2VSDXLPipeline

    cls = DirecT2VSDXLPipeline if "text_encoder_2" in components else DirecT2VPipeline
    p = cls(**components)
    p.set_progress_bar_config(disable=True)
    return p


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module (`pytestmark = pytest.mark.usefixtures(...)`), restored
    afterwards. Tiny models are all overhead: on a busy 2-core runner two threads spin against
    each other and make such tests ten times slower; launched processes run with
    OMP_NUM_THREADS=1, and the same here keeps float sums in the same order as theirs."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
