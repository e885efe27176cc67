"""Re-directing one frame of an (edited) table: OpenAI and Gemini through their real SDKs against
the loopback server, the offline director, and the input checks shared by every back end."""

from __future__ import annotations

import json
from functools import partial

import pytest

from direct2v.director import (
    CLIP_MAX_TOKENS, DirectorFormatError, DirectorInputError, DirectorRefusalError, make_director,
    token_lengths,
)
from direct2v.director.prompts import REDIRECT_PROMPT_VERSION, TASK_PROMPT_VERSION
from director_helpers import ScriptedServer, director_at, gemini_reply, openai_reply

KEY = "sk-FAKE-SECRET-12345"
GEMINI_KEY = "AIza-test-SECRET-0987654321"
PROMPT = "A corgi is running, and another corgi joins later"
TABLE = [
    "A corgi running on a grassy meadow, legs stretched out mid-stride",
    "A corgi in a red scarf running on a grassy meadow, tongue out",  # the user's edit
    "A corgi running on a grassy meadow, paws kicking up dirt",
    "Two corgis running together on a grassy meadow, side by side",
]
NEW = "A corgi in a red scarf running on a grassy meadow, a second corgi far behind"


openai_director = partial(director_at, "openai", model="test-model", key=KEY)


def frame_json(text: str = NEW) -> str:
    return json.dumps({"frame": text})


# ----------------------------------------------------------------------------- OpenAI
def test_request_carries_the_edited_table_and_the_frame_number(tmp_path):
    with ScriptedServer([openai_reply(frame_json())]) as srv:
        d = openai_director(srv.url, tmp_path)
        frame = d.redirect_frame(TABLE, 2, user_prompt=PROMPT, fps=4, style="oil painting").frame
    assert frame == NEW and len(srv.requests) == 1
    body = srv.requests[0]["body"]
    turns = body["messages"]
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert PROMPT in turns[1]["content"] and "exactly 4" in turns[1]["content"]
    assert json.loads(turns[2]["content"])["frames"] == TABLE  # the table as the user left it
    ask = turns[3]["content"]
    assert "Rewrite ONLY frame 3 of the 4 frames" in ask
    assert "continues from frame 2" in ask and TABLE[1] in ask and "leads into frame 4" in ask
    assert TABLE[2] in ask and "worded differently" in ask and "oil painting" in ask and "77" in ask
    assert '{"frame"' in ask
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "frame_rewrite" and schema["schema"]["required"] == ["frame"]
    # the table with only that row replaced becomes the conversation's script
    assert d.conversation.frames == TABLE[:2] + [NEW] + TABLE[3:]


def test_first_and_last_frames_say_where_they_sit(tmp_path):
    with ScriptedServer([openai_reply(frame_json("a corgi waking up on a grassy meadow"))]) as srv:
        d = openai_director(srv.url, tmp_path)
        d.redirect_frame(TABLE, 0, user_prompt=PROMPT)
        d.redirect_frame(TABLE, 3, user_prompt=PROMPT)
    first, last = (r["body"]["messages"][-1]["content"] for r in srv.requests)
    assert "first frame" in first and "leads into frame 2" in first and "continues from" not in first
    assert "last frame" in last and "continues from frame 3" in last and "leads into" not in last


@pytest.mark.parametrize(
    "content",
    [
        "```json\n" + frame_json() + "\n```",
        NEW,
        f"Here is the new frame 3:\n{NEW}",
        f'"{NEW}"',
        f"Frame 3: {NEW}",
        json.dumps({"frames": [NEW]}),
        json.dumps({"frames": TABLE[:2] + [NEW] + TABLE[3:]}),  # the whole table back: take frame 3
    ],
    ids=["fenced", "bare", "prose-line", "json-string", "labelled", "one-item-list", "whole-table"],
)
def test_repairable_answers_need_one_request(tmp_path, content):
    with ScriptedServer([openai_reply(content)]) as srv:
        frame = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT).frame
    assert frame == NEW and len(srv.requests) == 1


def test_an_unchanged_answer_is_retried_once(tmp_path):
    same = TABLE[2].upper() + "."  # case and end punctuation do not make it new
    with ScriptedServer([openai_reply(frame_json(same)), openai_reply(frame_json())]) as srv:
        frame = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT).frame
    assert frame == NEW and len(srv.requests) == 2
    retry = srv.requests[1]["body"]["messages"]
    assert retry[-2]["role"] == "assistant" and "unchanged" in retry[-1]["content"]


