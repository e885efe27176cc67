"""Google Gemini through the `google-genai` SDK (the maintained successor of google-generativeai).

JSON output is requested with `response_mime_type="application/json"` and a response schema.
The SDK's own retries are off (no `retry_options`): `LLMDirector._send` retries uniformly.
`base_url` points the SDK at another endpoint speaking the same REST shape (a proxy, or the
tests' loopback server).
"""

from __future__ import annotations

import os
from typing import Any

from . import prompts
from .base import LLMDirector
from .cache import public_url
from .errors import (
    DirectorAuthError,
    DirectorConfigError,
    DirectorConnectionError,
    DirectorError,
    DirectorQuotaError,
    DirectorRateLimitError,
    DirectorRefusalError,
    DirectorRequestError,
    DirectorServerError,
    DirectorTimeoutError,
    one_line,
    scrub,
)

ENV_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}


def _env_key() -> str | None:
    for name in ENV_KEYS:
        if os.environ.get(name):
            return os.environ[name]
    return None


class GeminiDirector(LLMDirector):
    backend = "gemini"
    default_model = "gemini-2.5-flash"
    label = "Gemini"

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **options: Any):
        super().__init__(model, base_url=base_url, **options)
        self._key = api_key or _env_key()
        if not self._key:
            raise DirectorConfigError(
                "No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), enter a key, or use the offline director."
            )
        self._client: Any = None

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._key,)

    def __repr__(self) -> str:
        return f"GeminiDirector(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def _get_client(self) -> Any:
        if self._client is None:
            from google import genai  # lazy: importing the director must stay cheap
            from google.genai import types

            http = types.HttpOptions(timeout=int(self.timeout * 1000), base_url=self.base_url)
            self._client = genai.Client(api_key=self._key, http_options=http)
        return self._client

    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        from google.genai import types

        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system") or None
        contents = [
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
            for m in messages
            if m["role"] != "system"
        ]
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=(
                {"type": "OBJECT", "properties": {"frame": {"type": "STRING"}}, "required": ["frame"]}
                if shape == "frame"
                else {
                    "type": "OBJECT",
                    "properties": {"frames": {"type": "ARRAY", "items": {"type": "STRING"}}},
                    "required": ["frames"],
                }
            ),
            temperature=self.temperature,
        )
        response = self._get_client().models.generate_content(model=self.model, contents=contents, config=config)
        return self._text_of(response)

    def _text_of(self, response: Any) -> str:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            raise DirectorRefusalError(
                f"{self._who()} blocked this prompt ({_name(feedback.block_reason)}); rephrase it or try another back end."
            )
        candidates = getattr(response, "candidates", None) or []
        if candidates and _name(getattr(candidates[0], "finish_reason", None)) in _BLOCKED:
            raise DirectorRefusalError(
                f"{self._who()} declined to write this script ({_name(candidates[0].finish_reason)}); "
                "rephrase the prompt or try another back end."
            )
        if not candidates or candidates[0].content is None or not candidates[0].content.parts:
            return ""
        return "".join(p.text or "" for p in candidates[0].content.parts if not getattr(p, "thought", False))

    def _translate(self, exc: BaseException) -> DirectorError | None:
        from google.genai import errors

        where = public_url(self.base_url) or "the Gemini API"
        if isinstance(exc, errors.APIError):
            code, status = exc.code, str(exc.status or "")
            message = one_line(scrub(str(exc.message or ""), self._key))
            if code == 401 or "API_KEY" in message.upper().replace(" ", "_") or status == "UNAUTHENTICATED":
                return DirectorAuthError(f"{where} rejected the API key ({code}); check the key.")
            if code == 403:
                return DirectorAuthError(f"{where} refused access with this API key (403); check the key's permissions.")
            if code == 429:
                if "quota" in message.lower() and "per day" in message.lower():
                    return DirectorQuotaError(f"The Gemini daily quota is used up (429); try tomorrow or another key.")
                return DirectorRateLimitError(f"{where} is rate limiting requests (429); wait a minute and try again.")
            if code == 404:
                return DirectorRequestError(f"{where} does not know the model {self.model!r} (404); check the model name.")
            if code and code >= 500:
                return DirectorServerError(f"{where} failed with a server error ({code}); try again later.")
            return DirectorRequestError(f"{where} rejected the request ({code}): {message or 'no details'}")
        names = {c.__name__ for c in type(exc).__mro__}
        if names & {"TimeoutException", "TimeoutError", "ReadTimeout", "ConnectTimeout"}:
            return DirectorTimeoutError(f"{self._who()} did not answer within {self.timeout:g} s; try again later.")
        if names & {"ConnectError", "NetworkError", "ConnectionError", "TransportError"}:
            return DirectorConnectionError(
                f"Cannot reach {where}: no network connection, a wrong base URL, or the server is down."
            )
        return None


def _name(value: Any) -> str:
    return str(getattr(value, "name", value) or "")
