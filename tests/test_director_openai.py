"""The OpenAI back end, through the real `openai` SDK, against a scripted loopback server."""

from __future__ import annotations

import json
from functools import partial

import pytest

from direct2v.director import (
    DirectorAuthError, DirectorConfigError, DirectorFormatError, DirectorQuotaError,
    DirectorRateLimitError, DirectorRefusalError, DirectorServerError, make_director,
)
from direct2v.director.prompts import TASK_PROMPT_VERSION
from director_helpers import ScriptedServer, direct_once, director_at, frames_json, openai_error, openai_reply

KEY = "sk-FAKE-SECRET-12345"
PROMPT = "A corgi is running, and another corgi joins later"


director = partial(director_at, "openai", model="test-model", key=KEY)


def test_good_answer_uses_structured_output_and_sends_the_task(tmp_path):
    request = direct_once(director, tmp_path, openai_reply(frames_json(4)), PROMPT, fps=2, camera="static",
                          style="oil painting")
    body = request["body"]
    assert body["model"] == "test-model"
    assert body["response_format"]["type"] == "json_schema"
    user = body["messages"][1]["content"]
    assert PROMPT in user and "exactly 4" in user and "2 frames per second" in user
    assert "oil painting" in user and "static" in user
    assert request["headers"]["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "content",
    [
        "```json\n" + frames_json(3) + "\n```",
        "Here is the script:\n1. a red fox frame 0\n2. a red fox frame 1\n3. a red fox frame 2\n",
        json.dumps({"frames": [{"prompt": f"a red fox frame {i}"} for i in range(3)]}),
        json.dumps({f"Frame {i + 1}": f"a red fox frame {i}" for i in range(3)}),
    ],
    ids=["fenced", "numbered", "objects", "frame-keys"],
)
def test_repairable_answers_need_one_request(tmp_path, content):
    with ScriptedServer([openai_reply(content)]) as srv:
        frames = director(srv.url, tmp_path).direct(PROMPT, num_frames=3)
    assert frames == [f"a red fox frame {i}" for i in range(3)]
    assert len(srv.requests) == 1


def test_wrong_count_is_retried_with_the_problem_stated(tmp_path):
    with ScriptedServer([openai_reply(frames_json(3)), openai_reply(frames_json(4, "fixed"))]) as srv:
        frames = director(srv.url, tmp_path).direct(PROMPT, num_frames=4)
    assert frames[0] == "a red fox fixed 0" and len(frames) == 4
    retry_turns = srv.requests[1]["body"]["messages"]
    assert retry_turns[-2]["role"] == "assistant"
    assert "3 frames instead of 4" in retry_turns[-1]["content"]


def test_malformed_every_time_ends_in_a_clear_error(tmp_path):
    with ScriptedServer([openai_reply("banana")]) as srv:
        with pytest.raises(DirectorFormatError, match=r"unusable answer after 3 tries .*not a JSON object"):
            director(srv.url, tmp_path, max_format_retries=2).direct(PROMPT, num_frames=4)
    assert len(srv.requests) == 3


def test_empty_answer_is_retried_then_error(tmp_path):
    with ScriptedServer([openai_reply("")]) as srv:
        with pytest.raises(DirectorFormatError, match="empty"):
            director(srv.url, tmp_path, max_format_retries=1).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 2


def test_refusal_text_and_refusal_field(tmp_path):
    with ScriptedServer([openai_reply("I'm sorry, but I can't help with that request.")]) as srv:
        with pytest.raises(DirectorRefusalError, match="declined"):
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1
    with ScriptedServer([openai_reply(None, refusal="I cannot do that")]) as srv:
        with pytest.raises(DirectorRefusalError):
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)


def test_bad_key_401_is_not_retried_and_never_shows_the_key(tmp_path):
    with ScriptedServer([openai_error(401, f"Incorrect API key provided: {KEY}", "invalid_api_key")]) as srv:
        with pytest.raises(DirectorAuthError) as info:
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1
    assert "401" in str(info.value) and KEY not in str(info.value) and KEY[-8:] not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None or KEY not in repr(info.value.__context__)


def test_rate_limit_then_success(tmp_path):
    sleeps: list[float] = []
    with ScriptedServer([openai_error(429, "slow down"), openai_reply(frames_json(2))]) as srv:
        frames = director(srv.url, tmp_path, sleep=sleeps.append, backoff=0.5).direct(PROMPT, num_frames=2)
    assert len(frames) == 2 and len(srv.requests) == 2 and sleeps == [0.5]


def test_rate_limit_persisting_gives_up_with_backoff(tmp_path):
    sleeps: list[float] = []
    with ScriptedServer([openai_error(429, "slow down", **{"retry-after": "2"})]) as srv:
        with pytest.raises(DirectorRateLimitError, match="429"):
            director(srv.url, tmp_path, sleep=sleeps.append, backoff=0.5, max_retries=2).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 3 and sleeps == [2.0, 2.0]


