"""The Gemini back end, through the real `google-genai` SDK, against a loopback REST endpoint."""

from __future__ import annotations

from functools import partial

import pytest

from direct2v.director import (
    DirectorAuthError, DirectorConfigError, DirectorFormatError,
    DirectorRateLimitError, DirectorRefusalError, DirectorServerError, make_director,
)
from director_helpers import ScriptedServer, direct_once, director_at, frames_json, gemini_error, gemini_reply

KEY = "AIza-test-SECRET-0987654321"
PROMPT = "A thunderstorm developing over a sea"


director = partial(director_at, "gemini", model="gemini-test", key=KEY)


def test_good_answer_with_json_schema_and_system_instruction(tmp_path):
    req = direct_once(director, tmp_path, gemini_reply(frames_json(4)), PROMPT, fps=4)
    assert req["path"].endswith("/models/gemini-test:generateContent")
    assert req["headers"]["x-goog-api-key"] == KEY
    body = req["body"]
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert "frames" in str(body["generationConfig"].get("responseSchema"))
    assert "director" in body["systemInstruction"]["parts"][0]["text"]
    assert PROMPT in body["contents"][0]["parts"][0]["text"]


def test_wrong_count_retry_and_double_fps_roles(tmp_path):
    replies = [gemini_reply(frames_json(2)), gemini_reply(frames_json(3)), gemini_reply(frames_json(6))]
    with ScriptedServer(replies) as srv:
        d = director(srv.url, tmp_path)
        assert len(d.direct(PROMPT, num_frames=3)) == 3
        assert len(d.double_fps()) == 6
    assert "2 frames instead of 3" in srv.requests[1]["body"]["contents"][-1]["parts"][0]["text"]
    roles = [c["role"] for c in srv.requests[2]["body"]["contents"]]
    assert roles == ["user", "model", "user"]


def test_safety_block_is_a_refusal(tmp_path):
    with ScriptedServer([gemini_reply("", finish_reason="SAFETY")]) as srv:
        with pytest.raises(DirectorRefusalError, match="SAFETY"):
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)


def test_bad_key_400_api_key_invalid(tmp_path):
    with ScriptedServer([gemini_error(400, f"API key not valid. Please pass a valid API key. {KEY}", "INVALID_ARGUMENT")]) as srv:
        with pytest.raises(DirectorAuthError) as info:
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1 and KEY not in str(info.value)


def test_rate_limit_then_success_and_persistent_5xx(tmp_path):
    with ScriptedServer([gemini_error(429, "Resource exhausted", "RESOURCE_EXHAUSTED"), gemini_reply(frames_json(2))]) as srv:
        assert len(director(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    assert len(srv.requests) == 2
    with ScriptedServer([gemini_error(429, "Resource exhausted", "RESOURCE_EXHAUSTED")]) as srv:
        with pytest.raises(DirectorRateLimitError):
            director(srv.url, tmp_path, max_retries=1).direct(PROMPT, num_frames=2)
    with ScriptedServer([gemini_error(503, "overloaded", "UNAVAILABLE")]) as srv:
        with pytest.raises(DirectorServerError, match="503"):
            director(srv.url, tmp_path, max_retries=2).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 3


def test_malformed_then_error_and_cache(tmp_path):
    with ScriptedServer([gemini_reply("not json at all")]) as srv:
        with pytest.raises(DirectorFormatError):
            director(srv.url, tmp_path, max_format_retries=1).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 2
    with ScriptedServer([gemini_reply(frames_json(2))]) as srv:
        director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
        director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1


def test_key_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(DirectorConfigError, match="GEMINI_API_KEY"):
        make_director("gemini", cache_dir=tmp_path)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert make_director("gemini", cache_dir=tmp_path).model == "gemini-2.5-flash"


def test_response_schemas_are_prompts_schemas_in_gemini_form(tmp_path):
    """The script's schema asks for the beats before the frames; a rewrite's for one frame string."""
    replies = [gemini_reply(frames_json(3)), gemini_reply('{"frame": "a new frame two"}')]
    with ScriptedServer(replies) as srv:
        d = director(srv.url, tmp_path)
        frames = d.direct(PROMPT, num_frames=3)
        d.redirect_frame(list(frames), 1)
    script, row = (r["body"]["generationConfig"]["responseSchema"] for r in srv.requests)
    # The SDK sends the proto field's own name; the API's JSON reads it or its camel-case form.
    assert (script.pop("property_ordering", None) or script.pop("propertyOrdering")) == ["beats", "frames"]
    strings = {"type": "ARRAY", "items": {"type": "STRING"}}
    assert script == {"type": "OBJECT", "properties": {"beats": strings, "frames": strings}, "required": ["beats", "frames"]}
    assert row == {"type": "OBJECT", "properties": {"frame": {"type": "STRING"}}, "required": ["frame"]}
