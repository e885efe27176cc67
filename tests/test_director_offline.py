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
@pytest.mark.parametrize("n", [2, 4, 8, 16])  # a video has at least 2 frames (frames.py)
def test_offline_gives_exactly_n_fitting_frames(prompt, n):
    frames = make_director("offline").direct(prompt, num_frames=n, fps=4)
    assert len(frames) == n and all(f.strip() for f in frames)
    assert over_limit_frames(frames) == []
    assert make_director("offline").direct(prompt, num_frames=n) == frames  # deterministic


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


def test_a_result_is_the_list_of_frames_and_says_who_wrote_it():
    import copy
    import json
    import pickle

    result = make_director("offline").direct("A fox runs, then it sleeps", num_frames=3)
    # design.md's `direct(...) -> list[str]` holds: a list, equal to its frames, JSON as a list.
    assert isinstance(result, list) and result == result.frames and json.loads(json.dumps(result)) == result
    assert (result.backend, result.model, result.fallback, result.cached) == ("offline", None, None, False)
    assert result.byline() == "Written by the built-in writer (rule-based, no language model)."
    for kept in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):  # a value: it travels whole
        assert type(kept) is type(result) and kept == result and kept.byline() == result.byline()
