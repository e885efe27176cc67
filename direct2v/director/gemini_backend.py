"""Google Gemini through the `google-genai` SDK (the maintained successor of google-generativeai).

JSON output is requested with `response_mime_type="application/json"` and a response schema.
The SDK's own retries are off (no `retry_options`): `LLMDirector._send` retries uniformly.
`base_url` points the SDK at another endpoint speaking the same REST shape (a proxy, or the
tests' loopback server); GEMINI_API_KEY / GOOGLE_API_KEY go only to Google's own endpoint
(keys.py), a custom one gets the typed key or none. A 429 is read from its details: a daily
or zero quota (QuotaFailure) is a quota error, anything else a rate limit retried after the
server's RetryInfo delay.
"""

from __future__ import annotations

import re
from typing import Any

from . import keys, prompts, vision
from .base import LLMDirector
from .errors import (
    AnswerCutOff,
    DirectorAuthError,
    DirectorConfigError,
    DirectorError,
    DirectorQuotaError,
    DirectorRefusalError,
    one_line,
)

ENV_KEYS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}


def gemini_schema(schema: dict) -> dict:
    """prompts' JSON schema in the form Gemini's `response_schema` takes (its OpenAPI subset):
    upper-case types, no additionalProperties, and the properties in their written order, so
    that the model writes the plan ("beats") before the frames."""
    out: dict = {"type": schema["type"].upper()}
    if "items" in schema:
        out["items"] = gemini_schema(schema["items"])
    if "properties" in schema:
        out["properties"] = {name: gemini_schema(sub) for name, sub in schema["properties"].items()}
        out["required"] = list(schema.get("required", []))
        if len(out["properties"]) > 1:
            out["propertyOrdering"] = list(schema["properties"])
    return out


class GeminiDirector(LLMDirector):
    backend = "gemini"
    default_model = "gemini-2.5-flash"
    label = "Gemini"
    service = "the Gemini API"
    sees_images = True  # an inline-data part before the turn's text

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **options: Any):
        super().__init__(model, base_url=base_url, **options)
        self._key = keys.key_for(api_key, base_url, ENV_KEYS, keys.GEMINI_HOSTS)
        if not self._key:
            if base_url is None:
                raise DirectorConfigError(
                    "No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), enter a key, or use the offline director."
                )
            # The SDK reads GEMINI_API_KEY / GOOGLE_API_KEY itself when given no key; a custom endpoint
            # without a typed key gets this instead, so the environment's key never leaves for it.
            self._key = keys.NO_KEY
        self._client: Any = None


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
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=_parts(m))
            for m in messages
            if m["role"] != "system"
        ]
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=gemini_schema(prompts.frame_json_schema() if shape == "frame" else prompts.frames_json_schema()),
            temperature=self.temperature,
            max_output_tokens=self._budget,
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
            text = ""
        else:
            text = "".join(p.text or "" for p in candidates[0].content.parts if not getattr(p, "thought", False))
        if candidates and _name(getattr(candidates[0], "finish_reason", None)) == "MAX_TOKENS":
            usage = getattr(response, "usage_metadata", None)
            used = sum(getattr(usage, f, None) or 0 for f in ("candidates_token_count", "thoughts_token_count"))
            raise AnswerCutOff(text, used or None, self._budget)
        return text

    def _error_status(self, exc: BaseException) -> tuple[int | None, str]:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return exc.code, str(exc.message or "")
        return None, ""

    def _special_error(self, exc: BaseException) -> DirectorError | None:
        """Gemini reports a bad key as a 400 naming API_KEY, and a spent daily quota as a 429."""
        from google.genai import errors

        if not isinstance(exc, errors.APIError):
            return None
        message = str(exc.message or "")
        if exc.code == 401 or "API_KEY" in message.upper().replace(" ", "_") or exc.status == "UNAUTHENTICATED":
            return DirectorAuthError(f"{self._where()} rejected the API key ({exc.code}); check it.")
        if exc.code == 429 and _quota_spent(_details(exc)):
            return DirectorQuotaError(
                f"The Gemini quota for this key is used up (429: {_quota_name(_details(exc))}); "
                "try again tomorrow, use another key, or enable billing."
            )
        return None

    def _retry_after(self, exc: BaseException) -> float | None:
        return _retry_delay(_details(exc))


def _parts(message: prompts.Message) -> list[Any]:
    """A turn's parts: its picture first (inline bytes, as Gemini's guide places a single
    image), then its text."""
    from google.genai import types

    image = vision.message_image(message)
    text = types.Part(text=message["content"])
    return [types.Part.from_bytes(data=image.data, mime_type=image.mime_type), text] if image is not None else [text]


def _name(value: Any) -> str:
    return str(getattr(value, "name", value) or "")


def _details(exc: Any) -> list[dict]:
    """The google.rpc details of an API error (QuotaFailure, RetryInfo, ...)."""
    body = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    return [d for d in error.get("details") or [] if isinstance(d, dict)]


def _violations(details: list[dict]) -> list[dict]:
    return [v for d in details if str(d.get("@type", "")).endswith("QuotaFailure")
            for v in d.get("violations") or [] if isinstance(v, dict)]


def _quota_spent(details: list[dict]) -> bool:
    """A daily quota, or one whose limit is 0 (no free tier for this model): waiting minutes
    does not help. Per-minute quotas are rate limits."""
    for v in _violations(details):
        quota_id = str(v.get("quotaId", ""))
        if re.search(r"per\s*day", quota_id, re.I) or str(v.get("quotaValue", "")).strip() == "0":
            return True
    return False


def _quota_name(details: list[dict]) -> str:
    ids = [str(v.get("quotaId")) for v in _violations(details) if v.get("quotaId")]
    return one_line(ids[0], 80) if ids else "quota exceeded"


def _retry_delay(details: list[dict]) -> float | None:
    """RetryInfo's retryDelay ("37s", "1.5s") in seconds."""
    for d in details:
        if str(d.get("@type", "")).endswith("RetryInfo"):
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s\s*", str(d.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    return None
