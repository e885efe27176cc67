"""One exception family for everything that can go wrong while directing.

The page and the CLI show `str(error)` as it is, so every message is one sentence a person
can act on, names the back end, and never contains an API key. Subclasses let callers (and
tests) tell the cases apart without parsing text.
"""

from __future__ import annotations


class DirectorError(RuntimeError):
    """Directing failed; the message is one clear sentence for the page or the CLI."""

    # Whether sending the same request again may succeed (rate limits, 5xx, timeouts).
    retryable: bool = False
    # Seconds the server asked us to wait (a 429's Retry-After), if it said.
    retry_after: float | None = None


class DirectorConfigError(DirectorError):
    """Unknown back end, missing key, bad option: nothing was sent."""


# One message for every refused base URL (urls.py), before any connection: it tells no open
# port from a closed or silent one.
REFUSED = (
    "This server does not reach that base URL: on a public server a base URL must be one the owner "
    "listed, or an https URL whose host has only public addresses."
)


class BaseURLRefused(DirectorConfigError):
    """A public server refused a base URL; nothing was sent."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


class DirectorInputError(DirectorError, ValueError):
    """A bad argument: empty or over-long prompt, frame count or fps out of range."""


class DirectorAuthError(DirectorError):
    """The server rejected the API key (401/403)."""


class DirectorRateLimitError(DirectorError):
    """Too many requests (429); retried with backoff before this is raised."""

    retryable = True


class DirectorQuotaError(DirectorError):
    """The account has no quota or credit left; waiting does not help."""


class DirectorTimeoutError(DirectorError):
    """The server did not answer in time; retried before this is raised."""

    retryable = True


class DirectorServerError(DirectorError):
    """The server failed (5xx); retried before this is raised."""

    retryable = True


class DirectorConnectionError(DirectorError):
    """No network, wrong base URL, or the server is down."""


class DirectorRequestError(DirectorError):
    """The server rejected the request itself (unknown model, bad parameter)."""


class DirectorRefusalError(DirectorError):
    """The model declined to write the script (safety refusal or a blocked answer)."""


class DirectorFormatError(DirectorError):
    """The answer stayed malformed (wrong frame count, not JSON, empty) after the retries."""


class DirectorModelError(DirectorError):
    """A local model could not be loaded or run."""


class DirectorImageUnsupported(DirectorRequestError):
    """The model or server rejected the picture sent with the task (a text-only model).
    `Director.direct` catches it and writes the script from the text alone, saying so."""


class AnswerCutOff(Exception):
    """The answer stopped at the output-token limit (OpenAI finish_reason "length", Gemini
    MAX_TOKENS, a local model's max_new_tokens). Not a DirectorError: the retry loop reports it
    as a cut-off, not as "not JSON", and asks again with a larger budget."""

    def __init__(self, text: str | None, used_tokens: int | None = None, limit: int | None = None):
        super().__init__("the answer was cut off at the output-token limit")
        self.text = text or ""
        self.used_tokens = used_tokens  # tokens the cut answer took, if the server said
        self.limit = limit  # the limit that was in force, if we set one

    def problem(self) -> str:
        limit = self.limit or self.used_tokens
        return f"it was cut off at the output-token limit{f' ({limit} tokens)' if limit else ''}"

    def larger_budget(self) -> int:
        """Twice what was used (or allowed), so the retry has room to finish."""
        return 2 * max(self.limit or 0, self.used_tokens or 0) or 1024


def status_error(status: int, where: str, model: str | None, detail: str = "", *, credential: str = "API key",
                 retry_after: float | None = None) -> DirectorError:
    """The one mapping from an HTTP error status to a DirectorError, for every back end that
    talks HTTP (OpenAI and compatible servers, Gemini, Hugging Face). `where` names the server
    ("the OpenAI API", a URL), `detail` is its own message (already scrubbed of keys),
    `credential` what it checks ("API key", "token"), `retry_after` a 429's wait. What a
    provider reads differently (a spent quota behind a 429, a key error sent as a 400) it
    decides first (LLMDirector._special_error)."""
    if status == 401:
        return DirectorAuthError(f"{where} rejected the {credential} (401); check it.")
    if status == 403:
        why = f": {detail}" if detail else ""
        return DirectorAuthError(f"{where} refused access with this {credential} (403){why}; check its permissions "
                                 "or whether the model's terms must be accepted first.")
    if status == 402:
        return DirectorQuotaError(f"{where} says the account has no credit left (402); add credit or use another account.")
    if status == 429:
        err = DirectorRateLimitError(f"{where} is rate limiting requests (429); wait a minute and try again.")
        err.retry_after = retry_after
        return err
    if status == 404:
        return DirectorRequestError(f"{where} does not serve the model {model!r} (404); check the model name.")
    if status >= 500:
        return DirectorServerError(f"{where} failed with a server error ({status}); try again later.")
    return DirectorRequestError(f"{where} rejected the request ({status}): {detail or 'no details'}")


def retry_after_header(exc: BaseException) -> float | None:
    """Seconds in the Retry-After header of an HTTP error's response (None: absent, or a date)."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# Exception class names (in the exception's MRO) of a request that timed out or never connected:
