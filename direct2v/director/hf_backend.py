"""Hugging Face inference: chat completion through `huggingface_hub.InferenceClient`.

Without a base URL the request goes to Hugging Face's inference router, which picks a
provider serving the model ("auto") and bills the token's owner; with one it goes to that
server (a dedicated Inference Endpoint, a TGI or vLLM server). The token is the page's
field, the Space visitor's own sign-in (passed in as `api_key` by the page), else HF_TOKEN or
the token saved by `hf auth login`, and the latter two only for Hugging Face's own hosts
(keys.py).

Structured output is asked for in two strengths: first the exact schema (exactly N frames,
each non-empty and bounded, as the local director enforces), then, if the server's 400/422
says it cannot do that schema, the plain {"frames": [...]} schema, and last plain text. Other
400s are reported, never taken as "no structured output".
"""

from __future__ import annotations

import json
from typing import Any

from . import constrained, keys, prompts, vision
from .base import LLMDirector
from .openai_backend import answer_text
from .errors import (
    DirectorConfigError,
    DirectorError,
    DirectorQuotaError,
    DirectorRequestError,
    one_line,
    retry_after_header,
    schema_unsupported,
)

ENV_KEYS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
DEFAULT_HF_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
_EXACT, _LOOSE, _PLAIN = 2, 1, 0


class HuggingFaceDirector(LLMDirector):
    backend = "huggingface"
    default_model = DEFAULT_HF_MODEL
    label = "Hugging Face"
    service = "Hugging Face inference"
    credential = "token"
    sees_images = True  # OpenAI-format content parts, which InferenceClient passes on as they are

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **options: Any):
        super().__init__(model, base_url=base_url, **options)
        key = keys.key_for(api_key, base_url, ENV_KEYS, keys.HF_HOSTS)
        if key is None and keys.is_provider_url(base_url, keys.HF_HOSTS):
            key = _saved_login_token()
        if key is None and base_url is None:
            raise DirectorConfigError(
                "No Hugging Face token: sign in with Hugging Face, set HF_TOKEN, enter a token, "
                "or use another director."
            )
        if base_url is not None:
            self.label = "The inference server's"
        # InferenceClient falls back to HF_TOKEN / the saved login when given no token, also for a
        # custom URL; a custom server without a typed token gets this instead.
        self._key = key or keys.NO_KEY
        self._client: Any = None
        self._schema_level = _EXACT


    def _get_client(self) -> Any:
        if self._client is None:
            from huggingface_hub import InferenceClient  # lazy: importing the director must stay cheap

            if self.base_url is None:
                self._client = InferenceClient(model=self.model, provider="auto", token=self._key, timeout=self.timeout)
            else:
                self._client = InferenceClient(base_url=self.base_url, token=self._key, timeout=self.timeout)
        return self._client

    def _response_format(self, num_frames: int, shape: str) -> dict | None:
        if self._schema_level == _PLAIN:
            return None
        if shape == "frame":
            schema = constrained.frame_schema() if self._schema_level == _EXACT else prompts.frame_json_schema()
        else:
            schema = (
                constrained.frames_schema(num_frames) if self._schema_level == _EXACT else prompts.frames_json_schema()
            )
        return {"type": "json_schema", "json_schema": {"name": f"frame_{shape}", "schema": schema, "strict": True}}

    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        from huggingface_hub.errors import HfHubHTTPError

        client = self._get_client()
        kwargs: dict[str, Any] = {
            "messages": vision.openai_messages(messages), "temperature": self.temperature, "max_tokens": self._budget,
        }
        if self.base_url is not None:
            kwargs["model"] = self.model  # a custom server still wants to know which model
        while True:
            response_format = self._response_format(num_frames, shape)
            try:
                response = client.chat_completion(**kwargs, response_format=response_format)
            except HfHubHTTPError as exc:
                status = _status(exc)
                if response_format is None or not schema_unsupported(status, _server_message(exc)):
                    raise
                self._schema_level -= 1  # this server cannot do that schema: a weaker form, for good
                continue
            return self._text_of(response)

    def _text_of(self, response: Any) -> str:
        return answer_text(response, self._who(), self._budget)  # InferenceClient speaks OpenAI's format

    def _error_status(self, exc: BaseException) -> tuple[int | None, str]:
        from huggingface_hub.errors import HfHubHTTPError

        if isinstance(exc, HfHubHTTPError):
            return _status(exc), _server_message(exc)
        return None, ""

    def _special_error(self, exc: BaseException) -> DirectorError | None:
        from huggingface_hub.errors import HfHubHTTPError

        if type(exc).__name__ == "OfflineModeIsEnabled":
            # huggingface_hub refuses every request while HF_HUB_OFFLINE is set, own servers included.
            own_server = (
                " For your own server (TGI, vLLM) choose the OpenAI-compatible back end with this URL:"
                " it is not bound by the Hub's offline mode."
                if self.base_url is not None
                else ""
            )
            return DirectorConfigError(
                f"Cannot reach {self._where()}: HF_HUB_OFFLINE is set, so huggingface_hub sends no requests; "
                f"unset it, or use the local or offline director.{own_server}"
            )
        if isinstance(exc, HfHubHTTPError) and _status(exc) == 402:
            return DirectorQuotaError(
                "The Hugging Face account has no inference credits left (402); add credits, "
                "or sign in with another account."
            )
        if isinstance(exc, ValueError) and not isinstance(exc, HfHubHTTPError) and self.base_url is None:
            # The router found no provider for this model (raised before any request is sent).
            return DirectorRequestError(f"Hugging Face inference cannot serve {self.model!r}: {one_line(str(exc), 160)}")
        return None

    def _retry_after(self, exc: BaseException) -> float | None:
        return retry_after_header(exc)


def _saved_login_token() -> str | None:
    """The token `hf auth login` saved on this machine, if any."""
    try:
        from huggingface_hub import get_token

        return get_token()
    except Exception:  # an unreadable token file is the same as none
        return None


def _status(exc: Any) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _server_message(exc: Any) -> str:
    """The server's own error text (OpenAI-style {"error": {"message"}}, TGI's {"error": "..."})."""
    response = getattr(exc, "response", None)
    try:
        body = json.loads(response.text) if response is not None else None
    except (ValueError, AttributeError, TypeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or "")
        return str(error or body.get("message") or "")
    return str(getattr(response, "text", "") or "")