def test_no_quota_is_not_retried(tmp_path):
    with ScriptedServer([openai_error(429, "You exceeded your current quota", "insufficient_quota")]) as srv:
        with pytest.raises(DirectorQuotaError, match="quota"):
            director(srv.url, tmp_path).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1


def test_server_errors_are_retried_then_reported(tmp_path):
    with ScriptedServer([openai_error(500, "boom"), openai_error(503, "busy"), openai_reply(frames_json(2))]) as srv:
        assert len(director(srv.url, tmp_path).direct(PROMPT, num_frames=2)) == 2
    with ScriptedServer([openai_error(502, "bad gateway")]) as srv:
        with pytest.raises(DirectorServerError, match="502"):
            director(srv.url, tmp_path, max_retries=1).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 2


def test_server_without_structured_output_falls_back_to_plain_text(tmp_path):
    replies = [openai_error(400, "response_format json_schema is not supported"), openai_reply(frames_json(2)),
               openai_reply(frames_json(4))]
    with ScriptedServer(replies) as srv:
        d = director(srv.url, tmp_path)
        assert len(d.direct(PROMPT, num_frames=2)) == 2
        assert len(d.double_fps()) == 4
    assert "response_format" in srv.requests[0]["body"]
    assert all("response_format" not in r["body"] for r in srv.requests[1:])


def test_repeated_request_is_served_from_the_cache(tmp_path):
    with ScriptedServer([openai_reply(frames_json(3))]) as srv:
        first = director(srv.url, tmp_path).direct(PROMPT, num_frames=3, fps=4)
        again = director(srv.url, tmp_path).direct(PROMPT, num_frames=3, fps=4)  # a new director, same disk cache
    assert first == again and len(srv.requests) == 1
    blobs = [p.read_text() for p in tmp_path.rglob("*.json")]
    assert len(blobs) == 1 and KEY not in blobs[0] and TASK_PROMPT_VERSION in blobs[0]
    with ScriptedServer([openai_reply(frames_json(3))]) as srv:  # any option change is a new request
        director(srv.url, tmp_path).direct(PROMPT, num_frames=3, fps=8)
        director(srv.url, tmp_path).direct(PROMPT, num_frames=3, fps=4, style="anime")
    assert len(srv.requests) == 2


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path / "envcache"))
    with ScriptedServer([openai_reply(frames_json(2))]) as srv:
        d = make_director("openai", api_key=KEY, base_url=srv.url + "/v1")
        d.direct(PROMPT, num_frames=2)
        d.direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 1 and list((tmp_path / "envcache").rglob("*.json"))


def test_double_fps_continues_the_same_conversation(tmp_path):
    with ScriptedServer([openai_reply(frames_json(3)), openai_reply(frames_json(6, "half"))]) as srv:
        d = director(srv.url, tmp_path)
        d.direct(PROMPT, num_frames=3, fps=4)
        doubled = d.double_fps()
    assert len(doubled) == 6 and doubled[0] == "a red fox half 0"
    turns = srv.requests[1]["body"]["messages"]
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert json.loads(turns[2]["content"])["frames"] == [f"a red fox frame {i}" for i in range(3)]
    assert turns[3]["content"].startswith(
        "Now, at a frame rate of 8 fps, divide each frame in the previous result into two separate image "
        "descriptions. This should eventually result in 6 frames."
    )
    assert d.conversation.fps == 8 and d.conversation.frames == doubled


def test_double_fps_of_an_edited_table_without_direct(tmp_path):
    table = ["a fox sleeping", "a fox waking up"]
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        d = director(srv.url, tmp_path)
        assert len(d.double_fps(table, fps=2, user_prompt="A fox wakes up")) == 4
        d.double_fps(table, fps=2, user_prompt="A fox wakes up")  # cached
        d.double_fps(["a fox sleeping", "a fox yawning"], fps=2, user_prompt="A fox wakes up")  # new input frames
    turns = srv.requests[0]["body"]["messages"]
    assert json.loads(turns[2]["content"])["frames"] == table and "A fox wakes up" in turns[1]["content"]
    assert "4 frames" in turns[3]["content"] and len(srv.requests) == 2


def test_missing_key_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(DirectorConfigError, match="OPENAI_API_KEY"):
        make_director("openai", cache_dir=tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    d = make_director("openai", cache_dir=tmp_path)
    assert d.model == "gpt-4o" and KEY not in repr(d)


def test_disk_cache_is_bounded_and_drops_the_oldest(tmp_path):
    import os

    from direct2v.director.cache import ResponseCache, request_key

    cache = ResponseCache(tmp_path, max_entries=10)
    for i in range(25):
        cache.put({"prompt": f"p{i}", "num_frames": 1}, [f"frame {i}"])
        # Entry i dated i s after the epoch: an order of writing that no coarse file clock blurs.
        os.utime(cache._path(request_key({"prompt": f"p{i}", "num_frames": 1})), ns=(i * 10**9, i * 10**9))
    assert len(list(tmp_path.glob("??/*.json"))) <= 10
    assert cache.get({"prompt": "p24", "num_frames": 1}) == ["frame 24"]
    assert cache.get({"prompt": "p0", "num_frames": 1}) is None