# httpx's, requests', the SDKs' own wrappers and Python's.
_TIMEOUTS = {"TimeoutException", "TimeoutError", "ReadTimeout", "ConnectTimeout", "APITimeoutError",
             "InferenceTimeoutError"}
_NO_CONNECTION = {"ConnectError", "NetworkError", "ConnectionError", "TransportError", "APIConnectionError"}


def transport_error(exc: BaseException, who: str, where: str, timeout: float) -> DirectorError | None:
    """A timeout or a failed connection as a DirectorError; None for anything else."""
    names = {c.__name__ for c in type(exc).__mro__}
    if names & _TIMEOUTS:
        return DirectorTimeoutError(f"{who} did not answer within {timeout:g} s; try again later.")
    if names & _NO_CONNECTION:
        return DirectorConnectionError(
            f"Cannot reach {where}: no network connection, a wrong base URL, or the server is down."
        )
    return None


_SCHEMA_WORDS = ("response_format", "response format", "json_schema", "json schema", "schema", "structured output",
                 "grammar", "guided_json", "guided decoding")


def schema_unsupported(status: int | None, message: str) -> bool:
    """Whether a 400/422 rejects the structured-output request itself (then plain text is the
    way on), as opposed to any other bad request (unknown model, bad parameter), which must be
    reported and must not switch structured output off."""
    if status not in (400, 422):
        return False
    text = " ".join(str(message).lower().split())
    return any(word in text for word in _SCHEMA_WORDS)


_IMAGE_WORDS = ("image", "vision", "multimodal", "multi-modal", "modality", "image_url", "mmproj")
_REFUSAL_WORDS = ("not support", "unsupported", "not enabled", "only supported", "not a multimodal", "cannot",
                  "can't", "invalid content type", "not allowed", "does not accept", "no vision", "not available")


def image_unsupported(status: int | None, message: str) -> bool:
    """Whether an error answer says the model cannot take the picture (OpenAI's "image_url is
    only supported by certain models", vLLM's "not a multimodal model", Ollama's and
    llama.cpp's "image input is not supported", Gemini's modality errors), as opposed to any
    other failure. Some servers report it as a 500, so any 4xx/5xx counts when the words do."""
    if status is None or status < 400:
        return False
    text = " ".join(str(message).lower().split())
    return any(w in text for w in _IMAGE_WORDS) and any(w in text for w in _REFUSAL_WORDS)


def scrub(text: str, *secrets: str | None) -> str:
    """Replace every secret that occurs in `text` by '***' (servers sometimes echo keys)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a library's message, whole, for a reason inside our own sentence
    (a cut mid-word reads as a bug); `one_line` when even that sentence is too long."""
    text = " ".join(str(text).split())
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence.rstrip(".") if len(sentence) <= limit else one_line(sentence, limit)


def one_line(text: str, limit: int = 200) -> str:
    """Squash a server message to one short line for use inside our own sentence."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
