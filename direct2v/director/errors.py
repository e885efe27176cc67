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


def scrub(text: str, *secrets: str | None) -> str:
    """Replace every secret that occurs in `text` by '***' (servers sometimes echo keys)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 200) -> str:
    """Squash a server message to one short line for use inside our own sentence."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
