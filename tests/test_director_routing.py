"""A key from the environment goes only to its own provider's hosts (issue 11, section 4).

Each back end is pointed at a loopback server with its provider's key in the environment and
the key field empty: the server must not receive that key. With a typed key, it gets that one.
"""

from __future__ import annotations

import pytest

from direct2v.director import keys, make_director

from director_helpers import ScriptedServer, director_at, frames_json, gemini_reply, openai_reply

ENV_SECRET = "env-secret-value-1234"
TYPED = "typed-for-this-server"

CASES = {
    # back end: (environment variables, reply, header that carries the key)
    "openai": (("OPENAI_API_KEY",), openai_reply, "authorization"),
    "gemini": (("GEMINI_API_KEY", "GOOGLE_API_KEY"), gemini_reply, "x-goog-api-key"),
    "huggingface": (("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"), openai_reply, "authorization"),
}


def _sent(srv) -> str:
    return " ".join(f"{k}: {v}" for r in srv.requests for k, v in r["headers"].items())


@pytest.mark.parametrize("typed", [None, TYPED])
@pytest.mark.parametrize("backend", sorted(CASES))
def test_a_custom_server_gets_the_typed_key_or_none_never_the_environments(backend, typed, monkeypatch, tmp_path,
                                                                            hub_online):
    names, reply, header = CASES[backend]
    for name in names:
        monkeypatch.setenv(name, ENV_SECRET)
    with ScriptedServer([reply(frames_json(2))]) as srv:
        d = director_at(backend, srv.url, tmp_path, model="m", key=typed, cache=False)
        assert len(d.direct("A fox runs", num_frames=2)) == 2
    assert len(srv.requests) == 1
    assert ENV_SECRET not in _sent(srv) and ENV_SECRET not in repr(srv.requests[0]["body"])
    if typed:
        assert typed in srv.requests[0]["headers"][header]


def test_environment_key_is_used_for_the_providers_own_endpoint(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_SECRET)
    monkeypatch.setenv("GEMINI_API_KEY", ENV_SECRET)
    monkeypatch.setenv("HF_TOKEN", ENV_SECRET)
    assert make_director("openai", cache=False)._key == ENV_SECRET
    assert make_director("openai", base_url="https://api.openai.com/v1", cache=False)._key == ENV_SECRET
    assert make_director("gemini", cache=False)._key == ENV_SECRET
    assert make_director("huggingface", cache=False)._key == ENV_SECRET
    assert make_director("huggingface", base_url="https://x1.us-east-1.aws.endpoints.huggingface.cloud", cache=False)._key == ENV_SECRET


@pytest.mark.parametrize(
    "url,hosts,expected",
    [
        (None, keys.OPENAI_HOSTS, True),
        ("https://api.openai.com/v1", keys.OPENAI_HOSTS, True),
        ("http://api.openai.com/v1", keys.OPENAI_HOSTS, False),  # never a key in plain text
        ("https://api.openai.com.evil.example/v1", keys.OPENAI_HOSTS, False),
        ("https://evilapi.openai.com.example", keys.OPENAI_HOSTS, False),
        ("https://user:pw@127.0.0.1:8000/v1", keys.OPENAI_HOSTS, False),
        ("https://router.huggingface.co/v1", keys.HF_HOSTS, True),
        ("https://huggingface.co.example.org", keys.HF_HOSTS, False),
        ("https://generativelanguage.googleapis.com", keys.GEMINI_HOSTS, True),
        ("http://localhost:11434/v1", keys.GEMINI_HOSTS, False),
    ],
)
def test_provider_hosts(url, hosts, expected):
    assert keys.is_provider_url(url, hosts) is expected
