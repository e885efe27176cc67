"""What the director tests share: a scripted HTTP server on 127.0.0.1 that the real openai,
google-genai and huggingface_hub SDKs talk to, its canned replies, and `director_at`, a
director of any HTTP back end pointed at that server.

pytest puts tests/ on sys.path (no tests/__init__.py, the default import mode), so test files
import this module as `director_helpers`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from direct2v.director import make_director
from loopback import LoopbackServer


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def openai_reply(content: str | None, finish_reason: str = "stop", refusal: str | None = None) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return Reply(body={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })


def openai_error(status: int, message: str = "error", code: str | None = None, **headers: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": "error", "code": code}}, headers=headers)


def gemini_reply(text: str, finish_reason: str = "STOP") -> Reply:
    return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish_reason}]})


def gemini_error(status: int, message: str, reason: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": message, "status": reason}})


def frames_json(n: int, word: str = "frame") -> str:
    return json.dumps({"frames": [f"a red fox {word} {i}" for i in range(n)]})


class ScriptedServer(LoopbackServer):
    """Answers each request with the next scripted Reply (the last one repeats); records every
    request (path, headers, JSON body)."""

    def __init__(self, replies: list[Reply]):
        super().__init__()
        self.replies = list(replies)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length)
        self.requests.append({"path": handler.path, "headers": {k.lower(): v for k, v in handler.headers.items()},
                              "body": json.loads(raw or b"{}")})
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.delay:
            time.sleep(reply.delay)
        data = json.dumps(reply.body).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for k, v in reply.headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Where each back end's SDK expects the scripted server: the OpenAI SDK appends
# /chat/completions to a .../v1 base; google-genai and huggingface_hub take the server itself.
URL_SUFFIX = {"openai": "/v1", "gemini": "", "huggingface": ""}


def director_at(backend: str, url: str, tmp_path: Any, *, model: str = "test-model", key: str | None = None,
                **options: Any):
    """A `backend` director talking to the scripted server at `url`, caching under `tmp_path`,
    retrying at once (1 ms backoff) and waiting at most 5 s for an answer. The quality gate's
    retry turn is off unless asked for (`quality_retries=1`): the scripted frames ("a red fox
    frame 0") have nothing to do with most tests' prompts, which the gate's content rules would
    send back for one more turn; that turn is tested in test_director_quality.py."""
    options.setdefault("backoff", 0.001)
    options.setdefault("quality_retries", 0)
    options.setdefault("timeout", 5)
    return make_director(backend, model=model, api_key=key, base_url=url + URL_SUFFIX[backend], cache_dir=tmp_path,
                         **options)


def reply_for(backend: str, text: str) -> Reply:
    """An answer with `text` in `backend`'s wire format (Hugging Face speaks OpenAI's)."""
    return gemini_reply(text) if backend == "gemini" else openai_reply(text)


def error_reply(backend: str, status: int, message: str) -> Reply:
    """An HTTP error with the server's `message`, in `backend`'s wire format."""
    return gemini_error(status, message, "ERROR") if backend == "gemini" else openai_error(status, message)


def direct_once(make: Any, tmp_path: Any, reply: Reply, prompt: str, num_frames: int = 4, **kwargs: Any) -> dict:
    """Direct `prompt` once with the director `make(url, tmp_path)` against a server answering
    `reply` (a script of `frames_json(num_frames)`); checks that script came back and returns
    the request the server got (path, headers, body)."""
    with ScriptedServer([reply]) as srv:
        frames = make(srv.url, tmp_path).direct(prompt, num_frames=num_frames, **kwargs)
    assert frames == [f"a red fox frame {i}" for i in range(num_frames)]
    return srv.requests[0]
