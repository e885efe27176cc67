"""The Hub probe: a machine without a network reads the cache at once instead of waiting out the
Hub client's retries, and the local director says why it fell back."""

from __future__ import annotations

import socket

import pytest

from direct2v import hub
from direct2v.director import local_backend, make_director

try:  # works with or without a tests/__init__.py, under `pytest` or `python -m pytest`
    from director_helpers import closed_port
except ImportError:  # pragma: no cover
    from tests.director_helpers import closed_port


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    import huggingface_hub.constants

    for var in hub._PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub.forget()
    local_backend.unload_all()
    yield
    hub.forget()
    local_backend.unload_all()


def test_probe_tells_a_listening_port_from_a_closed_one():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert hub.probe("127.0.0.1", server.getsockname()[1], timeout=2) is True
    assert hub.probe("127.0.0.1", closed_port(), timeout=2) is False
    assert hub.probe("no-such-host.invalid", 443, timeout=2) is False


def test_answer_is_remembered_and_skipped_where_it_proves_nothing(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(hub, "probe", lambda host, port: calls.append((host, port)) or False)
    assert hub.local_only("org/model") and hub.local_only("org/other")
    assert calls == [hub.endpoint()]  # one probe for both loads
    assert not hub.local_only(str(tmp_path))  # a folder on this machine
    assert not hub.local_only("./models/sd")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not hub.local_only("org/model")  # behind a proxy a direct connect proves nothing
    monkeypatch.delenv("HTTPS_PROXY")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert not hub.local_only("org/model")  # the library already reads the cache only
    assert len(calls) == 1


def test_local_director_without_network_reads_the_cache_only_and_says_so(monkeypatch, tmp_path):
    import transformers

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(hub, "probe", lambda host, port: False)
    seen = []
    real = transformers.AutoTokenizer.from_pretrained

    def spy(name, *args, **kwargs):
        seen.append(kwargs.get("local_files_only"))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", spy)
    d = make_director("local", model="direct2v-test/never-downloaded", cache=False, device="cpu")
    frames = d.direct("A corgi runs in a park", num_frames=3)
    assert len(frames) == 3 and all(frames)  # the built-in writer took over
    assert seen == [True]  # no request to the Hub, so no retries to wait out
    assert frames.backend == "offline"
    assert "never-downloaded" in frames.fallback and "the Hub cannot be reached" in frames.fallback


def test_render_model_without_network_reads_the_cache_only_and_says_so(monkeypatch, tmp_path):
    from diffusers import DiffusionPipeline

    from direct2v.render import loading
    from direct2v.render.errors import ModelLoadError

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(hub, "probe", lambda host, port: False)
    seen = []
    real = DiffusionPipeline.load_config.__func__

    def spy(cls, name, *args, **kwargs):
        seen.append(kwargs.get("local_files_only"))
        return real(cls, name, *args, **kwargs)

    monkeypatch.setattr(DiffusionPipeline, "load_config", classmethod(spy))
    with pytest.raises(ModelLoadError) as info:
        loading.load_pipeline("direct2v-test/never-downloaded", device="cpu")
    assert seen == [True]
    assert str(info.value).startswith("Could not load Stable Diffusion model 'direct2v-test/never-downloaded': "
                                      "it is not on this machine and the Hub cannot be reached.")


def test_clip_model_without_network_fails_at_once_and_says_why(monkeypatch, tmp_path):
    from direct2v.evaluate import clip

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(hub, "probe", lambda host, port: False)
    online = []
    real = clip._from_pretrained
    monkeypatch.setattr(clip, "_from_pretrained", lambda source, local_files_only: (
        online.append(local_files_only), real(source, local_files_only))[1])
    with pytest.raises(clip.ClipLoadError, match="the Hub cannot be reached"):
        clip._load_pretrained("direct2v-test/never-downloaded-clip", "cpu")
    assert online == [True]  # the cache was read; no online attempt to wait out


OWNER_TOKEN = "hf_OWNERSECRET0123456789"


@pytest.fixture
def logging_hub(monkeypatch, hub_online):
    """A loopback Hub that answers 404 to everything and logs each request, with the owner's
    token in the environment (HF_TOKEN), as on the owner's Space. Offline mode (CI sets it) is
    lifted, so a request that would go out does reach the log instead of being refused."""
    import huggingface_hub.constants as constants
    import huggingface_hub.hf_api

    try:
        from loopback import LoggingServer
    except ImportError:  # pragma: no cover
        from tests.loopback import LoggingServer
    import diffusers.loaders.lora_base as lora_base

    # diffusers keeps its own copy of the offline flag, taken when the module was first imported
    # (offline under CI unless a test lifted it then): lift that copy too, in any test order.
    monkeypatch.setattr(lora_base, "HF_HUB_OFFLINE", False)
    with LoggingServer() as server:
        monkeypatch.setenv("HF_TOKEN", OWNER_TOKEN)
        monkeypatch.setattr(hub, "probe", lambda host, port: True)
        monkeypatch.setattr(constants, "ENDPOINT", server.url)
        monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", server.url)  # fixed when the module was imported
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
        yield server


def test_a_visitors_names_never_carry_the_owners_token(logging_hub, tmp_path, monkeypatch):
    from direct2v.render import loading
    from direct2v.render.errors import ModelLoadError

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    pipe = loading.load_pipeline("tiny", device="cpu")
    # The owner's own name (token None) carries it: the checks below could fail.
    with pytest.raises(ModelLoadError):
        loading._apply_lora(pipe, "owner-org/private-lora", 1.0)
    assert logging_hub.requests
    assert logging_hub.authorizations() == [f"Bearer {OWNER_TOKEN}"] * len(logging_hub.requests)
    logging_hub.requests.clear()
    with pytest.raises(ModelLoadError):
        loading.load_pipeline("evil-org/huge-model", device="cpu", token=False)
    with pytest.raises(ModelLoadError):
        loading._apply_lora(pipe, "evil-org/some-lora", 1.0, token=False)
    d = make_director("local", model="evil-org/llm-x", cache=False, device="cpu", token=False)
    assert len(d.direct("A corgi runs in a park", num_frames=2)) == 2  # the built-in writer took over
    assert any("some-lora" in r["path"] for r in logging_hub.requests)
    assert any("llm-x" in r["path"] for r in logging_hub.requests)
    assert logging_hub.authorizations() == []


@pytest.mark.parametrize("name", ["evil-org/huge-model", "/root/.ssh", "/etc/passwd", "~/.cache", "../x.safetensors"])
def test_names_outside_the_owners_lists_are_refused_before_any_request(logging_hub, name):
    from direct2v.director import DirectorConfigError
    from direct2v.render import loading
    from direct2v.render.errors import ModelLoadError

    listed = ["tiny", "owner-org/listed-lora"]
    messages = set()
    for kwargs in ({"model": name}, {"model": "tiny", "lora": name}, {"model": "tiny", "config": name}):
        with pytest.raises(ModelLoadError) as refused:
            loading.load_pipeline(device="cpu", listed=listed, **kwargs)
        messages.add(str(refused.value))
    with pytest.raises(DirectorConfigError) as refused:
        make_director("local", model=name, cache=False, device="cpu", listed=["owner-org/llm"])
    assert messages == {hub.NOT_LISTED.format(what="models and LoRAs")}  # one message, whatever exists
    assert str(refused.value) == hub.NOT_LISTED.format(what="director models")
    assert logging_hub.requests == []
    assert loading.load_pipeline("tiny", device="cpu", listed=listed).model_name == "tiny"
