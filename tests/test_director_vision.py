"""The start picture reaches vision-capable directors (issue 17): the request shapes of the real
openai, google-genai and huggingface_hub SDKs against scripted loopback servers, the
down-scaling, a text-only model's refusal, the cache key, and the back ends that read text only."""

from __future__ import annotations

import base64
import io
import json
import logging

import numpy as np
import pytest
from PIL import Image

from direct2v.director import (
    IMAGE_PROMPT_VERSION, DirectorImageUnsupported, DirectorInputError, DirectorRequestError, make_director,
)
from direct2v.director.cache import request_key
from direct2v.director.errors import image_unsupported
from direct2v.director.prompts import PICTURE_INSTRUCTION
from direct2v.director.vision import MAX_SIDE, prepare_image

from director_helpers import ScriptedServer, director_at, frames_json, gemini_error, gemini_reply, openai_error, openai_reply

MOTION = "it starts to run across the field"
KEY = "sk-FAKE-VISION-0001"


def picture(w: int = 1200, h: int = 600, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def from_data_url(url: str) -> bytes:
    head, _, b64 = url.partition(",")
    assert head == "data:image/jpeg;base64"
    return base64.b64decode(b64)


def openai_director(url: str, tmp_path, backend: str = "openai", **options):
    return director_at(backend, url, tmp_path, model="vision-model", key=KEY, **options)


# ----------------------------------------------------------------------------- the picture as sent
def test_prepare_scales_the_longest_side_down_and_never_up():
    big = prepare_image(picture(1200, 600))
    assert big.mime_type == "image/jpeg" and big.size == (MAX_SIDE, MAX_SIDE // 2) and big.source_size == (1200, 600)
    assert decoded(big.data).size == (MAX_SIDE, MAX_SIDE // 2) and decoded(big.data).format == "JPEG"
    small = prepare_image(picture(100, 40))
    assert small.size == small.source_size == (100, 40)
    assert prepare_image(Image.fromarray(picture(100, 40))).sha256 == small.sha256  # PIL and array: same bytes
    assert prepare_image(picture(100, 40, seed=1)).sha256 != small.sha256
    assert "base64" not in repr(big) and big.base64()[:40] not in repr(big)


def test_bad_pictures_are_input_errors_before_any_request(tmp_path):
    with pytest.raises(DirectorInputError, match="does not exist"):
        prepare_image(tmp_path / "nope.png")
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        with pytest.raises(DirectorInputError, match="(?i)empty|zero"):
            openai_director(srv.url, tmp_path).direct(MOTION, num_frames=4, image=np.zeros((0, 5, 3), np.uint8))
    assert srv.requests == []


# ----------------------------------------------------------------------------- request shapes
def test_openai_gets_an_image_url_part_before_the_text(tmp_path):
    image = picture()
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path)
        frames = r = d.direct(MOTION, num_frames=4, fps=4, image=image)
    assert frames == [f"a red fox frame {i}" for i in range(4)]
    messages = srv.requests[0]["body"]["messages"]
    assert isinstance(messages[0]["content"], str)  # the system prompt stays plain text
    first, second = messages[1]["content"]
    assert first["type"] == "image_url" and second["type"] == "text"
    sent = from_data_url(first["image_url"]["url"])
    assert sent == prepare_image(image).data
    assert decoded(sent).size == (MAX_SIDE, MAX_SIDE // 2)
    assert MOTION in second["text"] and PICTURE_INSTRUCTION in second["text"]
    assert r.image_sent and r.image_note.startswith("The OpenAI-compatible server's model 'vision-model'")
    assert "got the picture (768x384, scaled from 1200x600)" in r.image_note


def test_gemini_gets_an_inline_data_part_before_the_text(tmp_path):
    image = picture()
    with ScriptedServer([gemini_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path, backend="gemini")
        r = d.direct(MOTION, num_frames=4, image=image)
    parts = srv.requests[0]["body"]["contents"][0]["parts"]
    inline = parts[0]["inlineData"]
    # The SDK writes the blob's mime type in snake case (the REST API accepts both spellings).
    assert len(parts) == 2 and inline.get("mimeType", inline.get("mime_type")) == "image/jpeg"
    sent = base64.urlsafe_b64decode(inline["data"])
    assert sent == prepare_image(image).data and decoded(sent).size == (MAX_SIDE, MAX_SIDE // 2)
    assert MOTION in parts[1]["text"] and PICTURE_INSTRUCTION in parts[1]["text"]
    assert r.image_sent and "Gemini model 'vision-model'" in r.image_note


def test_huggingface_gets_openai_format_parts(tmp_path, hub_online):
    image = picture(300, 900)
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path, backend="huggingface")
        r = d.direct(MOTION, num_frames=4, image=image)
    content = srv.requests[0]["body"]["messages"][1]["content"]
    assert [p["type"] for p in content] == ["image_url", "text"]
    sent = from_data_url(content[0]["image_url"]["url"])
    assert decoded(sent).size == (MAX_SIDE // 3, MAX_SIDE)
    assert PICTURE_INSTRUCTION in content[1]["text"] and r.image_sent


def test_doubling_the_same_conversation_still_shows_the_picture(tmp_path):
    with ScriptedServer([openai_reply(frames_json(2)), openai_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path)
        d.direct(MOTION, num_frames=2, image=picture())
        d.double_fps()
    turns = srv.requests[1]["body"]["messages"]
    assert turns[1]["content"][0]["type"] == "image_url" and isinstance(turns[-1]["content"], str)


def test_text_only_request_is_unchanged(tmp_path):
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path)
        r = d.direct(MOTION, num_frames=4)
    user = srv.requests[0]["body"]["messages"][1]["content"]
    assert isinstance(user, str) and "attached picture" not in user
    assert r.image_note is None and not r.image_sent


# ----------------------------------------------------------------------------- a text-only model
@pytest.mark.parametrize("status,message", [
    (400, "Invalid content type. image_url is only supported by certain models."),
    (400, "vision-model is not a multimodal model"),
    (500, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"),
])
def test_openai_refusal_falls_back_to_text_and_says_so(tmp_path, status, message):
    with ScriptedServer([openai_error(status, message), openai_reply(frames_json(4)), openai_reply(frames_json(4, "later"))]) as srv:
        d = openai_director(srv.url, tmp_path, cache=False)
        frames = r = d.direct(MOTION, num_frames=4, image=picture())
        assert len(srv.requests) == 2  # the refused request, then the text alone (a 500 here is not retried)
        retry = srv.requests[1]["body"]["messages"][1]["content"]
        assert isinstance(retry, str) and "attached picture" not in retry and MOTION in retry
        assert frames[0] == "a red fox frame 0" and not r.image_sent
        assert "does not accept pictures" in r.image_note and f"({status}: " in r.image_note
        assert r.image_note.endswith("The script was written from your prompt alone; describe the picture in it.")
        r = d.direct(MOTION, num_frames=4, image=picture())  # the same director does not offer it again
    assert len(srv.requests) == 3 and isinstance(srv.requests[2]["body"]["messages"][1]["content"], str)
    assert "refused one before" in r.image_note


def test_gemini_refusal_falls_back_to_text(tmp_path):
    refusal = gemini_error(400, "Image input modality is not enabled for models/vision-model", "INVALID_ARGUMENT")
    with ScriptedServer([refusal, gemini_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path, backend="gemini")
        r = d.direct(MOTION, num_frames=4, image=picture())
    assert len(srv.requests) == 2 and len(srv.requests[1]["body"]["contents"][0]["parts"]) == 1
    assert "Gemini model 'vision-model'" in r.image_note and "does not accept pictures" in r.image_note


def test_huggingface_refusal_falls_back_to_text(tmp_path, hub_online):
    with ScriptedServer([openai_error(422, "Image input is not supported for this model"), openai_reply(frames_json(4))]) as srv:
        d = openai_director(srv.url, tmp_path, backend="huggingface")
        r = d.direct(MOTION, num_frames=4, image=picture())
    assert len(srv.requests) == 2 and isinstance(srv.requests[1]["body"]["messages"][1]["content"], str)
    assert "does not accept pictures (422" in r.image_note


def test_another_bad_request_with_a_picture_is_reported_not_swallowed(tmp_path):
    with ScriptedServer([openai_error(400, "Unknown parameter: 'frobnicate'.")]) as srv:
        with pytest.raises(DirectorRequestError, match="frobnicate") as caught:
            openai_director(srv.url, tmp_path).direct(MOTION, num_frames=4, image=picture())
    assert not isinstance(caught.value, DirectorImageUnsupported) and len(srv.requests) == 1


@pytest.mark.parametrize("status,message,expected", [
    (400, "Invalid content type. image_url is only supported by certain models.", True),
    (400, "model does not support images", True),
    (400, "Multimodal input is not enabled for this model", True),
    (200, "image not supported", False),
    (400, "Invalid value for 'temperature'", False),
    (400, "response_format json_schema is not supported", False),
    (404, "The model 'vision' does not exist", False),
    (None, "image not supported", False),
])
def test_image_unsupported_reads_the_servers_words(status, message, expected):
    assert image_unsupported(status, message) is expected


# ----------------------------------------------------------------------------- cache
def test_cache_key_holds_the_picture_hash_and_never_the_picture(tmp_path):
    a, b = picture(seed=1), picture(seed=2)
    replies = [openai_reply(frames_json(4, w)) for w in ("a", "b", "text", "unused")]
    with ScriptedServer(replies) as srv:
        d = openai_director(srv.url, tmp_path)
        first = d.direct(MOTION, num_frames=4, image=a)
        again = r = d.direct(MOTION, num_frames=4, image=a)
        assert len(srv.requests) == 1 and again == first and "cached script" in r.image_note and r.image_sent
        other = d.direct(MOTION, num_frames=4, image=b)
        text = d.direct(MOTION, num_frames=4)
    assert len(srv.requests) == 3 and other[0] == "a red fox b 0" and text[0] == "a red fox text 0"
    records = [json.loads(p.read_text()) for p in tmp_path.rglob("*.json")]
    assert len(records) == 3
    with_picture = [r["request"] for r in records if "image_sha256" in r["request"]]
    assert sorted(r["image_sha256"] for r in with_picture) == sorted(prepare_image(x).sha256 for x in (a, b))
    assert all(r["image_prompt_version"] == IMAGE_PROMPT_VERSION for r in with_picture)
    blob = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert prepare_image(a).base64()[:64] not in blob and "data:image" not in blob
    key_a = request_key(with_picture[0])
    assert key_a != request_key({k: v for k, v in with_picture[0].items() if not k.startswith("image_")})


def test_the_picture_is_never_logged(tmp_path, caplog, hub_online):
    image = picture()
    fragment = prepare_image(image).base64()[100:160]
    caplog.set_level(logging.DEBUG)
    with ScriptedServer([openai_reply(frames_json(3)), openai_reply(frames_json(4))]) as srv:
        openai_director(srv.url, tmp_path / "o", cache=False).direct(MOTION, num_frames=4, image=image)
    with ScriptedServer([gemini_reply(frames_json(4))]) as srv:
        openai_director(srv.url, tmp_path / "g", backend="gemini", cache=False).direct(MOTION, num_frames=4, image=image)
    with ScriptedServer([openai_reply(frames_json(4))]) as srv:
        openai_director(srv.url, tmp_path / "h", backend="huggingface", cache=False).direct(MOTION, num_frames=4, image=image)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records and fragment not in text and fragment.replace("+", "-").replace("/", "_") not in text


# ----------------------------------------------------------------------------- text-only back ends
def test_offline_director_says_it_reads_text_only_and_writes_the_same_script():
    d = make_director("offline")
    plain = d.direct("a brown dog starts to run", num_frames=4)
    with_picture = r = d.direct("a brown dog starts to run", num_frames=4, image=picture(64, 64))
    assert with_picture == plain and not r.image_sent
    assert r.image_note == (
        "The picture was not sent: the offline director reads text only, so the script follows your prompt alone."
    )


def test_local_director_reads_text_only_and_says_so(tmp_path, monkeypatch):
    from direct2v.director import local_backend

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local_backend.unload_all()
    try:
        d = make_director("local", model=str(tmp_path / "no-such-model"), cache=False)
        frames = r = d.direct("a brown dog starts to run", num_frames=4, image=picture(64, 64))
    finally:
        local_backend.unload_all()
    assert len(frames) == 4 and not r.image_sent
    # The built-in writer stood in for the model that cannot load: it is the one named.
    assert r.backend == "offline" and "cannot be loaded" in r.fallback
    assert r.image_note.startswith("The picture was not sent: the offline director reads text only")


def test_local_vision_language_model_sees_the_picture(tmp_path):
    """A local model whose config has a vision part gets the picture through its processor."""
    import torch

    from tiny_chat import build_tiny_vlm
    from direct2v.director import local_backend

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    local_backend.unload_all()
    try:
        model = build_tiny_vlm(tmp_path / "tiny-vlm")
        d = make_director("local", model=model, cache=False, device="cpu", max_frame_chars=10, quality_retries=0)
        _, lm = local_backend.load_chat_model(model, "cpu")
        seen = []
        lm.model.vision_tower.register_forward_hook(lambda module, args, out: seen.append(tuple(args[0].shape)))
        frames = r = d.direct(MOTION, num_frames=2, image=picture(60, 40))
        assert len(frames) == 2 and all(frames) and seen == [(1, 3, 28, 28)]
        assert r.image_sent and r.image_note.startswith(f"The local model {model!r} got the picture (60x40)")
        r = d.direct(MOTION, num_frames=2)  # no picture: the vision tower is not run
        assert len(seen) == 1 and r.image_note is None
    finally:
        local_backend.unload_all()
        torch.set_num_threads(threads)
