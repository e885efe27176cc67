"""The local back end on a tiny randomly initialised chat model built in-process (no download).

The pair that shows constrained decoding works: the same random model answers every N from
2 to 24 with exactly N non-empty frames on the first try when the constraints are on, and
fails when they are off.
"""

from __future__ import annotations

import json

import pytest

from direct2v.director import DirectorFormatError, DirectorModelError, default_backend, make_director
from direct2v.director import constrained, local_backend
from direct2v.director.parsing import parse_frames

from tiny_chat import build_tiny_chat_model

CHARS = 10  # short frames keep the random model's answers (and the test) short


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory):
    import torch

    # One thread: a 16-wide model gains nothing from more, and loses much on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def fresh_process_state():
    local_backend.unload_all()
    yield
    local_backend.unload_all()


def local(model, **options):
    options.setdefault("cache", False)
    options.setdefault("device", "cpu")
    # A random model's frames repeat, which the quality gate answers with one more turn; that is
    # not a format retry (tests/test_director_quality.py), so the request counts here are the
    # constraints' alone.
    options.setdefault("quality_retries", 0)
    return make_director("local", model=model, max_frame_chars=CHARS, **options)


def test_constrained_random_model_gives_exactly_n_frames_first_try_for_every_n(tiny_chat_model):
    d = local(tiny_chat_model, max_format_retries=0)
    for n in range(2, 25):
        sent = d.requests_sent
        frames = d.direct("A fox runs across a field", num_frames=n)
        assert d.requests_sent == sent + 1, f"N={n} needed a retry"
        assert len(frames) == n and all(f.strip() for f in frames), (n, frames)
        assert all(len(f) <= CHARS for f in frames)


def test_unconstrained_same_model_fails(tiny_chat_model, tmp_path):
    d = local(tiny_chat_model, constrained=False, max_new_tokens=8, max_format_retries=1, cache=True, cache_dir=tmp_path)
    with pytest.raises(DirectorFormatError, match=r"local model .* unusable answer after 2 tries"):
        d.direct("A fox runs", num_frames=3)
    assert d.requests_sent == 2
    assert not list(tmp_path.rglob("*.json"))  # failures are never cached


def test_unconstrained_cut_off_is_reported_as_such_with_a_larger_budget(tiny_chat_model):
    d = local(tiny_chat_model, constrained=False, max_new_tokens=6, max_format_retries=1)
    with pytest.raises(DirectorFormatError, match=r"cut off at the output-token limit \(12 tokens\)"):
        d.direct("A fox runs", num_frames=2)  # the first try was cut at 6, the retry at twice that


def test_double_fps_and_redirect_use_the_same_constraints(tiny_chat_model):
    d = local(tiny_chat_model, max_format_retries=0)
    frames = d.direct("A fox runs", num_frames=3)
    doubled = d.double_fps()
    assert len(doubled) == 6 and all(f.strip() for f in doubled) and d.requests_sent == 2
    edited = ["a fox sleeps", "a fox wakes", "a fox runs"]
    four = d.double_fps(edited, fps=4, user_prompt="A fox")
    assert len(four) == 6 and d.requests_sent == 3
    new = d.redirect_frame(frames, 1, user_prompt="A fox runs").frame
    assert new.strip() and len(new) <= CHARS and d.requests_sent in (4, 5)  # one more if it came back unchanged


def test_schema_admits_exactly_n_non_empty_bounded_frames():
    import re

    schema = constrained.frames_schema(3, 12)
    items = schema["properties"]["frames"]
    assert items["minItems"] == items["maxItems"] == 3
    pattern = re.compile(items["items"]["pattern"])
    assert pattern.match("a fox, dawn") and pattern.match("x") and pattern.match("Zo\u00eb, caf\u00e9")
    for bad in ["", " a", "a ", '"a"', "**a**", "Frame 1:", "a" * 13, "2 \u00d7 3 apples", "\u00e9\u00f7"]:
        assert not pattern.match(bad), bad
    # Whatever the pattern admits survives the parser's clean-up non-empty.
    assert parse_frames(json.dumps({"frames": ["Frame 1: a", "b", "c9"]}), 3) == ["a", "b", "c9"]


