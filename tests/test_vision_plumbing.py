"""The start picture on its way to the director (issue 17): `direct2v direct --image` and the
page's Direct send it, say whether the model saw it, and `--project` records it for render."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from direct2v.cli import main
from direct2v.director.vision import MAX_SIDE
from direct2v.settings import Project, start_image_ref
from direct2v.ui import direct

try:  # works with or without a tests/__init__.py, under `pytest` or `python -m pytest`
    from director_helpers import ScriptedServer, frames_json, openai_error, openai_reply
except ImportError:  # pragma: no cover
    from tests.director_helpers import ScriptedServer, frames_json, openai_error, openai_reply

MOTION = "it starts to run across the field"


@pytest.fixture
def dog_png(tmp_path):
    pixels = (np.random.default_rng(3).random((500, 1000, 3)) * 255).astype(np.uint8)
    path = tmp_path / "dog.png"
    Image.fromarray(pixels).save(path)
    return path


def sent_picture(request: dict) -> Image.Image:
    part = request["body"]["messages"][1]["content"][0]
    assert part["type"] == "image_url"
    data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    return Image.open(io.BytesIO(data))


def test_cli_direct_sends_the_picture_and_the_project_records_it(tmp_path, dog_png, capsys, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "p.json"
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        code = main(["direct", MOTION, "--frames", "4", "--backend", "openai", "--base-url", srv.url + "/v1",
                     "--llm-model", "m", "--image", str(dog_png), "--project", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sent_picture(srv.requests[0]).size == (MAX_SIDE, MAX_SIDE // 2)
    assert "got the picture (768x384, scaled from 1000x500) with the task, as frame 1." in captured.err
    project = Project.load(out)
    assert project.start_image == start_image_ref(dog_png) and len(project.frames) == 4


def test_cli_direct_refused_picture_is_said_on_stderr(tmp_path, dog_png, capsys, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path / "cache"))
    refusal = openai_error(400, "Invalid content type. image_url is only supported by certain models.")
    with ScriptedServer([refusal, openai_reply(frames_json(4))]) as srv:
        code = main(["direct", MOTION, "--frames", "4", "--backend", "openai", "--base-url", srv.url + "/v1",
                     "--llm-model", "m", "--image", str(dog_png)])
    captured = capsys.readouterr()
    assert code == 0 and len(json.loads(captured.out)) == 4
    assert "does not accept pictures (400: Invalid content type." in captured.err
    assert "The script was written from your prompt alone" in captured.err


def test_cli_direct_offline_says_the_picture_was_ignored(dog_png, capsys):
    assert main(["direct", "a brown dog starts to run", "--frames", "3", "--backend", "offline", "--image", str(dog_png)]) == 0
    err = capsys.readouterr().err
    assert "The picture was not sent: the offline director reads text only" in err


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "missing.png", "does not exist"),
    (lambda p: (p / "broken.png").write_bytes(b"not a picture") and p / "broken.png", "(?i)cannot|not an image|unreadable"),
])
def test_cli_direct_bad_picture_exits_2_with_one_line(tmp_path, capsys, make, message):
    import re

    path = make(tmp_path)
    assert main(["direct", MOTION, "--frames", "3", "--backend", "offline", "--image", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and re.search(message, err), err


def test_page_direct_sends_the_start_box_picture_and_notes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path))
    picture = (np.random.default_rng(4).random((300, 200, 3)) * 255).astype(np.uint8)  # as gr.Image(type="numpy") gives
    with ScriptedServer([openai_reply(frames_json(3, "one")), openai_reply(frames_json(3, "two"))]) as srv:
        fields = dict(style="", camera="", backend="compatible", llm_model="m", base_url=srv.url + "/v1", api_key="")
        _, notes, n = direct.direct_script(MOTION, 3, 4, start_image=picture, **fields)
        _, notes_all, _ = direct.redirect_all(MOTION, 3, 4, start_image=picture, **fields)
        _, plain_notes, _ = direct.direct_script(MOTION, 3, 4, **fields)
    assert n == 3 and len(srv.requests) == 3
    assert sent_picture(srv.requests[0]).size == (200, 300) and sent_picture(srv.requests[1]).size == (200, 300)
    assert isinstance(srv.requests[2]["body"]["messages"][1]["content"], str)  # no picture in the box: text only
    assert notes.startswith(f"✍️ Written by the OpenAI-compatible server's model 'm' at {srv.url}/v1.\n\n")
    assert "\n\nℹ️ The OpenAI-compatible server's model 'm'" in notes and "got the picture (200x300)" in notes
    assert "got the picture" in notes_all and "picture" not in plain_notes


def test_page_direct_offline_warns_that_the_picture_was_ignored(monkeypatch):
    warned = []
    monkeypatch.setattr(direct.gr, "Warning", lambda message, *a, **k: warned.append(message))
    fields = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")
    picture = np.zeros((32, 32, 3), np.uint8)
    _, notes, _ = direct.direct_script("a brown dog starts to run", 3, 4, start_image=picture, **fields)
    assert notes.startswith("✍️ Written by the built-in writer")
    assert "\n\nℹ️ The picture was not sent: the offline director reads text only" in notes
    assert warned == ["The picture was not sent: the offline director reads text only, so the script follows your prompt alone."]
