"""What every HTTP back end (OpenAI and compatible servers, Gemini, Hugging Face) shares, through
each real SDK against the scripted server: one status-to-error ladder (errors.status_error),
timeouts and closed ports, and an unrelated 400 that is reported without switching structured
output off. Provider-specific readings (quota, key errors) are in each back end's own file."""

from __future__ import annotations

import pytest

from direct2v.director import (
    DirectorAuthError, DirectorConnectionError, DirectorRateLimitError, DirectorRequestError, DirectorServerError,
    DirectorTimeoutError,
)
from director_helpers import ScriptedServer, closed_port, director_at, error_reply, frames_json, reply_for

KEY = "test-key-not-real-7777"
PROMPT = "A kite rises over a windy beach"
BACKENDS = ["openai", "gemini", "huggingface"]


@pytest.fixture(autouse=True)
def _online(hub_online):
    """The Hugging Face back end talks to 127.0.0.1 through huggingface_hub (conftest.hub_online)."""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "status, error, words, retried",
    [
        (401, DirectorAuthError, "(401)", False),
        (403, DirectorAuthError, "(403): no access to this model", False),
        (404, DirectorRequestError, "does not serve the model 'm' (404)", False),
        (429, DirectorRateLimitError, "rate limiting requests (429)", True),
        (503, DirectorServerError, "server error (503)", True),
        (418, DirectorRequestError, "rejected the request (418): no access to this model", False),
    ],
)
def test_one_status_ladder_for_every_back_end(backend, status, error, words, retried, tmp_path):
    with ScriptedServer([error_reply(backend, status, "no access to this model")]) as srv:
        with pytest.raises(error) as info:
            director_at(backend, srv.url, tmp_path, model="m", key=KEY, max_retries=1).direct(PROMPT, num_frames=2)
    assert words in str(info.value) and srv.url in str(info.value) and KEY not in str(info.value)
    assert len(srv.requests) == (2 if retried else 1)  # only what may pass is sent again


@pytest.mark.parametrize("backend", BACKENDS)
def test_slow_server_times_out_and_closed_port_means_no_network(backend, tmp_path):
    with ScriptedServer([reply_for(backend, frames_json(2))]) as srv:
        srv.replies[0].delay = 1.5
        with pytest.raises(DirectorTimeoutError, match=r"within 0.3 s"):
            director_at(backend, srv.url, tmp_path, key=KEY, timeout=0.3, max_retries=1).direct(PROMPT, num_frames=2)
    assert len(srv.requests) == 2
    with pytest.raises(DirectorConnectionError, match="Cannot reach"):
        director_at(backend, f"http://127.0.0.1:{closed_port()}", tmp_path, key=KEY, max_retries=0).direct(PROMPT, num_frames=2)


@pytest.mark.parametrize("backend", ["openai", "huggingface"])
def test_unrelated_400_is_reported_and_structured_output_stays_on(backend, tmp_path):
    replies = [error_reply(backend, 400, "max_tokens must be at most 4096"), reply_for(backend, frames_json(2))]
    with ScriptedServer(replies) as srv:
        d = director_at(backend, srv.url, tmp_path, key=KEY)
        with pytest.raises(DirectorRequestError, match=r"rejected the request \(400\): max_tokens must be at most 4096"):
            d.direct(PROMPT, num_frames=2)
        assert len(d.direct(PROMPT, num_frames=2)) == 2
    assert len(srv.requests) == 2 and all("response_format" in r["body"] for r in srv.requests)