def test_the_grammar_admits_the_plan_the_prompt_asks_for_before_the_frames(tiny_chat_model):
    from direct2v.director import prompts

    schema = constrained.frames_schema(3, 12)
    assert list(schema["properties"]) == schema["required"] == ["beats", "frames"]
    beats = schema["properties"]["beats"]
    assert (beats["minItems"], beats["maxItems"]) == (1, constrained.MAX_BEATS)
    d = local(tiny_chat_model)
    answer = json.loads(d._complete(prompts.direct_messages("A fox runs", 3, 8, None, None), 3))
    assert list(answer) == ["beats", "frames"]  # the random model writes its plan first, as asked
    assert 1 <= len(answer["beats"]) <= constrained.MAX_BEATS and len(answer["frames"]) == 3
    assert all(0 < len(b) <= constrained.MAX_BEAT_CHARS for b in answer["beats"])
    # The budget holds the longest admitted plan and frames, so the answer is never cut off.
    longest = {"beats": ["b" * constrained.MAX_BEAT_CHARS] * constrained.MAX_BEATS, "frames": ["f" * CHARS] * 3}
    assert len(json.dumps(longest)) <= constrained.token_budget(3, CHARS, beats=True)


def test_model_is_loaded_once_per_process(tiny_chat_model):
    assert local_backend.loading_message(tiny_chat_model, "cpu") == (
        f"Loading the local director {tiny_chat_model} on the CPU (float32) (first use only; it stays loaded)…")
    first = local_backend.load_chat_model(tiny_chat_model, "cpu")
    assert local_backend.loading_message(tiny_chat_model, "cpu") is None  # loaded: nothing to announce
    second = local_backend.load_chat_model(tiny_chat_model, "cpu")
    assert first[1] is second[1] and first[0] is second[0]
    assert str(next(first[1].parameters()).dtype) == "torch.float32"


def test_explicit_redirect_asks_again_while_repeats_hit_the_cache(tiny_chat_model, tmp_path):
    d = local(tiny_chat_model, cache=True, cache_dir=tmp_path)
    first = d.direct("A fox runs", num_frames=3)
    again = d.direct("A fox runs", num_frames=3)
    assert again == first and d.requests_sent == 1 and again.cached and not first.cached
    assert (first.backend, first.model, first.fallback) == ("local", tiny_chat_model, None)
    fresh = d.direct("A fox runs", num_frames=3, fresh=True)
    assert d.requests_sent == 2 and not fresh.cached


