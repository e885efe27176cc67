"""The Hugging Face back end, through the real `huggingface_hub.InferenceClient`, against a
scripted chat-completion server on 127.0.0.1."""

from __future__ import annotations

from functools import partial

import pytest

from direct2v.director import (
    DirectorAuthError, DirectorConfigError, DirectorFormatError, DirectorQuotaError, DirectorRateLimitError,
    DirectorServerError, make_director,
)

from director_helpers import ScriptedServer, direct_once, director_at, frames_json, openai_error, openai_reply

TOKEN = "test-hf-token-not-real"
PROMPT = "A paper boat floats down a rainy street and disappears into a drain"


def sent_schema(body: dict) -> dict:
    """The schema as sent: InferenceClient rewrites OpenAI's json_schema form into TGI's
    {"type": "json_object", "value": schema} for a URL or the hf-inference provider."""
    rf = body["response_format"]
    return rf["json_schema"]["schema"] if "json_schema" in rf else rf["value"]


@pytest.fixture(autouse=True)
def _online(hub_online):
    """Every test here talks to 127.0.0.1 through huggingface_hub (see conftest.hub_online)."""


director = partial(director_at, "huggingface", model="test/chat-model", key=TOKEN)


def test_answer_with_the_exact_schema_and_the_token(tmp_path):
    request = direct_once(director, tmp_path, openai_reply(frames_json(4)), PROMPT, fps=2)
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    body = request["body"]
    assert body["model"] == "test/chat-model" and PROMPT in body["messages"][1]["content"]
    schema = sent_schema(body)["properties"]["frames"]
    assert schema["minItems"] == schema["maxItems"] == 4 and schema["items"]["pattern"].startswith("^[A-Za-z0-9")


def test_401_is_an_auth_error_and_never_shows_the_token(tmp_path):
    with ScriptedServer([openai_error(401, f"Invalid credentials in Authorization header {TOKEN}")]) as srv:
        with pytest.raises(DirectorAuthError, match="401") as info:
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1 and TOKEN not in str(info.value)


@pytest.mark.parametrize("status,message", [(402, "You have exceeded your monthly included credits")])
def test_402_no_credits_is_quota_and_not_retried(tmp_path, status, message):
    with ScriptedServer([openai_error(status, message)]) as srv:
        with pytest.raises(DirectorQuotaError, match="no inference credits left"):
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1


def test_429_is_retried_after_the_servers_delay(tmp_path):
    sleeps: list[float] = []
    with ScriptedServer([openai_error(429, "rate limited", **{"retry-after": "3"}), openai_reply(frames_json(2))]) as srv:
        assert len(director(srv.url, tmp_path, sleep=sleeps.append).direct(PROMPT, num_frames=2)) == 2
    assert len(srv.requests) == 2 and sleeps == [3.0]
    with ScriptedServer([openai_error(429, "rate limited")]) as srv:
        with pytest.raises(DirectorRateLimitError, match="429"):
            director(srv.url, tmp_path, sleep=lambda s: None, max_retries=1).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 2


def test_5xx_retried_then_reported(tmp_path):
    with ScriptedServer([openai_error(503, "loading"), openai_reply(frames_json(2))]) as srv:
        assert len(director(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    with ScriptedServer([openai_error(500, "boom")]) as srv:
        with pytest.raises(DirectorServerError, match=r"server error \(500\)"):
            director(srv.url, tmp_path, max_retries=2).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 3


def test_model_without_schema_support_steps_down_to_plain_text(tmp_path):
    replies = [
        openai_error(400, "Grammar/JSON schema with 'pattern' is not supported by this model"),
        openai_error(422, "response_format json_schema is not supported"),
        openai_reply(frames_json(2)),
        openai_reply(frames_json(4)),
    ]
    with ScriptedServer(replies) as srv:
        d = director(srv.url, tmp_path)
        assert len(d.direct(PROMPT, num_frames=2)) == 2
        assert len(d.double_fps()) == 4
    bodies = [r["body"] for r in srv.requests]
    assert "minItems" in sent_schema(bodies[0])["properties"]["frames"]  # exact
    assert "minItems" not in sent_schema(bodies[1])["properties"]["frames"]  # loose
    assert bodies[2].get("response_format") is None and bodies[3].get("response_format") is None  # plain, for good


def test_cut_off_answer_is_reported_as_such_and_retried_with_a_larger_budget(tmp_path):
    cut = openai_reply('{"frames": ["a red fox', finish_reason="length")
    cut.body["usage"]["completion_tokens"] = 300
    with ScriptedServer([cut, openai_reply(frames_json(2))]) as srv:
        assert len(director(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    assert srv.requests[0]["body"].get("max_tokens") is None  # first: the server's default
    assert srv.requests[1]["body"]["max_tokens"] == 600
    assert "cut off at the output-token limit" in srv.requests[1]["body"]["messages"][-1]["content"]
    with ScriptedServer([cut]) as srv:
        with pytest.raises(DirectorFormatError, match="cut off at the output-token limit") as info:
            director(srv.url, tmp_path, max_format_retries=1).direct(PROMPT, num_frames=3)
    assert "not JSON" not in str(info.value) and "not a JSON" not in str(info.value)


def test_token_sources(monkeypatch, tmp_path):
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no saved login either
    with pytest.raises(DirectorConfigError, match="No Hugging Face token: sign in"):
        make_director("huggingface", cache_dir=tmp_path)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    d = make_director("huggingface", cache_dir=tmp_path)
    assert d._key == TOKEN and d.model == "meta-llama/Llama-3.3-70B-Instruct"
    assert make_director("huggingface", api_key="typed-or-oauth", cache_dir=tmp_path)._key == "typed-or-oauth"
    assert TOKEN not in repr(d)


def test_hub_offline_mode_is_named_and_points_own_servers_to_the_openai_back_end(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with ScriptedServer([openai_reply(frames_json(2))]) as srv:
        with pytest.raises(DirectorConfigError, match="HF_HUB_OFFLINE is set") as info:
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert srv.requests == []  # refused before sending, and not retried
    assert "OpenAI-compatible back end" in str(info.value) and TOKEN not in str(info.value)
