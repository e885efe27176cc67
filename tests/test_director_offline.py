"""Offline director, token counting, answer parsing and the factory: no network, no model."""

from __future__ import annotations

import re

import pytest

from direct2v.director import (
    DirectorConfigError,
    DirectorInputError,
    available_backends,
    default_backend,
    make_director,
    over_limit_frames,
    token_lengths,
)
from direct2v.director.parsing import FormatProblem, RefusalProblem, parse_frames
from direct2v.director.tokens import clip_bpe

PAPER_PROMPTS = [
    "A corgi is running, and another corgi joins later",
    "A rainbow forming after rain",
    "A thunderstorm developing over a sea",
    "A cheetah sitting suddenly sprints at full speed",
]


@pytest.mark.parametrize("prompt", PAPER_PROMPTS)
@pytest.mark.parametrize("n", [1, 4, 8, 16])
def test_offline_gives_exactly_n_fitting_frames(prompt, n):
    frames = make_director("offline").direct(prompt, num_frames=n, fps=4)
    assert len(frames) == n and all(f.strip() for f in frames)
    assert over_limit_frames(frames) == []
    assert make_director("offline").direct(prompt, num_frames=n) == frames  # deterministic


def test_corgi_early_one_later_two():
    frames = make_director("offline").direct(PAPER_PROMPTS[0], num_frames=8)
    assert all("corgi" in f.lower() for f in frames)
    assert all(f.lower().startswith("a corgi") and "two corgis" not in f.lower() for f in frames[:4])
    assert all("two corgis" in f.lower() for f in frames[-2:])


def test_rainbow_comes_after_rain_and_grows():
    frames = make_director("offline").direct(PAPER_PROMPTS[1], num_frames=8)
    assert "rain" in frames[0].lower() and "rainbow" not in frames[0].lower()
    assert "rainbow" in frames[-1].lower() and "fully" in frames[-1].lower()
    assert [("rainbow" in f.lower()) for f in frames] == sorted(("rainbow" in f.lower()) for f in frames)


def test_thunderstorm_develops_over_the_sea_in_every_frame():
    frames = make_director("offline").direct(PAPER_PROMPTS[2], num_frames=8)
    assert all("thunderstorm" in f.lower() and "over a sea" in f.lower() for f in frames)
    assert "beginning" in frames[0] and "fully developed" in frames[-1] and "lightning" in frames[-1]


def test_cheetah_sits_then_sprints():
    frames = make_director("offline").direct(PAPER_PROMPTS[3], num_frames=8)
    assert "sitting" in frames[0] and "sprint" not in frames[0]
    assert "sprinting at full speed" in frames[-1]
    assert not any(" it " in f"{f} ".lower() or " they " in f" {f} ".lower() for f in frames)


def test_style_and_camera_options():
    d = make_director("offline")
    zoom = d.direct("A corgi is running", num_frames=5, camera="slow zoom in", style="watercolor painting")
    assert all(f.endswith("watercolor painting") for f in zoom)
    assert "wide shot" in zoom[0] and "close-up" in zoom[-1]
    static = d.direct("A corgi is running", num_frames=3, camera="static")
    assert all("static camera" in f for f in static)
    removed = d.direct("A corgi is running, camera pans left, close-up shot", num_frames=3, camera="remove")
    assert not any("camera" in f.lower() or "close-up" in f.lower() for f in removed)


def test_long_prompt_still_fits_77_tokens():
    prompt = "A fluffy orange tabby cat with green eyes and a tiny blue collar " * 8
    frames = make_director("offline").direct(prompt.strip(), num_frames=4, style="cinematic, 35mm film, soft light")
    assert over_limit_frames(frames) == [] and all(frames)


