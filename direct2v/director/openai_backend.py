"""OpenAI (GPT-4 class) and any OpenAI-compatible server (vLLM, Ollama, llama.cpp server).

Uses the official `openai` SDK with its own retries switched off: retries and backoff live in
`LLMDirector._send`, so every back end behaves (and is tested) the same way. Structured output
(`response_format` json_schema) is asked for first; a server whose 400/422 says it does not
do that schema (common on older local servers) is asked again in plain text, and not asked
for it again; any other 400 is reported as it is. OPENAI_API_KEY goes only to api.openai.com
(keys.py); a custom base URL gets the typed key or none.
"""

from __future__ import annotations

from typing import Any

from . import keys, prompts, urls, vision
from .base import LLMDirector
from .errors import (
    AnswerCutOff,
    DirectorConfigError,
    DirectorError,
    DirectorQuotaError,
    DirectorRefusalError,
    DirectorRequestError,
    one_line,
    retry_after_header,
    schema_unsupported,
    scrub,
)

ENV_KEY = "OPENAI_API_KEY"


class OpenAIDirector(LLMDirector):
    backend = "openai"
    default_model = "gpt-4o"
    label = "OpenAI"
    service = "the OpenAI API"
    sees_images = True  # an image_url content part; a text-only model's refusal is caught in LLMDirector._send
    pins_addresses = True

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **options: Any):
        super().__init__(model, base_url=base_url, **options)
        key = keys.key_for(api_key, base_url, (ENV_KEY,), keys.OPENAI_HOSTS)
        if key is None and base_url is None:
            raise DirectorConfigError(
                f"No OpenAI API key: set {ENV_KEY}, enter a key, give a base URL for a local server, "
                "or use the offline director."
            )
        if base_url is not None:
            self.label = "The OpenAI-compatible server's"
        # Local OpenAI-compatible servers ignore the key, but the SDK insists on one.
        self._key = key or keys.NO_KEY
        # On a public server: checked (and pinned unless listed) now, before any request.
        self._http = self.url_policy.http_client(self.base_url, self.timeout)
        self._client: Any = None
        self._structured = True  # flips to False once a server rejects response_format


    def _get_client(self) -> Any:
        if self._client is None:
            import openai  # lazy: importing the director must stay cheap

            self._client = openai.OpenAI(
                api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=0, http_client=self._http
            )
        return self._client

    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        import openai

        client = self._get_client()
        kwargs: dict[str, Any] = {"model": self.model, "messages": vision.openai_messages(messages)}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self._budget is not None:
            # OpenAI's own API takes max_completion_tokens (reasoning models reject max_tokens);
            # compatible servers (vLLM, Ollama, llama.cpp) know max_tokens.
            kwargs["max_completion_tokens" if self.base_url is None else "max_tokens"] = self._budget
        if self._structured:
            try:
                response = client.chat.completions.create(
                    **kwargs,
                    response_format={
                        "type": "json_schema",
                        "json_schema": (
                            {"name": "frame_rewrite", "strict": True, "schema": prompts.frame_json_schema()}
                            if shape == "frame"
                            else {"name": "frame_script", "strict": True, "schema": prompts.frames_json_schema()}
                        ),
                    },
                )
                return self._text_of(response)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if not schema_unsupported(exc.status_code, _error_message(exc)):
                    raise
                # The server does not do structured output (or not this schema): plain text, for good.
                self._structured = False
        return self._text_of(client.chat.completions.create(**kwargs))

    def _text_of(self, response: Any) -> str:
        return answer_text(response, self._who(), self._budget)

    def _error_status(self, exc: BaseException) -> tuple[int | None, str]:
        import openai

        if isinstance(exc, openai.APIStatusError):
            return exc.status_code, _error_message(exc)
        return None, ""

    def _special_error(self, exc: BaseException) -> DirectorError | None:
        import openai

        refused = urls.refusal_in(exc)
        if refused is not None:  # a redirect, or a host the pinned client does not reach
            return refused
        if isinstance(exc, openai.RateLimitError) and _error_code(exc) == "insufficient_quota":
            return DirectorQuotaError("The OpenAI account has no quota left (429); check its plan and billing.")
        if isinstance(exc, openai.OpenAIError) and not isinstance(exc, (openai.APIStatusError, openai.APIConnectionError)):
            return DirectorRequestError(f"The OpenAI client failed: {one_line(scrub(str(exc), self._key))}")
        return None

    def _retry_after(self, exc: BaseException) -> float | None:
        return retry_after_header(exc)


def _error_body(exc: Any) -> dict:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return body.get("error", body) if isinstance(body.get("error", body), dict) else body
    return {}


def _error_code(exc: Any) -> str | None:
    code = _error_body(exc).get("code") or _error_body(exc).get("type")
    return str(code) if code else None


def _error_message(exc: Any) -> str:
    message = _error_body(exc).get("message")
    return str(message) if message else "no details"


def answer_text(response: Any, who: str, budget: int | None) -> str:
    """The answer of an OpenAI-format chat completion (OpenAI, compatible servers, Hugging Face
    inference): a refusal or a content filter raises DirectorRefusalError, an answer stopped at
    the token limit AnswerCutOff (so the loop asks again with a larger `budget`)."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        return ""
    choice = choices[0]
    content = getattr(choice.message, "content", None) or ""
    if getattr(choice.message, "refusal", None) or choice.finish_reason == "content_filter":
        raise DirectorRefusalError(f"{who} declined to write this script; rephrase the prompt or try another back end.")
    if choice.finish_reason == "length":
        usage = getattr(response, "usage", None)
        raise AnswerCutOff(content, getattr(usage, "completion_tokens", None), budget)
    return content
