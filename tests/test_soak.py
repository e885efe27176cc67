"""Soak: a long-running Space must not fill its disk or leak memory.

Thirty renders in a row through the API on the tiny model, with director requests running
alongside and every fifth render cancelled part-way by its own session. Every request must
be answered, the files the page writes must stay bounded by its store (four renders kept
here), and the server's memory after the run must stay within MEMORY_MARGIN_MIB of its
memory after the first render.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from gradio_client import Client

from conftest import running_app

pytestmark = pytest.mark.slow

RENDERS = 30
KEEP = 4  # render folders the store keeps (DIRECT2V_KEEP_RENDERS)
# Torch's allocator, Gradio's per-event bookkeeping and the first renders' one-off warm-up
# settle after a few renders; growth beyond this over 29 more renders would be a leak
# (about 5 MiB per render, which a leaked set of frames or previews exceeds).
MEMORY_MARGIN_MIB = 48
SMALL = dict(width=64, height=64, num_inference_steps=4, t0=1, t1=2, seed=5)
CORGI = "A corgi is running, and another corgi joins later"
DIRECTOR = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")


def table(rows):
    return {"headers": ["Frame prompt", "Tokens"], "data": [[r, ""] for r in rows]}


def files_under(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


@pytest.fixture(scope="module")
def soak_app(tmp_path_factory):
    with running_app(
        tmp_path_factory.mktemp("soak"), "--preview-every", "1", "--queue-size", "64", DIRECT2V_KEEP_RENDERS=str(KEEP)
    ) as a:
        yield a


def test_thirty_renders_with_directs_and_cancels_stay_bounded(soak_app):
    server = psutil.Process(soak_app.proc.pid)
    # Generous HTTP timeouts: "answered" means answered, however slow a shared CI machine is.
    opts = dict(verbose=False, download_files=False, httpx_kwargs={"timeout": 120})
    renderer = Client(soak_app.url, **opts)
    canceller = Client(soak_app.url, **opts)  # a session of its own
    director = Client(soak_app.url, **opts)
    rows = ["a red ball on grass", "a red ball rolling on grass"]
    directs, outcomes, files, first_rss = [], [], [], None
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i in range(RENDERS):
            # Two director requests run while this render does.
            directs += [
                pool.submit(director.predict, user_prompt=f"{CORGI}, take {i}", num_frames=2 + k, fps=4, **DIRECTOR, api_name="/direct")
                for k in range(2)
            ]
            if i % 5 == 4:
                job = canceller.submit(
                    table=table(rows), num_frames=2, fps=4, **{**SMALL, "num_inference_steps": 200, "t0": 150, "t1": 190},
                    api_name="/render",
                )
                for update in job:
                    if "step" in str(update[-1]):
                        break
                assert canceller.predict(api_name="/cancel").startswith("Cancelling")
                outcomes.append(job.result(timeout=300)[-1])
                assert "Cancelled at step" in outcomes[-1], outcomes[-1]
            else:
                outcomes.append(renderer.predict(table=table(rows), num_frames=2, fps=4, **SMALL, api_name="/render")[-1])
                assert outcomes[-1].startswith("✓ Done: 2 frames"), outcomes[-1]
            if first_rss is None:
                first_rss = server.memory_info().rss
            files.append(files_under(soak_app.temp))
        answers = [f.result(timeout=300) for f in directs]
    last_rss = server.memory_info().rss

    # Every request answered.
    assert len(outcomes) == RENDERS and len(answers) == 2 * RENDERS
    assert [a[2] for a in answers] == [2 + k for _ in range(RENDERS) for k in range(2)]
    # The store keeps KEEP renders; the files stop growing once it is full.
    assert len(list((soak_app.temp / "direct2v" / "render").iterdir())) == KEEP
    one_render = files[0][0]
    assert max(n for n, _ in files) <= (KEEP + 1) * one_render, files
    assert files[-1][0] <= files[2 * KEEP][0] + one_render, files
    # Memory after the run is within the margin of memory after the first render.
    grown = (last_rss - first_rss) / 2**20
    print(f"\nserver RSS after render 1: {first_rss / 2**20:.1f} MiB, after {RENDERS}: {last_rss / 2**20:.1f} MiB "
          f"(+{grown:.1f} MiB); files after each render: {[n for n, _ in files]}")
    assert grown <= MEMORY_MARGIN_MIB, f"server memory grew {grown:.1f} MiB over {RENDERS} renders"
