"""Back-end defects of issue 11, section 4, each pinned by a test that failed before the fix
(key routing is in test_director_routing.py)."""

from __future__ import annotations

from functools import partial

import pytest

from direct2v.director import (
    DirectorFormatError, DirectorQuotaError, DirectorRateLimitError, make_director,
)

from director_helpers import Reply, ScriptedServer, director_at, frames_json, gemini_error, gemini_reply, openai_error, openai_reply

KEY = "test-key-not-real-42"
PROMPT = "A chef flips a pancake, it lands on the floor, and a dog eats it"


openai_at = partial(director_at, "openai", model="m", key=KEY)
gemini_at = partial(director_at, "gemini", model="g", key=KEY)


# ---------------------------------------------------------------- re-direct all asks again
def test_explicit_redirect_sends_a_request_while_repeats_hit_the_cache(tmp_path):
    with ScriptedServer([openai_reply(frames_json(3, "first")), openai_reply(frames_json(3, "second"))]) as srv:
        d = openai_at(srv.url, tmp_path)
        first = d.direct(PROMPT, num_frames=3)
        assert d.direct(PROMPT, num_frames=3) == first and len(srv.requests) == 1  # a plain repeat
        fresh = d.direct(PROMPT, num_frames=3, fresh=True)  # "Re-direct all"
        assert len(srv.requests) == 2 and fresh[0] == "a red fox second 0"
        assert openai_at(srv.url, tmp_path).direct(PROMPT, num_frames=3) == fresh  # the new answer is cached
    assert len(srv.requests) == 2


# ---------------------------------------------------------------- only a schema 400 turns structured output off
def test_schema_400_still_falls_back_to_plain_text(tmp_path):
    replies = [openai_error(400, "This model does not support response_format of type json_schema"),
               openai_reply(frames_json(2))]
    with ScriptedServer(replies) as srv:
        assert len(openai_at(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    assert "response_format" in srv.requests[0]["body"] and "response_format" not in srv.requests[1]["body"]


# ---------------------------------------------------------------- cut-offs are reported as cut-offs
def test_openai_length_cut_off_retried_with_twice_the_budget(tmp_path):
    cut = openai_reply('{"frames": ["a red fox frame 0", "a red', finish_reason="length")
    cut.body["usage"]["completion_tokens"] = 700
    with ScriptedServer([cut, openai_reply(frames_json(2))]) as srv:
        assert len(openai_at(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    assert "max_tokens" not in srv.requests[0]["body"]
    assert srv.requests[1]["body"]["max_tokens"] == 1400  # a compatible server: max_tokens
    assert "cut off at the output-token limit (700 tokens)" in srv.requests[1]["body"]["messages"][-1]["content"]
    with ScriptedServer([cut]) as srv:
        with pytest.raises(DirectorFormatError, match=r"cut off at the output-token limit \(1400 tokens\)"):
            openai_at(srv.url, tmp_path, max_format_retries=1).direct(PROMPT, num_frames=2)


def test_gemini_max_tokens_cut_off_retried_with_a_larger_budget(tmp_path):
    cut = gemini_reply('{"frames": ["a red', finish_reason="MAX_TOKENS")
    cut.body["usageMetadata"] = {"candidatesTokenCount": 100, "thoughtsTokenCount": 412}
    with ScriptedServer([cut, gemini_reply(frames_json(2))]) as srv:
        assert len(gemini_at(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    assert "maxOutputTokens" not in srv.requests[0]["body"].get("generationConfig", {})
    assert srv.requests[1]["body"]["generationConfig"]["maxOutputTokens"] == 1024
    assert "cut off at the output-token limit" in srv.requests[1]["body"]["contents"][-1]["parts"][0]["text"]


# ---------------------------------------------------------------- Gemini quota and retry delay
def _gemini_429(quota_id: str, value: str = "50", delay: str | None = "7s") -> Reply:
    details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                "quotaId": quota_id, "quotaValue": value}]}]
    if delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
    reply = gemini_error(429, "You exceeded your current quota, please check your plan and billing details.",
                         "RESOURCE_EXHAUSTED")
    reply.body["error"]["details"] = details
    return reply


def test_gemini_daily_quota_is_a_quota_error_without_the_words_per_day(tmp_path):
    with ScriptedServer([_gemini_429("GenerateRequestsPerDayPerProjectPerModel-FreeTier")]) as srv:
        with pytest.raises(DirectorQuotaError, match="GenerateRequestsPerDayPerProjectPerModel-FreeTier"):
            gemini_at(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1  # waiting does not help: not retried


def test_gemini_zero_quota_is_a_quota_error(tmp_path):
    with ScriptedServer([_gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", value="0")]) as srv:
        with pytest.raises(DirectorQuotaError):
            gemini_at(srv.url, tmp_path).direct(PROMPT, num_frames=2)


def test_gemini_per_minute_quota_waits_the_suggested_delay(tmp_path):
    sleeps: list[float] = []
    replies = [_gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", delay="7s"), gemini_reply(frames_json(2))]
    with ScriptedServer(replies) as srv:
        assert len(gemini_at(srv.url, tmp_path, sleep=sleeps.append, backoff=0.5).direct(PROMPT, num_frames=2)) == 2
    assert sleeps == [7.0]
    with ScriptedServer([_gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", delay="7s")]) as srv:
        with pytest.raises(DirectorRateLimitError):
            gemini_at(srv.url, tmp_path, sleep=lambda s: None, max_retries=1).direct(PROMPT, num_frames=2)


# ---------------------------------------------------------------- doubling an edited table
def test_openai_double_of_an_edited_table_sends_that_table(tmp_path):
    import json

    edited = ["a chef holds a pan in a kitchen", "a pancake in the air above a pan", "a dog eats a pancake on the floor"]
    with ScriptedServer([openai_reply(frames_json(3)), openai_reply(frames_json(6, "half"))]) as srv:
        d = openai_at(srv.url, tmp_path)
        d.direct(PROMPT, num_frames=3)
        assert len(d.double_fps(edited)) == 6
    turns = srv.requests[1]["body"]["messages"]
    assert json.loads(turns[-2]["content"])["frames"] == edited


def test_offline_double_of_an_edited_table_writes_in_between_frames():
    d = make_director("offline")
    edited = ["a chef holds a pan in a bright kitchen", "a pancake flies above the pan in a bright kitchen",
              "a dog eats a pancake on the kitchen floor"]
    doubled = d.double_fps(edited, fps=4, user_prompt=PROMPT)
    assert len(doubled) == 6
    assert doubled[0::2] == edited  # the user's frames stay exactly as written, in order
    pairs = [(doubled[i], doubled[i + 1]) for i in range(0, 6, 2)]
    assert all(a != b for a, b in pairs), pairs  # not N identical pairs
    assert all(b.strip() for b in doubled[1::2])