def test_an_unchanged_answer_twice_is_a_clear_error(tmp_path):
    with ScriptedServer([openai_reply(frame_json(TABLE[2]))]) as srv:
        with pytest.raises(DirectorFormatError, match=r"frame 3 unchanged twice"):
            openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)
    assert len(srv.requests) == 2


def test_several_frames_are_retried_then_reported(tmp_path):
    with ScriptedServer([openai_reply(json.dumps({"frames": ["a", "b"]}))]) as srv:
        with pytest.raises(DirectorFormatError, match=r"unusable rewrite of frame 3 after 2 tries .*2 descriptions"):
            openai_director(srv.url, tmp_path, max_format_retries=1).redirect_frame(TABLE, 2, user_prompt=PROMPT)
    assert len(srv.requests) == 2
    assert "2 descriptions instead of one" in srv.requests[1]["body"]["messages"][-1]["content"]


def test_refusal_is_a_clear_error(tmp_path):
    with ScriptedServer([openai_reply("I'm sorry, but I can't help with that request.")]) as srv:
        with pytest.raises(DirectorRefusalError, match="declined to rewrite frame 3"):
            openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)
    assert len(srv.requests) == 1
    with ScriptedServer([openai_reply(None, refusal="I cannot do that")]) as srv:
        with pytest.raises(DirectorRefusalError, match="declined"):
            openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)


def test_cache_same_table_is_free_edited_table_is_a_new_request(tmp_path):
    with ScriptedServer([openai_reply(frame_json())]) as srv:
        first = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT, fps=4).frame
        again = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT, fps=4).frame
        assert first == again == NEW and len(srv.requests) == 1
        edited = TABLE[:3] + ["Two corgis in red scarves running together on a grassy meadow"]
        openai_director(srv.url, tmp_path).redirect_frame(edited, 2, user_prompt=PROMPT, fps=4)
        assert len(srv.requests) == 2
        openai_director(srv.url, tmp_path).redirect_frame(TABLE, 1, user_prompt=PROMPT, fps=4)  # another row
        openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT, fps=8)  # another option
        assert len(srv.requests) == 4
    blobs = [p.read_text() for p in tmp_path.rglob("*.json")]
    assert len(blobs) == 4 and all(KEY not in b for b in blobs)
    assert any(REDIRECT_PROMPT_VERSION in b and TASK_PROMPT_VERSION in b for b in blobs)


def test_fresh_redirect_asks_again_through_the_same_cache(tmp_path):
    other = "A corgi in a red scarf running on a grassy meadow, ears flapping"
    with ScriptedServer([openai_reply(frame_json()), openai_reply(frame_json(other))]) as srv:
        first = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)
        cached = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)
        fresh = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT, fresh=True)
        latest = openai_director(srv.url, tmp_path).redirect_frame(TABLE, 2, user_prompt=PROMPT)
    assert len(srv.requests) == 2  # only the first and the fresh one reached the model
    assert (first.frame, first.cached) == (NEW, False) and (cached.frame, cached.cached) == (NEW, True)
    assert (fresh.frame, fresh.cached) == (other, False)
    assert (latest.frame, latest.cached) == (other, True)  # the fresh answer replaced the cached one
    assert fresh == TABLE[:2] + [other] + TABLE[3:] and fresh.index == 2  # the whole table, one row new


def test_an_empty_prompt_uses_the_table_as_the_context(tmp_path):
    table = TABLE[:2] + [""] + TABLE[3:]  # an empty target row is fine too
    with ScriptedServer([openai_reply(frame_json())]) as srv:
        assert openai_director(srv.url, tmp_path).redirect_frame(table, 2, user_prompt="").frame == NEW
    turns = srv.requests[0]["body"]["messages"]
    assert "infer the story from the frames" in turns[1]["content"] and "Frame 3 is empty" in turns[3]["content"]


# ----------------------------------------------------------------------------- Gemini
def test_gemini_redirect_through_the_sdk(tmp_path):
    with ScriptedServer([gemini_reply(frame_json(TABLE[2])), gemini_reply("```json\n" + frame_json() + "\n```")]) as srv:
        d = make_director("gemini", model="gemini-test", api_key=GEMINI_KEY, base_url=srv.url, cache_dir=tmp_path,
                          backoff=0.001, timeout=5)
        assert d.redirect_frame(TABLE, 2, user_prompt=PROMPT).frame == NEW
        assert d.redirect_frame(TABLE, 2, user_prompt=PROMPT).frame == NEW  # cached
    assert len(srv.requests) == 2  # the unchanged answer, then the retry
    body = srv.requests[0]["body"]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert json.loads(body["contents"][1]["parts"][0]["text"])["frames"] == TABLE
    assert "Rewrite ONLY frame 3" in body["contents"][2]["parts"][0]["text"]
    schema = str(body["generationConfig"]["responseSchema"])
    assert "frame" in schema and "frames" not in schema


