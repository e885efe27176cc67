"""Base URLs: parsed rather than concatenated everywhere, and on a public server checked,
pinned and never redirected (direct2v/director/urls.py), against loopback servers."""

from __future__ import annotations

import socket

import pytest

from direct2v.director import DirectorConfigError, make_director
from direct2v.director.urls import REFUSED, BaseURLRefused, URLPolicy, is_public_address, parse_base_url

from director_helpers import Reply, ScriptedServer, closed_port, frames_json, openai_reply

PUBLIC = URLPolicy.of(public=True)


def openai(base_url: str, tmp_path, **options):
    return make_director("openai", model="m", api_key="sk-typed", base_url=base_url, cache=False,
                         timeout=3, max_retries=0, backoff=0.001, **options)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/internal/admin?x=1#", "http://127.0.0.1:9/v1#", "http://127.0.0.1:9/v1?",
    "http://user:pw@127.0.0.1:9/v1", "http://@127.0.0.1:9/v1", "file:///etc/passwd", "http:///v1",
    "http://127.0.0.1:9/v1 x", "http://127.0.0.1:99999/v1",
])
def test_base_url_with_query_fragment_userinfo_or_no_host_is_refused(url):
    with pytest.raises(DirectorConfigError):
        parse_base_url(url)


def test_base_url_is_normalised():
    assert parse_base_url("HTTPS://Example.COM:443/a/./b/../v1/") == "https://example.com/a/v1"
    assert parse_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert parse_base_url("http://[::1]:80/v1/..") == "http://[::1]"
    assert parse_base_url("  ") is None


def test_the_route_stays_in_the_path_it_was_given(tmp_path):
    """The old concatenation turned `/internal/admin?x=1#` into POST /internal/admin/?x=1chat/completions."""
    with ScriptedServer([openai_reply(frames_json(2))]) as srv:
        with pytest.raises(DirectorConfigError):
            openai(srv.url + "/internal/admin?x=1#", tmp_path)
        openai(srv.url + "/v1/../v1/", tmp_path).direct("a fox", 2)
    assert [r["path"] for r in srv.requests] == ["/v1/chat/completions"]


@pytest.mark.parametrize("address,public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("127.0.0.1", False), ("127.8.9.1", False),
    ("::1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::", False),
    ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False), ("fe80::1", False), ("fd00::1", False),
    ("2002:7f00:1::", False), ("64:ff9b::a9fe:a9fe", False), ("224.0.0.1", False), ("240.0.0.1", False),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public


def _loopback_names(port: int) -> list[str]:
    names = [f"https://127.0.0.1:{port}/v1", f"https://localhost:{port}/v1", f"https://2130706433:{port}/v1",
             f"https://0x7f.1:{port}/v1", f"https://[::ffff:127.0.0.1]:{port}/v1", f"https://0.0.0.0:{port}/v1",
             f"http://127.0.0.1:{port}/v1", f"https://169.254.169.254/latest", "https://name.invalid/v1"]
    try:  # this machine's own name resolves to a loopback or private address, never a public one
        if not all(is_public_address(i[4][0]) for i in socket.getaddrinfo(socket.gethostname(), port)):
            names.append(f"https://{socket.gethostname()}:{port}/v1")
    except OSError:
        pass
    return names


def test_public_server_refuses_loopback_and_private_hosts_before_any_connection(tmp_path):
    with ScriptedServer([openai_reply(frames_json(2))]) as srv:
        for url in _loopback_names(srv.port):
            with pytest.raises(BaseURLRefused) as refused:
                openai(url, tmp_path, url_policy=PUBLIC).direct("a fox", 2)
            assert str(refused.value) == REFUSED
    assert srv.requests == []


def test_refusal_reads_the_same_for_open_closed_and_silent_ports(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    with silent, ScriptedServer([openai_reply(frames_json(2))]) as srv:
        messages = set()
        for port in (srv.port, closed_port(), silent.getsockname()[1]):
            with pytest.raises(DirectorConfigError) as refused:
                openai(f"https://127.0.0.1:{port}/v1", tmp_path, url_policy=PUBLIC)
            messages.add(str(refused.value))
    assert messages == {REFUSED}


def test_owner_listed_url_is_reached_but_its_redirects_are_not_followed(tmp_path):
    with ScriptedServer([openai_reply(frames_json(2))]) as target:
        redirect = Reply(307, {}, headers={"location": target.url + "/v1/chat/completions"})
        with ScriptedServer([openai_reply(frames_json(2)), redirect]) as listed:
            policy = URLPolicy.of(public=True, allowed=[listed.url + "/v1/"])
            assert openai(listed.url + "/v1", tmp_path, url_policy=policy).direct("a fox", 2)
            with pytest.raises(BaseURLRefused):
                openai(listed.url + "/v1", tmp_path, url_policy=policy).direct("a fox", 2)
            with pytest.raises(BaseURLRefused):  # the listed host, another path: not listed
                openai(listed.url + "/admin", tmp_path, url_policy=policy)
    assert len(listed.requests) == 2 and target.requests == []


def test_pinned_address_is_used_whatever_the_name_resolves_to_later(tmp_path):
    """DNS rebinding: the transport connects to the address checked first, keeps the name in
    the Host header, and refuses every other host and every redirect."""
    import httpx

    from direct2v.director.pinned import PinnedTransport

    with ScriptedServer([openai_reply(frames_json(2))]) as target:
        redirect = Reply(302, {}, headers={"location": target.url + "/"})
        with ScriptedServer([Reply(200, {"ok": 1}), redirect]) as pinned:
            transport = PinnedTransport("http", "rebound.invalid", pinned.port, "127.0.0.1")
            with httpx.Client(transport=transport, follow_redirects=True, trust_env=False) as client:
                assert client.post(f"http://rebound.invalid:{pinned.port}/v1", json={}).json() == {"ok": 1}
                with pytest.raises(BaseURLRefused):
                    client.post(f"http://rebound.invalid:{pinned.port}/v1", json={})
                with pytest.raises(BaseURLRefused):
                    client.post(target.url + "/v1", json={})
    assert [r["headers"]["host"] for r in pinned.requests] == [f"rebound.invalid:{pinned.port}"] * 2
    assert target.requests == []


def test_back_ends_that_cannot_pin_reach_only_listed_urls_on_a_public_server(tmp_path):
    with pytest.raises(BaseURLRefused):
        make_director("huggingface", api_key="hf_typed", base_url="https://example.com/v1", url_policy=PUBLIC)
    listed = URLPolicy.of(public=True, allowed=["https://example.com/v1"])
    assert make_director("huggingface", api_key="hf_typed", base_url="https://example.com/v1/", url_policy=listed)
