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


# ----------------------------------------------------------------------------- services, in-process
def test_one_visitor_cannot_hold_the_line():
    from direct2v.services.turns import QueueFull, Turns

    turns = Turns(slots=1, max_waiting=16, per_visitor=(1, 2))
    a = [turns.join("A") for _ in range(3)]
    with pytest.raises(QueueFull, match="most this server takes from one visitor"):
        for _ in range(14):  # A tries for all 17
            turns.join("A")
    b = turns.join("B")  # B still gets in
    assert turns.wait(a[0], timeout=0.01)
    turns.leave(a[0])
    # A's next job waits for its turn in order; B is behind A's two, not behind 16.
    assert turns.ahead(b) == 2


def test_a_visitor_with_a_running_job_lets_the_next_visitor_start():
    from direct2v.services.turns import Turns

    turns = Turns(slots=2, per_visitor=(1, 2))
    a1, a2, b1 = turns.join("A"), turns.join("A"), turns.join("B")
    assert turns.wait(a1, timeout=0.01)
    assert not turns.wait(a2, timeout=0.01)  # A already runs one
    assert turns.wait(b1, timeout=0.01)  # B goes ahead of A's second
    owner = Turns(slots=2)  # the owner's machine: no per-visitor share
    o1, o2 = owner.join(), owner.join()
    assert owner.wait(o1, timeout=0.01) and owner.wait(o2, timeout=0.01)


def test_cancel_ends_every_job_of_that_visitor_and_no_other():
    from direct2v.services.runtime import CancelRegistry

    reg = CancelRegistry()
    a1, a2, b = reg.start("A"), reg.start("A"), reg.start("B")
    assert reg.cancel("A") and a1.is_set() and a2.is_set() and not b.is_set()
    reg.finish("A", a1), reg.finish("A", a2)
    assert not reg.cancel("A") and reg.cancel("B")


def test_a_visitors_files_are_theirs_bounded_and_go_when_they_leave(tmp_path):
    from direct2v.services.store import SESSION_KEEP, OutputStore, session_tag

    store = OutputStore(tmp_path, keep={"render": 10})
    theirs = store.new_dir("render", "B")
    mine = []
    for _ in range(SESSION_KEEP["render"] + 2):
        mine.append(store.new_dir("render", "A"))
        (mine[-1] / "f.png").write_bytes(b"x")
    alive = [d for d in mine if d.exists()]
    assert len(alive) == SESSION_KEEP["render"] and alive == mine[2:]  # A's oldest went, not B's
    assert "A" not in theirs.name and session_tag("B") in theirs.name
    assert store.drop_session("A") == len(alive)
    assert not any(d.exists() for d in mine) and theirs.exists()


# ----------------------------------------------------------------------------- a Space, two visitors
# The app started as a Hugging Face Space on loopback: SPACE_ID and SYSTEM=spaces, OAuth's
# variables, the owner's HF_TOKEN and OPENAI_API_KEY, and HF_ENDPOINT / the OpenID provider at
# a loopback server that logs every request (standing in for the Hub). Two gradio_client
# Clients are two anonymous visitors (each its own session).
OWNER_TOKEN = "hf_owner_secret_token_0123456789"
TABLE = {"headers": ["Frame prompt", "Tokens"], "data": [["a corgi runs", ""], ["a corgi sits", ""]]}
SMALL = dict(width=64, height=64, num_inference_steps=4, t0=1, t1=2, seed=3)
DIRECTOR_FIELDS = dict(style="", camera="", backend="offline", llm_model="", base_url="")


class _Logger:
    """A loopback HTTP server that answers 404 to everything and remembers each request."""

    def __init__(self):
        import http.server
        import threading

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                seen.append((self.command, self.path, self.headers.get("Authorization", "")))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    from conftest import running_app

    hub = _Logger()
    env = dict(
        SPACE_ID="owner/direct2v", SYSTEM="spaces", HF_TOKEN=OWNER_TOKEN, OPENAI_API_KEY="sk-owner-secret",
        HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", OAUTH_CLIENT_ID="client", OAUTH_CLIENT_SECRET="secret",
        OAUTH_SCOPES="openid profile inference-api", OPENID_PROVIDER_URL=hub.url,
    )
    flags = ("--host", "127.0.0.1", "--models", "tiny-sdxl", "--visitor-waiting", "2", "--no-preload")
    try:
        with running_app(tmp_path_factory.mktemp("space"), *flags, **env) as a:
            a.hub = hub
            yield a
    finally:
        hub.close()


def _visitor(space):
    from gradio_client import Client

    return Client(space.url, verbose=False)


def _render(client):
    return client.submit(table=TABLE, num_frames=2, fps=4, **DIRECTOR_FIELDS, **SMALL, api_name="/render")


def _rendered_model(downloads) -> str:
    from direct2v.settings import Project

    gif = next(str(d) for d in downloads if str(d).endswith(".gif"))
    return Project.load(gif).model


def _result(job, timeout_s: float = 240.0):
    """The job's last output, or the AppError it ended with (bounded in time)."""
    import concurrent.futures

    try:
        return job.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        job.cancel()
        raise
    except Exception as e:  # gradio_client.exceptions.AppError: the page's message
        return e


pytestmark_space = pytest.mark.slow


@pytestmark_space
def test_the_page_says_it_is_public_and_the_chooser_is_the_owners_list(space):
    a = _visitor(space)
    assert "Public mode (a Hugging Face Space)" in urllib_text(space.url + "config")
    from gradio_client.exceptions import AppError

    for model, lora in [("evil-org/huge-model", ""), ("tiny", "evil-org/some-lora"), ("/root/.ssh", "")]:
        with pytest.raises(AppError, match="not in the list of choices"):
            a.predict(model, "", lora, 1.0, api_name="/load_model")
    line = a.predict(api_name="/model_line")
    assert "`tiny`" in line and "evil-org" not in line


