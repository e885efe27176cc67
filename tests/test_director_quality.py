"""The quality gate (director/quality.py) and its one retry turn, on every back end's shared loop."""

from __future__ import annotations

import json
import re
from functools import partial

import pytest

from direct2v.director import make_director, prompts, quality
from direct2v.director.local_backend import LocalDirector
from direct2v.director.tokens import token_lengths

from director_helpers import ScriptedServer, director_at, gemini_reply, openai_error, openai_reply

KEY = "test-key-not-real-0000"
GOOD = ["a red fox sitting in snow", "a red fox standing up in snow", "a red fox trotting through snow"]


def answer(frames: list[str]) -> str:
    return json.dumps({"beats": ["the fox gets up"], "frames": frames})


# ----------------------------------------------------------------------------- the rules
def words_of_tokens(n: int) -> str:
    """A frame of exactly n CLIP tokens (with the begin and end markers)."""
    text = " ".join(["fox"] * (n - 2))
    assert token_lengths([text])[0] == n
    return text


def test_token_rule_counts_77_with_the_style():
    assert quality.frame_problems(words_of_tokens(77)) == []
    assert quality.frame_problems(words_of_tokens(78)) == ["it has 78 CLIP tokens, more than 77"]
    # 75 tokens alone fit; with the style appended (", oil painting" is 3 more) they do not.
    assert token_lengths([words_of_tokens(75) + ", oil painting"])[0] == 78
    problems = quality.frame_problems(words_of_tokens(75), style="oil painting")
    assert problems == ["it has 78 CLIP tokens with the style, more than 77"]
    # A frame that already ends with its style is counted as it is.
    assert quality.frame_problems(words_of_tokens(74) + ", oil painting", style="oil painting") == []


def test_adjacent_duplicates_only():
    flags = quality.script_problems(["a fox in snow", "A fox in snow.", "a fox leaping", "a fox in snow"])
    assert flags == {1: ["it repeats frame 1 word for word"]}


@pytest.mark.parametrize("word,frame", [
    ("it", "a dog sniffing it on the floor"), ("they", "they run across a field"), ("them", "a boy watching them"),
    ("the same", "the same dog on a sofa"), ("again", "a corgi jumping again"), ("still", "a cat still sleeping"),
    ("continues", "the train continues along the coast"), ("as before", "a red kite as before"),
])
def test_each_reference_word_is_flagged(word, frame):
    assert quality.reference_words(frame) == [word]
    assert quality.frame_problems(frame) == [f'it points at other frames ("{word}")']


@pytest.mark.parametrize("frame", [
    "a heron standing still in a still lake at dawn", "a man next to a tree", "a dog wagging its tail",
    "a fox with itchy ears", "still life of pears on a table",
])
def test_words_that_describe_the_picture_are_not_flagged(frame):
    assert quality.reference_words(frame) == []


def test_describe_names_frames_one_based():
    text = quality.describe(quality.script_problems(["a fox", "a fox", "it sleeps again"]))
    assert text == 'frame 2: it repeats frame 1 word for word; frame 3: it points at other frames ("it", "again")'


def test_task_prompt_is_bumped_asks_for_beats_and_its_examples_pass_the_gate():
    assert prompts.TASK_PROMPT_VERSION not in ("2025-06-v1", "2026-11-v2")
    assert prompts.TASK_PROMPT_VERSION in prompts.REDIRECT_PROMPT_VERSION
    system = prompts.SYSTEM_PROMPT
    assert "beats" in system and "English" in system and "40 words" in system and "café" in system
    assert '"no event"' in system and "do not name it" in system and "never take their subjects" in system
    examples = [json.loads(line) for line in system.splitlines() if line.startswith('{"beats"')]
    assert len(examples) == len(prompts.EXAMPLES) == 3  # different kinds, none an everyday kitchen scene
    for (prompt, n, style, beats, frames), shown in zip(prompts.EXAMPLES, examples):
        assert shown == {"beats": beats, "frames": frames} and len(frames) == n
        assert quality.script_problems(frames, style, prompt=prompt) == {}, prompt  # the content rules too
    assert prompts.frames_json_schema()["required"] == ["beats", "frames"]
    assert list(prompts.frames_json_schema()["properties"]) == ["beats", "frames"]  # the plan comes first
    # Every turn asking for a script again asks for the shape the schema requires.
    assert '{"beats": [...], "frames": [...]}' in prompts.retry_request("it had 2 frames instead of 3", 3)
    assert '{"beats": [...], "frames": [...]}' in prompts.quality_retry_request("frame 2: x", 3)


