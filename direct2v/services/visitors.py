"""A visitor's director calls on a public server: whose key, how often, how many at once.

- Keys: a visitor's typed key (or, for Hugging Face inference, their own sign-in) is theirs
  and used for that request only. Without one, the owner's environment key of a provider is
  used only where the owner shared it (`--share-keys`), at most `key_calls_per_hour` times
  per visitor per hour, and only with a director model from the owner's list (so no visitor
  runs the owner's account on the dearest model there is).
- One call in flight per visitor: a silent server holds that visitor's slot, never the
  page's, and a call gives up after `director_timeout_s` (its worker ends on the back end's
  own timeout and only then frees the visitor's slot).

On the owner's machine (`policy.public` false) everything here allows everything. Nothing
here imports Gradio; refusals are `VisitorRefused` (a SettingsError) with the page's words.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import deque
from typing import Any, Callable

from ..settings import SettingsError
from .policy import KEY_PROVIDERS, ServerPolicy

PROVIDER_NAMES = {"openai": "OpenAI", "gemini": "Gemini", "huggingface": "Hugging Face"}


class VisitorRefused(SettingsError):
    """What a visitor may not do on this server, in words for the page."""


class KeyRate:
    """Calls per visitor in a sliding hour (bounded: the oldest visitors are forgotten)."""

    def __init__(self, per_hour: int, window_s: float = 3600.0, max_visitors: int = 4096):
        self.per_hour, self.window_s, self.max_visitors = int(per_hour), float(window_s), int(max_visitors)
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, visitor: str, now: float | None = None) -> bool:
        """Count one call for `visitor`; False (and nothing counted) when they are at the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = self._calls.pop(visitor, deque())
            while calls and now - calls[0] >= self.window_s:
                calls.popleft()
            allowed = len(calls) < self.per_hour
            if allowed:
                calls.append(now)
            self._calls[visitor] = calls  # most recent last, so the oldest go first below
            while len(self._calls) > self.max_visitors:
                self._calls.pop(next(iter(self._calls)))
            return allowed


class InFlight:
    """At most `limit` calls in flight per visitor."""

    def __init__(self, limit: int = 1):
        self.limit = max(1, int(limit))
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, visitor: str) -> bool:
        with self._lock:
            if self._count.get(visitor, 0) >= self.limit:
                return False
            self._count[visitor] = self._count.get(visitor, 0) + 1
            return True

    def leave(self, visitor: str) -> None:
        with self._lock:
            left = self._count.get(visitor, 0) - 1
            if left > 0:
                self._count[visitor] = left
            else:
                self._count.pop(visitor, None)


class DirectorGate:
    """The public server's rules for one visitor's director call (see the module docstring)."""

    def __init__(self, policy: ServerPolicy):
        self.policy = policy
        self.rate = KeyRate(policy.key_calls_per_hour)
        self.in_flight = InFlight(policy.visitor_director_calls)

    def key_for(self, visitor: str, backend: str, llm_model: str, own_key: str | None) -> str | None:
        """The key this call may use: the visitor's own, or None to let the back end use the
        environment's (private mode, or a provider the owner shared, within the rate).
        Raises VisitorRefused when the call would spend the owner's key without leave."""
        backend = (backend or "").strip().lower()
        if own_key or not self.policy.public or backend not in KEY_PROVIDERS:
            return own_key or None
        name = PROVIDER_NAMES[backend]
        if not self.policy.shares_key(backend):
            sign_in = " or sign in with Hugging Face" if backend == "huggingface" else ""
            raise VisitorRefused(
                f"This server does not share its {name} key with visitors: enter your own key{sign_in} "
                "(used for this request only, never stored), or choose the offline director."
            )
        if not self.policy.allows_llm_model(llm_model):
            raise VisitorRefused(
                f"With this server's {name} key the director models are the owner's: "
                f"{', '.join(self.policy.llm_models) or 'the default one (leave the field blank)'}."
            )
        if not self.rate.take(visitor):
            raise VisitorRefused(
                f"You have used this server's {name} key {self.policy.key_calls_per_hour} times in the last hour, "
                "the most it allows one visitor; enter your own key, or try again later."
            )
        return None

    def call(self, visitor: str, fn: Callable[[], Any]) -> Any:
        """Run `fn` for `visitor`: at most one in flight each and at most `director_timeout_s`
        waited for on a public server; on the owner's machine simply `fn()`."""
        if not self.policy.public:
            return fn()
        if not self.in_flight.enter(visitor):
            raise VisitorRefused("Your previous director request is still running; wait for it, or press Stop and try again in a minute.")
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = fn()
            except BaseException as e:  # handed to the caller below
                outcome["error"] = e
            finally:
                self.in_flight.leave(visitor)  # only now: a silent server keeps this visitor's slot
                done.set()

        # The page's context (its toasts, its request) goes along into the worker.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(run,), name="direct2v-director-call", daemon=True).start()
        if not done.wait(self.policy.director_timeout_s):
            raise VisitorRefused(
                f"The director did not answer within {self.policy.director_timeout_s:g} s; try again later, "
                "or choose another back end."
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
