"""The owner and the visitors (issue 20): which mode the server is in, what the owner's policy
allows, and anonymous visitors of a Space kept apart from each other."""

from __future__ import annotations

import pytest

import app
from direct2v.services.policy import ServerPolicy, public_mode
from direct2v.settings import SettingsError

SPACE_VARS = ("SPACE_ID", "DIRECT2V_PUBLIC", "DIRECT2V_HOST", "GRADIO_SERVER_NAME", "DIRECT2V_SHARE_KEYS", "DIRECT2V_MODELS")


@pytest.fixture
def clean_env(monkeypatch):
    for var in SPACE_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "flags, env, public",
    [
        ([], {}, False),  # the single user on 127.0.0.1: nothing changes
        (["--host", "localhost"], {}, False),
        (["--host", "::1"], {}, False),
        (["--public"], {}, True),
        ([], {"SPACE_ID": "someone/direct2v"}, True),
        (["--share"], {}, True),
        (["--host", "0.0.0.0"], {}, True),
        (["--host", "192.168.1.20"], {}, True),
        (["--private", "--host", "0.0.0.0", "--share"], {}, False),  # a trusted team
        (["--private"], {"SPACE_ID": "someone/direct2v"}, False),
        ([], {"DIRECT2V_PUBLIC": "1"}, True),
    ],
)
def test_public_mode_follows_the_flags_and_the_environment(clean_env, flags, env, public):
    for k, v in env.items():
        clean_env.setenv(k, v)
    policy = app.parse_args(flags).policy
    assert policy.public is public
    assert ("Public mode" if public else "Private mode") in policy.mode_line()


def test_public_and_private_together_are_refused(clean_env):
    with pytest.raises(SystemExit):
        app.parse_args(["--public", "--private"])


def test_owner_lists_and_keys_come_from_flags_and_environment(clean_env):
    clean_env.setenv("DIRECT2V_MODELS", "owner/model-a, owner/model-b")
    p = app.parse_args(["--public", "--model", "tiny", "--loras", "owner/lora", "--share-keys", "huggingface",
                        "--base-urls", "https://llm.example.org/v1/"]).policy
    assert p.allowed_models("tiny") == ("tiny", "owner/model-a", "owner/model-b")
    assert p.allows_model("owner/model-b", "tiny") and not p.allows_model("evil-org/huge-model", "tiny")
    assert p.allows_lora("") and p.allows_lora("owner/lora") and not p.allows_lora("evil-org/some-lora")
    assert p.shares_key("huggingface") and not p.shares_key("openai") and not p.shares_key("gemini")
    assert p.allows_base_url("https://llm.example.org/v1") and not p.allows_base_url("http://127.0.0.1:11434/v1")
    with pytest.raises(SystemExit):
        app.parse_args(["--share-keys", "everyone"])


def test_private_mode_allows_what_the_page_always_allowed():
    p = ServerPolicy()
    assert not p.public and p.shares_key("openai") and p.allows_model("any/thing", "tiny") and p.allows_lora("x.safetensors")
    p.check_render(256, 2048, 2048, 1000)  # the schema's own limits still apply elsewhere


def test_owner_maxima_bound_a_visitors_render():
    p = ServerPolicy(public=True, max_frames=16, max_pixels=512 * 512, max_steps=30)
    p.check_render(16, 512, 512, 30)
    for args, word in [((17, 512, 512, 30), "frames"), ((16, 2048, 2048, 30), "pixels"), ((16, 512, 512, 999), "steps")]:
        with pytest.raises(SettingsError, match=word):
            p.check_render(*args)


def test_public_mode_reasons_are_named():
    assert public_mode({}, host="127.0.0.1") == (False, "local: 127.0.0.1")
    assert public_mode({"SPACE_ID": "a/b"})[1] == "a Hugging Face Space"
    assert public_mode({}, share=True, private=True) == (False, "--private")


def test_the_page_says_which_mode_it_is_in(clean_env):
    demo = app.build(app.parse_args(["--model", "tiny", "--no-preload", "--public", "--max-frames", "12"]))
    mode = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "server-mode"]
    assert mode and "Public mode (--public)" in mode[0].value and "12 frames" in mode[0].value
    demo = app.build(app.parse_args(["--model", "tiny", "--no-preload"]))
    mode = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "server-mode"]
    assert "Private mode" in mode[0].value