# ----------------------------------------------------------------------------- offline
def test_offline_is_deterministic_and_fits_clip():
    d = make_director("offline")
    script = d.direct(PROMPT, num_frames=6, fps=4, style="oil painting")
    for i in range(6):
        a = d.redirect_frame(script, i, user_prompt=PROMPT, style="oil painting").frame
        b = make_director("offline").redirect_frame(script, i, user_prompt=PROMPT, style="oil painting").frame
        assert a == b and a.strip() and a != script[i]  # a new take, the same on every machine
        assert token_lengths([a])[0] <= CLIP_MAX_TOKENS and a.endswith("oil painting")


def test_offline_restores_the_story_row_when_the_neighbours_are_its_own():
    d = make_director("offline")
    script = d.direct(PROMPT, num_frames=6, fps=4)
    table = list(script)
    table[3] = "a blurry mess"
    assert d.redirect_frame(table, 3, user_prompt=PROMPT).frame == script[3]


def test_offline_uses_edited_neighbours():
    table = list(TABLE)
    frame = make_director("offline").redirect_frame(table, 2, user_prompt=PROMPT).frame
    assert "red scarf" in frame  # from the edited row before it
    assert "side by side" in frame  # a detail of the row after it
    assert frame != TABLE[2] and token_lengths([frame])[0] <= CLIP_MAX_TOKENS


def test_offline_without_a_prompt_and_with_an_empty_row():
    table = TABLE[:2] + [""] + TABLE[3:]
    frame = make_director("offline").redirect_frame(table, 2).frame
    assert frame and "red scarf" in frame
    long = ["a very small fluffy corgi dog with a red scarf " * 4 + ", running fast"] * 3
    frame = make_director("offline").redirect_frame(long, 1).frame
    assert frame and frame != long[1] and token_lengths([frame])[0] <= CLIP_MAX_TOKENS


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "frames, index, message",
    [
        ([], 0, "no frames to re-direct"),
        ("a corgi", 0, "no frames to re-direct"),
        (TABLE, 4, "no frame at index 4"),
        (TABLE, -1, "no frame at index -1"),
        (TABLE, "2", "whole-number index"),
        (TABLE, True, "whole-number index"),
        (["", "", ""], 1, "Frame 2 and the rows around it are empty"),
    ],
)
def test_bad_input_is_one_line(frames, index, message):
    with pytest.raises(DirectorInputError, match=message) as info:
        make_director("offline").redirect_frame(frames, index)
    assert "\n" not in str(info.value)


def test_bad_input_never_reaches_the_server(tmp_path):
    with ScriptedServer([openai_reply(frame_json())]) as srv:
        d = openai_director(srv.url, tmp_path)
        with pytest.raises(DirectorInputError, match="index 9"):
            d.redirect_frame(TABLE, 9, user_prompt=PROMPT)
        with pytest.raises(DirectorInputError, match="frame rate"):
            d.redirect_frame(TABLE, 1, user_prompt=PROMPT, fps=0)
    assert srv.requests == []


def test_local_back_end_shares_the_loop(tmp_path, monkeypatch):
    """The local back end goes through the same loop; its model call is stubbed (the tiny
    random model of test_director_local only makes noise)."""
    from direct2v.director.local_backend import LocalDirector

    calls = []

    def fake_complete(self, messages, num_frames, *, shape="frames"):
        calls.append((shape, num_frames, messages[-1]["content"]))
        return "Frame 3: " + NEW if len(calls) > 1 else TABLE[2]

    monkeypatch.setattr(LocalDirector, "_complete", fake_complete)
    monkeypatch.setattr(LocalDirector, "_usable", lambda self: True)  # no model to load
    d = make_director("local", model="tiny-test", cache_dir=tmp_path)
    assert d.redirect_frame(TABLE, 2, user_prompt=PROMPT).frame == NEW
    assert [c[:2] for c in calls] == [("frame", 1), ("frame", 1)] and "unchanged" in calls[1][2]
