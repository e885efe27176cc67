"""The app started as a Hugging Face Space on loopback, played by anonymous visitors through
the page's own API (issue 20): the owner's HF_TOKEN and OPENAI_API_KEY are in its
environment, HF_ENDPOINT and the sign-in provider are loopback servers that log every
request, and an "internal service" on another loopback port must never hear from it.

One app process serves the whole module; every loop is bounded in count and time."""

from __future__ import annotations

import json
import socket
import threading
import time
import zipfile

import psutil
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import running_app
from loopback import LoggingServer

OWNER_HF = "hf_OWNERSECRETTOKEN0123456789"
OWNER_OPENAI = "sk-owner-dummy-key"  # short: not the shape of a real key
DIRECTOR = dict(style="", camera="", llm_model="", api_key="")
REFUSED = "This server does not reach that base URL"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """(app, client, hub, internal, listed): the Space, one visitor's client, the logging Hub,
    the internal service, and the owner's listed base URL (a server that redirects to the
    internal service)."""
    tmp = tmp_path_factory.mktemp("space")
    with LoggingServer() as hub, LoggingServer(status=200) as internal:
        with LoggingServer(status=307, location=internal.url + "/v1/chat/completions") as listed:
            env = dict(
                SPACE_ID="owner/direct2v-studio", SYSTEM="spaces", HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0",
                HF_TOKEN=OWNER_HF, OPENAI_API_KEY=OWNER_OPENAI, OAUTH_CLIENT_ID="client-id",
                OAUTH_CLIENT_SECRET="client-secret", OAUTH_SCOPES="openid profile inference-api",
                OPENID_PROVIDER_URL=hub.url, HF_HOME=str(tmp / "hf"),
            )
            args = ("--host", "127.0.0.1", "--base-urls", listed.url + "/v1", "--no-preload")
            with running_app(tmp, *args, **env) as app:
                yield app, Client(app.url, verbose=False), hub, internal, listed


def _loopback_name() -> str | None:
    """This machine's own name where it resolves to a loopback or private address."""
    import ipaddress

    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return socket.gethostname() if not ipaddress.ip_address(address).is_global else None


def _direct(client: Client, base_url: str, backend: str = "compatible", **changes) -> str:
    """Direct through the API; the error message, or "" when it worked."""
    try:
        client.predict(user_prompt="a corgi runs", num_frames=2, fps=4, **{**DIRECTOR, **changes},
                       backend=backend, base_url=base_url, api_name="/direct")
    except AppError as e:
        return str(e)
    return ""


def test_the_page_says_it_is_public(space):
    import urllib.request

    app, *_ = space
    with urllib.request.urlopen(app.url + "config", timeout=10) as r:
        assert "Public mode" in r.read().decode("utf-8")


def test_base_url_tricks_reach_nothing_on_loopback(space):
    app, client, _, internal, listed = space
    port = internal.port
    tricks = [
        f"http://127.0.0.1:{port}/internal/admin?x=1#", f"http://127.0.0.1:{port}/v1#",
        f"https://user:pw@127.0.0.1:{port}/v1", f"https://localhost:{port}/v1", f"https://127.0.0.1:{port}/v1",
        f"https://[::ffff:127.0.0.1]:{port}/v1", f"https://2130706433:{port}/v1", f"http://127.0.0.1:{port}/v1",
        "https://169.254.169.254/latest/meta-data",
    ]
    if (name := _loopback_name()) is not None:
        tricks.append(f"https://{name}:{port}/v1")
    deadline = time.monotonic() + 60
    for url in tricks:
        message = _direct(client, url)
        assert message and (REFUSED in message or "scheme, host, port and path only" in message), (url, message)
        assert time.monotonic() < deadline
    # The owner's listed URL is reached, but its redirect to the internal service is not followed.
    message = _direct(client, listed.url + "/v1")
    assert REFUSED in message, message
    assert listed.requests and internal.requests == []
    assert all(OWNER_OPENAI not in json.dumps(r) for r in listed.requests)  # no owner key to a custom URL