@pytestmark_space
def test_one_visitors_model_switch_is_theirs_alone(space):
    a, b = _visitor(space), _visitor(space)
    line_b = b.predict(api_name="/model_line")
    status = a.predict("tiny-sdxl", "", "", 1.0, api_name="/load_model")
    assert status.startswith("✓ Loaded") and "other visitors keep theirs" in status
    assert "tiny-sdxl" in a.predict(api_name="/model_line")
    assert b.predict(api_name="/model_line") == line_b and "tiny-sdxl" not in line_b
    out_b, out_a = _result(_render(b)), _result(_render(a))
    assert out_b[-1].startswith("✓ Done") and _rendered_model(out_b[2]) == "tiny"
    assert out_a[-1].startswith("✓ Done") and _rendered_model(out_a[2]) == "tiny-sdxl"


@pytestmark_space
def test_one_visitors_cancel_leaves_the_others_jobs_alone(space):
    import time

    a, b = _visitor(space), _visitor(space)
    job_b = b.submit(table=TABLE, num_frames=2, fps=4, **DIRECTOR_FIELDS, **{**SMALL, "num_inference_steps": 12, "t0": 4, "t1": 6},
                     api_name="/render")
    job_a = _render(a)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("step" in str(u[-1]) or "Waiting" in str(u[-1]) for u in job_a.outputs()):
        time.sleep(0.2)
    assert a.predict(api_name="/cancel").startswith("Cancelling")
    out_a, out_b = _result(job_a), _result(job_b)
    assert out_b[-1].startswith("✓ Done")  # B's render ran to the end
    assert "Cancelled" in str(out_a[-1] if not isinstance(out_a, Exception) else out_a)


@pytestmark_space
def test_seventeen_renders_from_one_visitor_do_not_lock_out_another(space):
    a, b = _visitor(space), _visitor(space)
    jobs_a = [_render(a) for _ in range(17)]
    out_b = _result(_render(b))
    assert out_b[-1].startswith("✓ Done")
    outs_a = [_result(j) for j in jobs_a]
    refused = [o for o in outs_a if isinstance(o, Exception)]
    assert len(refused) >= 17 - 3 and all("most this server takes from one visitor" in str(o) for o in refused)


@pytestmark_space
def test_no_hub_request_carried_the_owners_token(space):
    assert all(OWNER_TOKEN not in auth for _, _, auth in space.hub.seen), space.hub.seen


def urllib_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8", "replace")


def test_the_owners_keys_go_to_visitors_only_where_shared_and_within_the_rate():
    from direct2v.services.visitors import DirectorGate, VisitorRefused

    private = DirectorGate(ServerPolicy())
    assert private.key_for("A", "openai", "o1-pro", None) is None  # the owner's machine: the environment's key
    gate = DirectorGate(ServerPolicy(public=True, share_keys=frozenset({"huggingface"}), key_calls_per_hour=2,
                                     llm_models=("owner/llm",)))
    with pytest.raises(VisitorRefused, match="does not share its OpenAI key"):
        gate.key_for("A", "openai", "", None)
    assert gate.key_for("A", "openai", "o1-pro", "sk-visitor") == "sk-visitor"  # their own key, their model
    with pytest.raises(VisitorRefused, match="director models are the owner's"):
        gate.key_for("A", "huggingface", "o1-pro", None)
    assert gate.key_for("A", "huggingface", "owner/llm", None) is None
    assert gate.key_for("A", "huggingface", "", None) is None
    with pytest.raises(VisitorRefused, match="2 times in the last hour"):
        gate.key_for("A", "huggingface", "", None)
    assert gate.key_for("B", "huggingface", "", None) is None  # another visitor has their own count
    assert gate.key_for("A", "offline", "", None) is None and gate.key_for("A", "local", "", None) is None


def test_a_silent_director_holds_one_visitors_slot_for_a_bounded_time():
    import threading
    import time

    from direct2v.services.visitors import DirectorGate, VisitorRefused

    gate = DirectorGate(ServerPolicy(public=True, director_timeout_s=0.3))
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(VisitorRefused, match="did not answer within 0.3 s"):
        gate.call("A", lambda: release.wait(5))
    assert time.monotonic() - started < 2
    with pytest.raises(VisitorRefused, match="still running"):
        gate.call("A", lambda: "second")  # A's silent call still holds A's one slot
    assert gate.call("B", lambda: "B's own") == "B's own"  # and nobody else's
    release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and gate.in_flight._count:
        time.sleep(0.02)
    assert gate.call("A", lambda: "again") == "again"
    with pytest.raises(KeyError):
        gate.call("A", lambda: {}["missing"])  # the call's own error comes through


def test_the_key_box_and_base_url_hint_say_what_holds_on_this_server():
    """A blank key means the owner's environment only where the owner shares it, and a public
    page does not suggest a loopback base URL it would refuse."""
    from direct2v.ui.panels import base_url_hint, key_label

    assert key_label(ServerPolicy()).endswith("blank = environment)")
    assert base_url_hint(ServerPolicy()).startswith("http://127.0.0.1")
    public = ServerPolicy(public=True)
    assert "environment" not in key_label(public) and "sign-in" in key_label(public)
    assert "127.0.0.1" not in base_url_hint(public)
    shared = ServerPolicy(public=True, share_keys=frozenset({"openai"}), base_urls=("https://llm.example.org/v1",))
    assert "the owner's key for openai" in key_label(shared)
    assert base_url_hint(shared) == "https://llm.example.org/v1"