def test_offline_double_fps():
    d = make_director("offline")
    frames = d.direct(PAPER_PROMPTS[0], num_frames=4, fps=4)
    doubled = d.double_fps()
    assert doubled == make_director("offline").direct(PAPER_PROMPTS[0], num_frames=8, fps=8)  # re-timed
    assert d.conversation.fps == 8 and len(d.double_fps()) == 16  # repeatable
    edited = ["a corgi asleep on a rug", "a corgi yawning on a rug"]
    doubled_edit = make_director("offline").double_fps(edited, fps=2)
    assert len(doubled_edit) == 4 and doubled_edit[0::2] == edited  # the edits stay, in-between frames follow
    assert doubled_edit[1] not in edited and doubled_edit[3] not in edited
    assert make_director("offline").double_fps(frames, fps=4, user_prompt=PAPER_PROMPTS[0]) == doubled


def test_bad_input_is_one_clear_sentence():
    d = make_director("offline")
    for kwargs, pattern in [
        ({"user_prompt": "   "}, "empty"),
        ({"user_prompt": "x" * 5000}, "too long"),
        ({"user_prompt": "a fox", "num_frames": 0}, "number of frames"),
        ({"user_prompt": "a fox", "fps": 0}, "frame rate"),
    ]:
        with pytest.raises(DirectorInputError, match=pattern):
            d.direct(**kwargs)
    with pytest.raises(DirectorInputError, match="no script"):
        make_director("offline").double_fps()
    with pytest.raises(DirectorInputError, match="Frame 2"):
        d.double_fps(["a fox", " "], fps=4)


def test_factory_and_backend_discovery(monkeypatch):
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert default_backend() == "local"  # without a key: the local model (built-in writer if it cannot load)
    assert set(available_backends()) == {"openai", "gemini", "huggingface", "local", "offline"}
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    assert default_backend() == "gemini" and "ready" in available_backends()["gemini"]
    with pytest.raises(DirectorConfigError, match="Unknown director back end"):
        make_director("palm")


# ---------------------------------------------------------------------- tokens
def test_offline_token_count_equals_transformers_clip_tokenizer():
    from transformers import CLIPTokenizer

    bpe = clip_bpe()
    reference = CLIPTokenizer(vocab=bpe.vocab(), merges=list(bpe.merges))
    texts = PAPER_PROMPTS + [
        "Naïve café owner's \"quoted\" words, 1234 apples; e-mail: x@y.z!!",
        "A photorealistic close-up of a hummingbird, 8k, ultra-detailed, bokeh, trending on artstation",
        "Émile   ZOLA\tà Paris — 東京 🐶🐶 ok",
        "zzzzqqqjjjxxyy pneumonoultramicroscopicsilicovolcanoconiosis",
    ]
    assert token_lengths(texts) == token_lengths(texts, tokenizer=reference)
    assert token_lengths(["a corgi"]) == [4]  # <bos> a corgi <eos>


def test_over_limit_frames_with_and_without_a_tokenizer():
    frames = ["a corgi running", "word " * 80, "a cat"]
    assert over_limit_frames(frames) == [1]
    assert over_limit_frames(frames, limit=4) == [0, 1]

    class CharTokenizer:  # a passed tokenizer is used as it is
        def __call__(self, text, add_special_tokens=True, truncation=False):
            return {"input_ids": list(range(len(text)))}

    assert token_lengths(frames, tokenizer=CharTokenizer()) == [15, 400, 5]
    assert over_limit_frames(frames, tokenizer=CharTokenizer(), limit=10) == [0, 1]


# ---------------------------------------------------------------------- parsing
def test_parsing_repairs_and_problems():
    assert parse_frames('Sure!\n```json\n{"frames": ["a", "b"]}\n```\nEnjoy', 2) == ["a", "b"]
    assert parse_frames("**Frame 1:** a dog\n**Frame 2:** two dogs", 2) == ["a dog", "two dogs"]
    assert parse_frames('{"scenes": [{"description": "x"}, {"description": "y"}]}', 2) == ["x", "y"]
    assert parse_frames('{"frame_10": "j", "frame_2": "b"}', 2) == ["b", "j"]
    with pytest.raises(FormatProblem, match="3 frames instead of 2"):
        parse_frames('["a", "b", "c"]', 2)
    with pytest.raises(FormatProblem, match="frame 2 was empty"):
        parse_frames('["a", ""]', 2)
    with pytest.raises(RefusalProblem):
        parse_frames("I cannot help with creating that content.", 2)
    assert parse_frames("I'm sorry for the delay! " + '{"frames": ["a", "b"]}', 2) == ["a", "b"]


