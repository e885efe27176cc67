"""Page handlers and the director back ends: Re-direct all asks again, the line under the table
names who wrote the script on every action, a visitor's sign-in token is used for Hugging Face
inference only."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from direct2v.director import local_backend
from direct2v.ui import direct
from direct2v.ui.table import table_prompts

from director_helpers import ScriptedServer, frames_json, openai_reply

# The scripted answers are about a red fox: a prompt about one, so the gate's content rules pass them.
PROMPT = "A red fox trots down a rainy street"


def test_redirect_all_asks_the_model_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path))
    with ScriptedServer([openai_reply(frames_json(3, "one")), openai_reply(frames_json(3, "two"))]) as srv:
        fields = dict(style="", camera="", backend="compatible", llm_model="m", base_url=srv.url + "/v1", api_key="")
        first, _, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        again, _, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        assert again == first and len(srv.requests) == 1  # Direct on the same request: the cache
        fresh, _, _ = direct.redirect_all(PROMPT, 3, 4, **fields)
    assert len(srv.requests) == 2 and table_prompts(fresh)[0] == "a red fox two 0"


def test_every_director_action_names_the_built_in_writer_when_the_local_model_cannot_load(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local_backend.unload_all()
    missing = str(tmp_path / "not-downloaded")
    fields = dict(style="", camera="", backend="local", llm_model=missing, base_url="", api_key="")
    author = "✍️ Written by the built-in writer (rule-based, no language model): The local model"
    try:
        assert direct.chooser_after("local", missing) == gr.update()  # not tried yet: left alone
        table, notes, n = direct.direct_script(PROMPT, 3, 4, **fields)
        assert n == 3 and notes.startswith(author) and "not-downloaded" in notes.splitlines()[0]
        assert "choose the built-in writer" in notes.splitlines()[0]  # and how to get the model
        # Every later action says it again: another visitor's Direct, a re-direct, x2.
        _, again, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        _, row = direct.redirect_row(table, 2, PROMPT, 4, **fields)
        _, doubled, _, _ = direct.double_frame_rate(table, PROMPT, 4, **fields)
        assert all(line.startswith(author) for line in (again, row, doubled))
        # The page then shows the writer that stood in, in the chooser itself.
        assert direct.chooser_after("local", missing) == gr.update(value="offline")
        assert direct.chooser_after("openai", "") == gr.update()
    finally:
        local_backend.unload_all()


def test_a_redirect_that_brings_back_the_same_script_says_so():
    fields = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")
    table, notes, _ = direct.direct_script(PROMPT, 3, 4, **fields)
    assert notes.startswith("✍️ Written by the built-in writer") and "same script" not in notes
    _, again, _ = direct.redirect_all(PROMPT, 3, 4, table=table, **fields)
    assert "The built-in writer returned the same script" in again and "Replaced" not in again


def test_a_row_redirect_that_brings_back_the_same_row_says_so(monkeypatch):
    from direct2v.director.result import Authorship, DirectorResult
    from direct2v.ui.table import make_table

    class SameRow:  # the built-in writer, answering with the row as it is
        def redirect_frame(self, frames, index, **kw):
            how = Authorship(backend="offline", author="the built-in writer (rule-based, no language model)")
            return DirectorResult(frames, how, index=index)

    monkeypatch.setattr(direct, "make_director_for", lambda *a, **k: SameRow())
    fields = dict(style="", camera="", backend="offline", llm_model="", base_url="", api_key="")
    table = make_table(["a fox asleep in snow", "a fox waking in snow", "a fox running in snow"])
    out, notes = direct.redirect_row(table, 2, PROMPT, 4, **fields)
    assert table_prompts(out) == table_prompts(table)
    assert "Row 2 came back the same as it was" in notes and "re-directed" not in notes
    assert notes.startswith("✍️ Written by the built-in writer")


def test_sign_in_token_goes_to_hugging_face_inference_only(monkeypatch):
    seen = []

    def record(options, api_key):
        seen.append((options.backend, api_key))
        return SimpleNamespace(backend=options.backend, direct=lambda *a, **k: ["a", "b"])

    monkeypatch.setattr(direct, "make_director_for", record)
    visitor = SimpleNamespace(token="visitor-oauth-token")
    base = dict(style="", camera="", llm_model="", base_url="", api_key="")
    direct.direct_script(PROMPT, 2, 4, **{**base, "backend": "huggingface"}, oauth_token=visitor)
    direct.direct_script(PROMPT, 2, 4, **{**base, "backend": "openai"}, oauth_token=visitor)
    direct.direct_script(PROMPT, 2, 4, **{**base, "backend": "huggingface", "api_key": "typed"}, oauth_token=visitor)
    assert seen == [("huggingface", "visitor-oauth-token"), ("openai", None), ("huggingface", "typed")]