def test_missing_model_falls_back_to_the_built_in_writer_said_on_every_call(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = str(tmp_path / "no-such-model")
    d = local(missing)
    frames = d.direct("A corgi runs in a park", num_frames=4)
    assert len(frames) == 4 and all(frames)
    assert (frames.backend, frames.model) == ("offline", None) and "built-in writer" in frames.author
    assert frames.fallback.startswith("The local model") and "no-such-model" in frames.fallback
    assert frames.fallback.endswith(f"{local_backend.FALLBACK_FIX}.") and "--llm-model PATH" in frames.fallback
    assert frames.byline().startswith("Written by the built-in writer") and "no-such-model" in frames.byline()
    doubled = d.double_fps()
    assert len(doubled) == 8 and doubled.fallback == frames.fallback  # the writer goes on, and says so again
    assert d.redirect_frame(frames, 1).fallback == frames.fallback
    # Another director (another page visitor) in the same process is told too, not only the first.
    again = local(missing).direct("A corgi runs in a park", num_frames=2)
    assert len(again) == 2 and again.backend == "offline" and again.fallback == frames.fallback
    # The writer's own notice comes with it, on its own line.
    bird = d.direct("a bird", num_frames=2)
    assert bird.fallback == frames.fallback and "No event found" in bird.notice
    with pytest.raises(DirectorModelError, match="cannot be loaded"):
        local(missing, fallback=False).direct("A fox runs", num_frames=2)


def test_placement_gpu_only_with_room_beside_stable_diffusion(tiny_chat_model, monkeypatch):
    import torch

    need = local_backend.estimate_bytes(tiny_chat_model, "float16")
    model = local_backend.load_chat_model(tiny_chat_model, "cpu")[1]
    assert need == sum(p.numel() for p in model.parameters()) * 2
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (local_backend.SD_RESERVE_BYTES + 2 * need, 80 * 2**30))
    roomy = local_backend.plan_placement(tiny_chat_model)
    assert (roomy.device, roomy.dtype) == ("cuda", "bfloat16") and "GPU" in roomy.why
    local_backend.unload_all()
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (local_backend.SD_RESERVE_BYTES, 80 * 2**30))
    tight = local_backend.plan_placement(tiny_chat_model)
    assert (tight.device, tight.dtype) == ("cpu", "float32")
    assert tight.why.startswith("on the CPU: the GPU has 6.0 GiB free") and "Stable Diffusion" in tight.why
    assert local_backend.loading_message(tiny_chat_model).startswith(f"Loading the local director {tiny_chat_model} on the CPU")


def test_default_is_the_local_model_without_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", local_backend.ENV_MODEL):
        monkeypatch.delenv(name, raising=False)
    assert default_backend() == "local"
    assert make_director("local").model == local_backend.DEFAULT_LOCAL_MODEL
    monkeypatch.setenv(local_backend.ENV_MODEL, "/models/my-chat")
    assert make_director("local").model == "/models/my-chat"
    assert make_director("local", model="other/model").model == "other/model"
    monkeypatch.setenv("OPENAI_API_KEY", "test-not-a-key")
    assert default_backend() == "openai"


def test_a_load_failure_names_the_reason_without_cutting_it(monkeypatch):
    """The hub's offline message runs to several sentences and a link; the notice keeps its
    first sentence whole instead of cutting the text mid-word."""
    import transformers

    from direct2v.director import local_backend
    from direct2v.director.errors import DirectorModelError

    hub = ("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in the "
           "cached files. Check your internet connection or see how to run the library in offline mode at "
           "'https://huggingface.co/docs/transformers/installation#offline-mode'.")

    def refuse(*args, **kwargs):
        raise OSError(hub)

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)
    monkeypatch.setattr(local_backend, "_FAILED", {})
    monkeypatch.setattr(local_backend.hub, "reachable", lambda: True)  # the library's own message, as online
    monkeypatch.setattr(local_backend.hub, "offline_mode", lambda: False)
    with pytest.raises(DirectorModelError) as e:
        local_backend.load_chat_model("someone/not-here", device="cpu", dtype="float32")
    msg = str(e.value)
    # the server's address may be left out (errors.without_server_details); the sentence stays whole
    assert " to load the files, and couldn't find them in the cached files)" in msg and "(We couldn't connect to" in msg
    assert "..." not in msg and "offline mode at" not in msg


def test_hub_offline_is_named_as_the_reason(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr(local_backend, "_FAILED", {})
    d = local("direct2v-test/never-downloaded")
    notice = d.direct("A fox runs", num_frames=2).fallback
    assert "(HF_HUB_OFFLINE is set and it is not in the Hugging Face cache)" in notice
    assert "couldn't connect" not in notice.lower()


def test_missing_xgrammar_falls_back_with_that_reason(tiny_chat_model, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xgrammar" else real(name, *a))
    d = local(tiny_chat_model)
    result = d.direct("A fox runs", num_frames=2)
    assert len(result) == 2 and result.backend == "offline"
    assert "xgrammar is not installed" in result.fallback and "built-in writer" in d.describe()
    with pytest.raises(DirectorModelError, match="xgrammar"):
        local(tiny_chat_model, fallback=False).direct("A fox runs", num_frames=2)