# ---------------------------------------------------------------------- offline script quality
# Each prompt: words every frame must contain (subject and setting, singular or plural), and
# the story's beats as patterns that must appear in this order over the frames.
SCRIPTS = {
    PAPER_PROMPTS[0]: (["corgi"], [r"^a corgi running", r"two corgis"]),
    PAPER_PROMPTS[1]: (["rain"], [r"^heavy rain", r"rainbow just beginning", r"rainbow fully formed"]),
    PAPER_PROMPTS[2]: (["thunderstorm", "sea"], [r"beginning", r"partly", r"fully developed"]),
    PAPER_PROMPTS[3]: (["cheetah"], [r"sitting", r"leaping up", r"sprinting at full speed"]),
    "a man walks into a cafe, orders a coffee, then leaves":
        (["man", "cafe"], [r"entrance|walking into|stepping into", r"ordering a coffee", r"out the door|away from|leav"]),
    "a snowman melting in the sun": (["snowman", "sun"], [r"beginning to melt", r"half melted", r"fully melted"]),
    "a ship sailing from a calm harbor into a storm":
        (["ship"], [r"in a calm harbor", r"toward a storm|into a storm", r"deep in the storm"]),
    "a girl blowing bubbles in a park while her dog watches": (["girl", "park", "dog", "bubble"], [r"blowing bubbles"]),
    "two astronauts planting a flag on the moon, then waving":
        (["two astronauts", "moon"], [r"planting a flag", r"waving on the moon"]),
    "a city street from day to night": (["city street"], [r"daylight", r"sunset|dusk", r"at night"]),
}
_PRONOUN = re.compile(r"\b(he|she|it|they|him|her|them|his|its|their)\b", re.I)


def _script(prompt, n, **kw):
    return make_director("offline").direct(prompt, num_frames=n, fps=4, **kw)


@pytest.mark.parametrize("prompt", list(SCRIPTS))
@pytest.mark.parametrize("n", [1, 4, 8, 16])
def test_offline_scripts_are_self_contained(prompt, n):
    frames = _script(prompt, n)
    words, _ = SCRIPTS[prompt]
    assert len(frames) == n and all(f.strip() for f in frames)
    assert max(token_lengths(frames)) <= 77
    for f in frames:
        low = f.lower()
        for w in words:
            assert w in low, (w, f)  # "corgi" also matches "corgis"
        assert not _PRONOUN.search(f), f  # every frame stands alone
        assert f[0].isupper() and "  " not in f and not re.search(r"(?:[,;]|\band)$", f)
        assert not re.search(r"leaving away|\b(\w+) \1\b|,\s*,| ,", low), f
    if n <= 8:
        assert all(a != b for a, b in zip(frames, frames[1:])), frames
    if n >= 16:  # at most short repeats of a whole frame
        assert max(frames.count(f) for f in frames) <= 4


@pytest.mark.parametrize("prompt", list(SCRIPTS))
def test_offline_beats_come_in_order(prompt):
    frames = [f.lower() for f in _script(prompt, 8)]
    _, beats = SCRIPTS[prompt]
    first = [next((i for i, f in enumerate(frames) if re.search(p, f)), None) for p in beats]
    assert None not in first, list(zip(beats, first))
    assert first == sorted(first), list(zip(beats, first))
    assert re.search(beats[0], frames[0]) and re.search(beats[-1], frames[-1])


def test_offline_cafe_script_keeps_the_cafe_and_walks():
    frames = _script("a man walks into a cafe, orders a coffee, then leaves", 6)
    low = [f.lower() for f in frames]
    assert all("cafe" in f and f.startswith("a man") for f in low)
    assert not any(w in f for f in low for w in ("stride", "full speed", "empty landscape", "orders"))
    assert "ordering a coffee" in low[2] or "ordering a coffee" in low[3]


