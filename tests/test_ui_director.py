"""Page handlers and the director back ends: Re-direct all asks again, the fallback notice is
shown once, a visitor's sign-in token is used for Hugging Face inference only."""

from __future__ import annotations

from types import SimpleNamespace

from direct2v.director import local_backend
from direct2v.ui import direct
from direct2v.ui.table import table_prompts

try:  # works with or without a tests/__init__.py, under `pytest` or `python -m pytest`
    from director_helpers import ScriptedServer, frames_json, openai_reply
except ImportError:  # pragma: no cover
    from tests.director_helpers import ScriptedServer, frames_json, openai_reply

PROMPT = "A paper boat floats down a rainy street"


def test_redirect_all_asks_the_model_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path))
    with ScriptedServer([openai_reply(frames_json(3, "one")), openai_reply(frames_json(3, "two"))]) as srv:
        fields = dict(style="", camera="", backend="compatible", llm_model="m", base_url=srv.url + "/v1", api_key="")
        first, _, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        again, _, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        assert again == first and len(srv.requests) == 1  # Direct on the same request: the cache
        fresh, _, _ = direct.redirect_all(PROMPT, 3, 4, **fields)
    assert len(srv.requests) == 2 and table_prompts(fresh)[0] == "a red fox two 0"


def test_fallback_notice_is_shown_on_every_call_on_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local_backend.unload_all()
    fields = dict(style="", camera="", backend="local", llm_model=str(tmp_path / "not-downloaded"), base_url="", api_key="")
    try:
        _, notes, n = direct.direct_script(PROMPT, 3, 4, **fields)
        assert n == 3 and notes.startswith("ℹ️ using the built-in writer: the local model")
        _, notes_again, _ = direct.direct_script(PROMPT, 3, 4, **fields)
        assert "using the built-in writer" in notes_again and "choose the built-in writer" in notes_again
    finally:
        local_backend.unload_all()


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
