"""A key from the environment goes only to its own provider's hosts (issue 11, section 4).

Each back end is pointed at a loopback server with its provider's key in the environment and
the key field empty: the server must not receive that key. With a typed key, it gets that one.
"""

from __future__ import annotations

import pytest

from direct2v.director import keys, make_director

try:  # works with or without a tests/__init__.py, under `pytest` or `python -m pytest`
    from director_helpers import ScriptedServer, frames_json, gemini_reply, openai_reply
except ImportError:  # pragma: no cover
    from tests.director_helpers import ScriptedServer, frames_json, gemini_reply, openai_reply

ENV_SECRET = "env-secret-value-1234"
TYPED = "typed-for-this-server"

CASES = {
    # back end: (environment variables, reply, base URL suffix, header that carries the key)
    "openai": (("OPENAI_API_KEY",), openai_reply, "/v1", "authorization"),
    "gemini": (("GEMINI_API_KEY", "GOOGLE_API_KEY"), gemini_reply, "", "x-goog-api-key"),
    "huggingface": (("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"), openai_reply, "", "authorization"),
}


def _sent(srv) -> str:
    return " ".join(f"{k}: {v}" for r in srv.requests for k, v in r["headers"].items())


@pytest.mark.parametrize("backend", sorted(CASES))
def test_environment_key_never_goes_to_a_custom_server(backend, monkeypatch, tmp_path, hub_online):
    names, reply, suffix, header = CASES[backend]
    for name in names:
        monkeypatch.setenv(name, ENV_SECRET)
    with ScriptedServer([reply(frames_json(2))]) as srv:
        d = make_director(backend, model="m", base_url=srv.url + suffix, cache=False, backoff=0.001, timeout=5)
        assert len(d.direct("A fox runs", num_frames=2)) == 2
    assert len(srv.requests) == 1
    assert ENV_SECRET not in _sent(srv)
    assert ENV_SECRET not in repr(srv.requests[0]["body"])


@pytest.mark.parametrize("backend", sorted(CASES))
def test_typed_key_goes_to_the_server_it_was_typed_for(backend, monkeypatch, tmp_path, hub_online):
    names, reply, suffix, header = CASES[backend]
    for name in names:
        monkeypatch.setenv(name, ENV_SECRET)
    with ScriptedServer([reply(frames_json(2))]) as srv:
        d = make_director(backend, model="m", api_key=TYPED, base_url=srv.url + suffix, cache=False, timeout=5)
        d.direct("A fox runs", num_frames=2)
    assert TYPED in srv.requests[0]["headers"][header]
    assert ENV_SECRET not in _sent(srv)


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