def test_offline_held_states_move_subtly():
    for prompt in ("Two corgis running together", "A cheetah sitting"):
        frames = _script(prompt, 8)
        assert len(set(frames)) >= 4 and all(a != b for a, b in zip(frames, frames[1:]))
        assert all(f.startswith(prompt.split()[0]) for f in frames)
    assert any("ears pricked" in f for f in _script("A cheetah sitting", 4))
    assert any("side by side" in f for f in _script("Two corgis running together", 4))


@pytest.mark.parametrize("prompt, expect", [
    ("a fluffy white cat sleeps on a sofa, then it wakes up and walks away",
     [r"^a fluffy white cat sleeping on a sofa", r"fluffy white cat waking up", r"fluffy white cat .*(leave|away)"]),
    ("a bird sitting on a branch flies away", [r"sitting on a branch", r"take off|lifting off", r"flying away|far away"]),
    ("a woman reading in a park, later a dog arrives", [r"^a woman reading in a park", r"a dog approaching", r"a dog beside the woman"]),
    ("the sun sets over the ocean", [r"high above the horizon", r"touching the horizon", r"below the horizon"]),
    ("a beach at sunset, then night falls", [r"a beach at sunset", r"dusk", r"at night"]),
    ("a man walks his dog in a park, then it starts raining", [r"walking a dog in a park", r"first raindrops", r"heavy rain"]),
    ("a ghost disappears in a dark hallway", [r"clearly visible", r"fad", r"vanished"]),
    ("In a park, a boy flies a kite. Suddenly it starts to rain.", [r"^a boy flying a kite in a park", r"rain"]),
    ("a caterpillar turning into a butterfly", [r"beginning to turn into a butterfly", r"fully turned into a butterfly"]),
    ("a flower blooming, then a bee arrives", [r"beginning to bloom", r"fully bloomed", r"a bee"]),
])
def test_offline_temporal_structures(prompt, expect):
    frames = [f.lower() for f in _script(prompt, 8)]
    assert all(not _PRONOUN.search(f) for f in frames), frames
    first = [next((i for i, f in enumerate(frames) if re.search(p, f)), None) for p in expect]
    assert None not in first and first == sorted(first), (frames, first)


def test_offline_grammar_helpers():
    from direct2v.director.offline_parse import base_form, ing, past_participle, plural, singular, split_clauses

    assert [base_form(w) for w in ("sprints", "running", "flies", "waving", "planting", "leaves", "sitting", "lying")] == \
        ["sprint", "run", "fly", "wave", "plant", "leave", "sit", "lie"]
    assert [ing(b) for b in ("run", "sit", "open", "order", "wave", "lie", "ski")] == \
        ["running", "sitting", "opening", "ordering", "waving", "lying", "skiing"]
    assert [past_participle(b) for b in ("form", "develop", "melt", "grow", "freeze")] == \
        ["formed", "developed", "melted", "grown", "frozen"]
    assert (plural("corgi"), plural("man"), singular("corgis"), singular("astronauts")) == ("corgis", "men", "corgi", "astronaut")
    texts = [c.text for c in split_clauses("a man walks into a cafe, orders a coffee, then leaves")]
    assert texts == ["a man walks into a cafe", "orders a coffee", "leaves"]
    assert [c.text for c in split_clauses("a fluffy, white cat and a dog playing")] == ["a fluffy, white cat and a dog playing"]
    rain = split_clauses("A rainbow forming after rain")
    assert [c.text for c in rain] == ["rain", "A rainbow forming"]
    sudden = split_clauses("A cheetah sitting suddenly sprints at full speed")
    assert [(c.text, c.sudden) for c in sudden] == [("A cheetah sitting", False), ("sprints at full speed", True)]


def test_offline_style_camera_and_long_prompts_keep_the_cue():
    frames = _script("A cheetah sitting", 4, style="oil painting", camera="slow zoom in")
    assert all(f.endswith("oil painting") for f in frames) and "wide shot" in frames[0]
    long_prompt = "A fluffy orange tabby cat with green eyes and a tiny blue collar sitting on a windowsill " * 3
    frames = _script(long_prompt.strip(), 8, style="cinematic, 35mm film")
    assert max(token_lengths(frames)) <= 77 and all(f.endswith("35mm film") for f in frames)
    assert all(a != b for a, b in zip(frames, frames[1:]))
