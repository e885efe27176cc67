"""The page's API through gradio_client, against `python app.py --model tiny` on loopback."""

from __future__ import annotations

import json

import imageio.v2 as imageio
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from conftest import FAST

CORGI = "A corgi is running, and another corgi joins later"
DIRECTOR = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def as_table(rows):
    return {"headers": ["Frame prompt", "Tokens"], "data": [[r, ""] for r in rows]}


def test_api_lists_the_named_endpoints(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/direct", "/render", "/double_fps", "/save_project", "/load_project", "/cancel"} <= names


def test_direct_then_render_then_download(client, tmp_path):
    table, notes, n = client.predict(user_prompt=CORGI, num_frames=4, fps=4, **DIRECTOR, api_name="/direct")
    rows = [r[0] for r in table["data"]]
    assert n == 4 and len(rows) == 4 and notes.startswith("✍️ Written by the built-in writer") and "4 frames." in notes

    job = client.submit(table=table, num_frames=4, fps=4, seed=-1, **FAST, api_name="/render")
    updates = list(job)
    gallery, video, downloads, used_seed, status = job.result()
    assert any("step" in u[-1] for u in updates)  # progress streamed
    assert len(gallery) == 4
    assert status.startswith("✓ Done: 4 frames") and f"seed {int(used_seed)}" in status
    path = video["video"] if isinstance(video, dict) else video
    reader = imageio.get_reader(path, format="FFMPEG")
    assert reader.count_frames() == 4
    reader.close()
    assert sorted(str(d).rsplit(".", 1)[1] for d in downloads) == ["gif", "mp4", "zip"]


def test_double_fps_endpoint(client):
    table, _, n, fps = client.predict(
        table=as_table(["a corgi sits", "a corgi stands", "a corgi runs"]), user_prompt=CORGI, fps=4,
        **DIRECTOR, api_name="/double_fps",
    )
    assert n == 6 and fps == 8 and len(table["data"]) == 6


def test_save_and_load_project_through_the_api(client, tmp_path):
    path = client.predict(
        user_prompt=CORGI, table=as_table(["a", "b", "c"]), fps=6, style="ink", camera="static",
        backend="offline", llm_model="", base_url="", seed=99, dsf_quantile=0.4, api_name="/save_project",
    )
    data = json.loads(open(path, encoding="utf-8").read())
    assert data["frames"] == ["a", "b", "c"] and data["settings"]["seed"] == 99 and data["settings"]["fps"] == 6
    out = client.predict(path=handle_file(path), api_name="/load_project")
    assert out[0] == CORGI and [r[0] for r in out[1]["data"]] == ["a", "b", "c"] and out[4] == 6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(table=as_table(["a", ""]), num_frames=2), "Frame 2 is empty"),
        (dict(table=as_table(["a", "b", "c"]), num_frames=2), "The table has 3 rows but Frames is set to 2"),
        (dict(table=as_table(["a", "b"]), num_frames=2, t0=3, t1=2), "t0 must be smaller than t1"),
        (dict(table=as_table(["a", "b"]), num_frames=2, width=100), "width must be a multiple of 8"),
        (dict(table=as_table(["a", "b"]), num_frames=2, width=5000), "5000"),  # beyond the slider
        (dict(table=as_table(["a", "b"]), num_frames=2, dsf_quantile=3), "3"),
        (dict(table=as_table(["a", "b"]), num_frames=2, num_inference_steps=6, t1=10), "t1"),
    ],
)
def test_bad_render_input_is_a_message_and_the_app_keeps_serving(client, kwargs, message):
    merged = {**{"fps": 4}, **FAST, **kwargs}
    with pytest.raises(AppError, match=message):
        client.predict(**merged, api_name="/render")
    # Still serving.
    table, _, n = client.predict(user_prompt="a cat", num_frames=2, fps=4, **DIRECTOR, api_name="/direct")
    assert n == 2


def test_director_errors_are_messages_without_the_key(client, app):
    secret = "sk-FAKE-never-show-1"
    with pytest.raises(AppError) as e:
        client.predict(
            user_prompt=CORGI, num_frames=4, fps=4, style="", camera="", backend="compatible", llm_model="m",
            base_url="http://127.0.0.1:9/v1", api_key=secret, api_name="/direct",
        )
    assert secret not in str(e.value) and len(str(e.value)) > 10
    with pytest.raises(AppError, match="Type a prompt first"):
        client.predict(user_prompt="", num_frames=4, fps=4, **DIRECTOR, api_name="/direct")
    assert secret not in app.log.read_text()


def test_cancel_stops_a_render_through_the_api(app_url):
    # A session of its own: cancel applies to the session that started the render.
    c = Client(app_url, verbose=False)
    job = c.submit(
        table=as_table(["a", "b", "c", "d"]), num_frames=4, fps=4, seed=1,
        **{**FAST, "num_inference_steps": 200, "t0": 150, "t1": 190}, api_name="/render",
    )
    for update in job:
        if "step 3 of" in update[-1]:
            break
    # The cancel endpoint needs the same session; gradio_client shares one session hash per Client.
    assert c.predict(api_name="/cancel").startswith("Cancelling")
    final = job.result()
    assert "Cancelled at step" in final[-1]