@pytest.fixture(scope="module")
def tiny_chat(tmp_path_factory):
    try:
        from tiny_chat import build_tiny_chat_model
    except ImportError:  # pragma: no cover
        from tests.tiny_chat import build_tiny_chat_model
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))


def test_the_new_task_prompt_on_the_tiny_chat_model_gives_beats_then_n_frames(tiny_chat, one_torch_thread):
    from direct2v.director import constrained

    d = LocalDirector(model=tiny_chat, device="cpu", cache=False, max_frame_chars=12, quality_retries=0)
    messages = prompts.direct_messages("Zoë rides a bike past a café", 3, 4, None, "ink")
    assert messages[0]["content"] == prompts.SYSTEM_PROMPT
    answer = json.loads(d._complete(messages, 3))
    assert list(answer) == ["beats", "frames"] and len(answer["frames"]) == 3
    assert 1 <= len(answer["beats"]) <= constrained.MAX_BEATS


def test_accented_letters_pass_the_grammar_with_the_tiny_chat_tokenizer(tiny_chat):
    import xgrammar as xgr

    from direct2v.director import constrained, local_backend

    tokenizer, lm = local_backend.load_chat_model(tiny_chat, "cpu")
    grammars = local_backend.grammars_for(tiny_chat, tokenizer, lm)
    schema = constrained.frames_schema(2, 40)
    grammars.processor(schema)  # compiles it, kept by its schema
    compiled = grammars._compiled[json.dumps(schema, sort_keys=True)]

    def accepted(answer: dict) -> bool:
        matcher = xgr.GrammarMatcher(compiled)
        ids = tokenizer.encode(json.dumps(answer, ensure_ascii=False, separators=(", ", ": ")), add_special_tokens=False)
        return all(matcher.accept_token(i) for i in ids) and matcher.is_completed()

    assert accepted({"beats": ["Zoë leaves"], "frames": ["Zoë at a café in Málaga", "An empty café terrace"]})
    assert not accepted({"beats": ["a"], "frames": ["2 × 3 apples", "b"]})  # signs stay out
    assert not accepted({"beats": ["a"], "frames": ["\"quoted\"", "b"]})
    local_backend.unload_all()


# ----------------------------------------------------------------------------- the retry turn, per back end
# The gate's one retry turn on, as a director has it by default (director_at turns it off).
openai_director = partial(director_at, "openai", model="m", key=KEY, quality_retries=1)
gemini_director = partial(director_at, "gemini", model="g", key=KEY, quality_retries=1)


def openai_turns(request):
    return [m["content"] for m in request["body"]["messages"]]


def gemini_turns(request):
    return [p["text"] for c in request["body"]["contents"] for p in c["parts"]]


BACKENDS = {"openai": (openai_director, openai_reply, openai_turns), "gemini": (gemini_director, gemini_reply, gemini_turns)}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_failing_answer_gets_one_retry_naming_frames_and_problems(backend, tmp_path):
    build, reply, turns = BACKENDS[backend]
    bad = [GOOD[0], GOOD[0], "the fox continues, it trots away"]
    with ScriptedServer([reply(answer(bad)), reply(answer(GOOD))]) as srv:
        d = build(srv.url, tmp_path)
        result = d.direct("a fox gets up in the snow", num_frames=3)
    assert result == GOOD and len(srv.requests) == 2 and result.flags == {}
    retry = turns(srv.requests[1])[-1]
    assert "frame 2: it repeats frame 1 word for word" in retry
    assert 'frame 3: it points at other frames ("continues", "it")' in retry
    assert "exactly 3 frame strings" in retry
    assert answer(bad) in turns(srv.requests[1])  # the failing answer is the model's previous turn


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_answer_that_still_fails_is_accepted_and_flagged(backend, tmp_path):
    build, reply, _ = BACKENDS[backend]
    still_bad = [GOOD[0], GOOD[1], "the fox trotting away again"]
    with ScriptedServer([reply(answer(["it sits", GOOD[1], "the fox again"])), reply(answer(still_bad))]) as srv:
        d = build(srv.url, tmp_path)
        frames = d.direct("a fox gets up in the snow", num_frames=3)
    assert frames == still_bad and len(srv.requests) == 2  # one retry, no more
    assert frames.flags == {2: ['it points at other frames ("again")']} and not frames.cached
    # The accepted answer is cached; a repeat costs nothing, carries the same flags and says so.
    again = make_director(backend, model=d.model, api_key=KEY, base_url=d.base_url, cache_dir=tmp_path)
    repeat = again.direct("a fox gets up in the snow", num_frames=3)
    assert repeat == still_bad and again.requests_sent == 0 and repeat.cached
    assert repeat.flags == frames.flags