def test_refusals_do_not_tell_open_closed_and_silent_ports_apart(space):
    _, client, _, internal, _ = space
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with silent:
        messages = {_direct(client, f"https://127.0.0.1:{p}/v1") for p in (internal.port, closed_port, silent.getsockname()[1])}
    assert len(messages) == 1 and REFUSED in messages.pop()


def test_typed_names_never_carry_the_owners_token(space):
    _, client, hub, _, _ = space
    before = len(hub.requests)
    for model, lora in (("evil-org/huge-model", ""), ("tiny", "evil-org/some-lora")):
        try:
            for _ in client.submit(model=model, config="", lora=lora, lora_scale=1.0, api_name="/load_model"):
                pass
        except AppError:
            pass
    _direct(client, "", backend="local", llm_model="evil-org/llm-x")
    asked = hub.requests[before:]
    assert all("evil-org" not in r["path"] for r in asked), asked  # refused before any request
    assert all(OWNER_HF not in r["headers"].get("authorization", "") for r in hub.requests if "evil-org" in r["path"])


def _peak_rss_during(pid: int, call) -> tuple[int, object]:
    """(peak RSS growth in bytes of process `pid` while `call()` runs, what it returned or raised)."""
    proc = psutil.Process(pid)
    base = proc.memory_info().rss
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        outcome: object = call()
    except Exception as e:  # the error is what the visitor sees
        outcome = e
    finally:
        done.set()
        sampler.join(5)
    return peak[0] - base, outcome


def test_inflating_uploads_stay_small_and_say_why(space, tmp_path):
    app, client, *_ = space
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_BZIP2, compresslevel=9) as zf:
        with zf.open("project.direct2v.json", "w") as fh:
            block = b" " * (1 << 20)
            for _ in range(400):
                fh.write(block)
    assert bomb.stat().st_size < 2048
    big = tmp_path / "big.png"
    Image.new("L", (12000, 12000)).save(big)
    assert big.stat().st_size < 600_000
    calls = {
        "zip project": lambda: client.predict(handle_file(str(bomb)), api_name="/load_project"),
        "png project": lambda: client.predict(handle_file(str(big)), api_name="/load_project"),
        "png picture": lambda: client.predict(table={"headers": ["Frame prompt", "Tokens"], "data": [["a", ""], ["b", ""]]},
                                              num_frames=2, fps=4, start_image=handle_file(str(big)), api_name="/render"),
    }
    for what, call in calls.items():
        grew, outcome = _peak_rss_during(app.proc.pid, call)
        assert isinstance(outcome, AppError), (what, outcome)
        assert any(s in str(outcome) for s in ("larger than 4 MB", "holds no DirecT2V project", "the limit is 16384 per side", "this app does not read")), (what, outcome)
        assert grew < 250 * 2**20, (what, grew / 2**20)


def test_path_probes_in_projects_reveal_nothing(space, tmp_path):
    import hashlib

    _, client, *_ = space
    answers = set()
    for probe in ("/etc/passwd", "/root/.ssh", "/no/such/file.png"):
        digest = hashlib.sha256(open("/etc/passwd", "rb").read()).hexdigest() if probe == "/etc/passwd" else "0" * 64
        path = tmp_path / "probe.direct2v.json"
        path.write_text(json.dumps({"format": "direct2v-project", "version": 1, "frames": ["a", "b"],
                                    "model": probe, "start_image": {"path": probe, "sha256": digest}}))
        answers.add(json.dumps(client.predict(handle_file(str(path)), api_name="/load_project")[:4]))
    assert len(answers) == 1  # the same page whatever the path names
    for probe in ("/root/.ssh", "/etc/passwd", "/no/such/model"):
        try:
            for update in client.submit(model=probe, config="", lora="", lora_scale=1.0, api_name="/load_model"):
                answers.add(str(update))
        except AppError as e:
            answers.add(str(e))
    assert not any(p in a for a in answers for p in ("No such", "exists", "not a diffusers", "is a folder"))
