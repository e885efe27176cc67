"""app.py's flags and the page's structure (no server)."""

from __future__ import annotations


import pytest

import app
from direct2v.services import runtime
from direct2v.ui import build_ui


def test_defaults_are_local_and_private(monkeypatch):
    for var in ("SPACE_ID", "DIRECT2V_HOST", "GRADIO_SERVER_NAME", "DIRECT2V_MODEL", "DIRECT2V_PORT", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(var, raising=False)
    a = app.parse_args([])
    assert (a.host, a.port, a.share, a.model) == ("127.0.0.1", 7860, False, runtime.DEFAULT_MODEL)
    assert (a.queue_size, a.concurrency) == (16, 1)


def test_a_space_binds_all_interfaces(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/direct2v")
    monkeypatch.delenv("DIRECT2V_HOST", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert app.parse_args([]).host == "0.0.0.0"
    assert app.parse_args(["--host", "127.0.0.1"]).host == "127.0.0.1"


def test_flags_reach_the_queue_and_the_runtime():
    demo = app.build(app.parse_args(["--model", "tiny", "--queue-size", "3", "--concurrency", "2", "--no-preload"]))
    assert demo._queue.max_size == 3
    # Renders and comparisons start at once and wait in the page's own visible line, which
    # runs --concurrency at a time and holds at most --queue-size.
    gpu = [fn for fn in demo.fns.values() if fn.api_name in ("render", "compare")]
    assert len(gpu) == 2 and all(fn.concurrency_limit is None for fn in gpu)
    assert (runtime.RUNTIME.turns.slots, runtime.RUNTIME.turns.max_waiting) == (2, 3)
    assert runtime.RUNTIME.models.model == "tiny" and runtime.RUNTIME.clip_model == "tiny"


@pytest.mark.parametrize("bad", [["--queue-size", "0"], ["--concurrency", "0"], ["--port", "x"]])
def test_bad_flags_exit_with_usage(bad):
    with pytest.raises(SystemExit) as e:
        app.parse_args(bad)
    assert e.value.code == 2


def test_key_field_is_a_password_and_not_a_save_input():
    demo = build_ui()
    cfg = demo.get_config_file()
    comps = {c["id"]: c for c in cfg["components"]}
    key = [c for c in comps.values() if c.get("props", {}).get("elem_id") == "api-key"]
    assert key and key[0]["props"]["type"] == "password"
    save = [d for d in cfg["dependencies"] if d.get("api_name") == "save_project"]
    assert save and key[0]["id"] not in save[0]["inputs"]