def test_retry_that_is_worse_keeps_the_first_answer(tmp_path):
    first = [GOOD[0], GOOD[1], "the fox trotting off again"]
    worse = ["it sits", "they stand", "the fox trotting off again"]
    with ScriptedServer([openai_reply(answer(first)), openai_reply(answer(worse))]) as srv:
        d = openai_director(srv.url, tmp_path)
        result = d.direct("a fox", num_frames=3)
    assert result == first and len(result.flags) == 1


def test_malformed_retry_keeps_the_first_answer_without_more_turns(tmp_path):
    first = [GOOD[0], GOOD[0], GOOD[2]]
    with ScriptedServer([openai_reply(answer(first)), openai_reply("not json at all")]) as srv:
        result = openai_director(srv.url, tmp_path).direct("a fox", num_frames=3)
    assert result == first and len(srv.requests) == 2 and result.flags == {1: ["it repeats frame 1 word for word"]}


def test_failed_retry_request_keeps_the_first_answer(tmp_path):
    first = [GOOD[0], GOOD[0], GOOD[2]]
    with ScriptedServer([openai_reply(answer(first)), openai_error(500, "down")]) as srv:
        d = make_director("openai", model="m", api_key=KEY, base_url=srv.url + "/v1", cache_dir=tmp_path,
                          backoff=0.001, max_retries=1)
        result = d.direct("a fox", num_frames=3)
    assert result == first and len(srv.requests) == 3 and result.flags == {1: ["it repeats frame 1 word for word"]}


def test_local_back_end_runs_the_same_gate(monkeypatch, tmp_path):
    sent: list[list[dict]] = []
    replies = [answer([GOOD[0], "it stands up", GOOD[2]]), answer(GOOD)]

    def complete(self, messages, num_frames, *, shape="frames"):
        sent.append(messages)
        return replies[len(sent) - 1]

    monkeypatch.setattr(LocalDirector, "_complete", complete)
    monkeypatch.setattr(LocalDirector, "_usable", lambda self: True)  # as if the model had loaded
    d = make_director("local", model="unused", cache=False)
    assert d.direct("a fox gets up", num_frames=3) == GOOD
    assert len(sent) == 2 and 'frame 2: it points at other frames ("it")' in sent[1][-1]["content"]


def test_double_fps_goes_through_the_gate(tmp_path):
    doubled_bad = [GOOD[0], GOOD[0], GOOD[1], GOOD[1], GOOD[2], "a red fox trotting away"]
    doubled = [GOOD[0], "a red fox lifting its head in snow", GOOD[1], "a red fox stepping forward in snow",
               GOOD[2], "a red fox trotting away in snow"]
    with ScriptedServer([openai_reply(answer(GOOD)), openai_reply(answer(doubled_bad)),
                         openai_reply(answer(doubled))]) as srv:
        d = openai_director(srv.url, tmp_path)
        d.direct("a fox gets up", num_frames=3)
        assert d.double_fps() == doubled
    retry = openai_turns(srv.requests[2])[-1]
    assert "frame 2: it repeats frame 1" in retry and "frame 4: it repeats frame 3" in retry


def test_redirect_answer_goes_through_the_gate_then_is_flagged(tmp_path):
    frame = json.dumps
    with ScriptedServer([openai_reply(frame({"frame": "the same fox, it stands"})),
                         openai_reply(frame({"frame": "a red fox standing again in snow"}))]) as srv:
        d = openai_director(srv.url, tmp_path)
        new = d.redirect_frame(GOOD, 1, user_prompt="a fox gets up")
    assert new.frame == "a red fox standing again in snow" and len(srv.requests) == 2
    assert new == [GOOD[0], new.frame, GOOD[2]] and new.index == 1
    assert 'frame 2 breaks the rules: it points at other frames ("the same", "it")' in openai_turns(srv.requests[1])[-1]
    assert new.flags == {1: ['it points at other frames ("again")']}


def test_quality_retries_zero_accepts_and_flags_at_once(tmp_path):
    first = [GOOD[0], GOOD[0], GOOD[2]]
    with ScriptedServer([openai_reply(answer(first))]) as srv:
        d = make_director("openai", model="m", api_key=KEY, base_url=srv.url + "/v1", cache_dir=tmp_path,
                          quality_retries=0)
        result = d.direct("a fox", num_frames=3)
    assert result == first and len(srv.requests) == 1 and result.flags == {1: ["it repeats frame 1 word for word"]}


def test_offline_scripts_are_flagged_too(monkeypatch):
    from direct2v.director import offline

    monkeypatch.setattr(offline, "write_script", lambda *a, **k: (["a fox", "a fox"], True))
    assert make_director("offline").direct("a fox", num_frames=2).flags == {1: ["it repeats frame 1 word for word"]}


# ----------------------------------------------------------------------------- where people see the flags
def test_cli_prints_a_warning_line_per_flagged_frame(tmp_path, monkeypatch, capsys):
    from direct2v import cli

    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    still_bad = [GOOD[0], GOOD[1], "the fox trotting away again"]
    with ScriptedServer([openai_reply(answer(["it sits", GOOD[1], GOOD[2]])), openai_reply(answer(still_bad))]) as srv:
        code = cli.main(["direct", "a fox gets up", "--frames", "3", "--backend", "openai", "--llm-model", "m",
                         "--base-url", srv.url + "/v1"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out) == still_bad  # accepted, not dropped
    assert err.splitlines() == [
        "Written by the OpenAI-compatible server's model 'm' at " + srv.url + "/v1.",
        'warning: frame 3: it points at other frames ("again")',
    ]


def test_page_table_flags_the_rows_the_gate_fails():
    from direct2v.ui import table as h

    rows = h.make_table(["a fox in snow", "a fox in snow", "the fox trotting away again", "a fox asleep"])
    assert [r[1].split(" ", 1)[1] if " " in r[1] else "" for r in rows] == [
        "", "⚠ repeats frame 1 word for word", '⚠ points at other frames ("again")', ""]
    assert "⚠ Frames 2, 3 repeat the row before or point at other frames" in h.table_notes([r[0] for r in rows])


# ----------------------------------------------------------------------------- content rules (issue 24)
SKATERS = "Two skaters glide across a frozen pond, twirl, and wave"


def test_a_frame_without_the_subject_or_any_noun_of_the_prompt_is_flagged():
    frames = ["Two skaters gliding across a frozen pond", "Twirl, medium wide shot", "Two skaters waving on a frozen pond"]
    found = quality.content_problems(frames, SKATERS)
    assert list(found) == [1] and "names neither the subject (skater)" in found[1][0]
    # a frame naming another thing of the prompt (the pond) is about the story: not flagged
    assert quality.content_problems(["A frozen pond at dusk", *frames[::2]], SKATERS) == {}


def test_a_frame_that_repeats_the_one_before_but_for_shot_words_is_flagged():
    frames = ["A kite flying over the hills, extreme wide shot", "A kite flying over the hills, extreme close-up",
              "A kite flying over the hills, low angle view", "A kite landing on the hills"]
    found = quality.content_problems(frames, "a kite flies over the hills and lands")
    assert sorted(found) == [1, 2] and all("only shot or camera words changed" in p[0] for p in found.values())
    assert quality.strip_shot_words("A coin spinning, medium close-up from the side") == "A coin spinning"


def test_the_prompt_repeated_and_an_end_state_drawn_as_the_subject_are_flagged():
    prompt = "a magician vanishes in a puff of smoke"
    repeated = quality.content_problems([prompt] * 3 + ["a puff of smoke"], prompt)
    assert all("the prompt itself" in repeated[i][-1] for i in range(3))
    drawn = quality.content_problems(["A magician on a stage", "A magician vanishing in a puff of smoke",
                                      "A magician gone in a puff of smoke"], prompt)
    assert "ends with the magician gone" in drawn[2][-1]
    assert quality.content_problems(["A magician on a stage", "A magician vanishing in a puff of smoke",
                                     "Only a puff of smoke"], prompt) == {}
    assert not quality.ends_in_absence("a woman walks her dog while leaves fall around her")  # "leaves" the noun


def test_script_problems_reads_content_only_with_the_prompt():
    frames = ["A red fox, wide shot", "A red fox, close-up shot"]
    assert quality.script_problems(frames) == {}
    assert "only shot or camera words" in quality.script_problems(frames, prompt="a red fox jumps")[1][0]
    assert quality.prompt_subjects("a chef flips a pancake, it lands on the floor, a dog eats it") == ["chef", "pancake", "dog"]
    assert quality.prompt_subject("una mujer baila en la lluvia") is None  # no English noun: nothing to check


def test_the_local_cache_key_holds_the_prompt_version_constraints_and_frame_length(tmp_path):
    from direct2v.director.cache import request_key

    def key(**options):
        d = LocalDirector(model="some/model", cache_dir=tmp_path, **options)
        return d._cache_request("direct", "a fox runs", 3, 4.0, None, None)

    plain = key()
    assert plain["task_prompt_version"] == prompts.TASK_PROMPT_VERSION
    assert (plain["constrained"], plain["max_frame_chars"]) == (True, 320)
    keys = {request_key(plain), request_key(key(constrained=False)), request_key(key(max_frame_chars=200))}
    assert len(keys) == 3  # an unconstrained or shorter-framed answer is never served for another


# ----------------------------------------------------------------------------- content flags on every back end
SUBJECTLESS = ["A red fox sitting in snow, wide shot", "A red fox sitting in snow, close-up shot", "Twirl, low angle"]


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_subjectless_frame_and_a_shot_word_repeat_are_flagged_on_llm_back_ends(backend, tmp_path):
    build, reply, turns = BACKENDS[backend]
    with ScriptedServer([reply(answer(SUBJECTLESS))] * 2) as srv:
        d = build(srv.url, tmp_path)
        frames = d.direct("a red fox gets up in the snow and trots away", num_frames=3)
    assert frames == SUBJECTLESS  # never dropped, only flagged
    assert "only shot or camera words changed" in frames.flags[1][0]
    assert "names neither the subject (fox)" in frames.flags[2][0]
    # The content rules get the model's one retry turn too, naming the frames and what is wrong.
    assert len(srv.requests) == 2
    retry = turns(srv.requests[1])[-1]
    assert "frame 2: it repeats frame 1 with only shot or camera words changed" in retry
    assert "frame 3: it names neither the subject (fox)" in retry and "not only new shot words" in retry


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_content_retry_keeps_the_answer_that_tells_the_story(backend, tmp_path):
    build, reply, _ = BACKENDS[backend]
    fixed = ["A red fox lying in snow", "A red fox getting up in snow", "A red fox trotting away across snow"]
    with ScriptedServer([reply(answer(SUBJECTLESS)), reply(answer(fixed))]) as srv:
        frames = build(srv.url, tmp_path).direct("a red fox gets up in the snow and trots away", num_frames=3)
    assert frames == fixed and frames.flags == {}


def test_a_rewritten_row_is_read_against_the_prompt(tmp_path):
    build, reply, turns = BACKENDS["openai"]
    table = ["A red fox lying in snow", "A red fox getting up in snow", "A red fox trotting away across snow"]
    with ScriptedServer([reply(json.dumps({"frame": "Twirl, low angle"}))] * 2) as srv:
        result = build(srv.url, tmp_path).redirect_frame(table, 1, user_prompt="a red fox gets up in the snow")
    assert "names neither the subject (fox)" in " ".join(turns(srv.requests[1])[-1:])
    assert result.frame == "Twirl, low angle" and "names neither the subject (fox)" in result.flags[1][-1]


def test_a_subjectless_frame_and_a_shot_word_repeat_are_flagged_on_the_built_in_writer(monkeypatch):
    from direct2v.director import offline

    monkeypatch.setattr(offline, "write_script", lambda *a, **k: (list(SUBJECTLESS), True))
    d = make_director("offline")
    flags = d.direct("a red fox gets up in the snow and trots away", num_frames=3).flags
    assert "only shot or camera words changed" in flags[1][0] and "names neither" in flags[2][0]
