"""Errors where the eye is: a failed event also writes its message into the page's own status
line for its area (the frame script's notes, the render line, the compare line), where it
stays until the next action there; Gradio's toast fades after a few seconds.

A person's mistake (a `gr.Error` a handler raised on purpose) is one line in the server log;
only faults, exceptions nobody raised on purpose, log a traceback.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections import OrderedDict
from typing import Any, Callable

import gradio as gr

log = logging.getLogger("direct2v.page")
if not log.handlers:  # one plain line per message on the server's stderr
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("direct2v: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

# The message waits here between the failed event and its .failure() listener, which runs
# as its own request; bounded so abandoned sessions cannot grow it.
_MAX_PENDING = 1024
_pending: "OrderedDict[tuple[str, str], str]" = OrderedDict()
_lock = threading.Lock()


def session_of(request: Any = None) -> str:
    """The browser session of `request`, or of the request being handled now."""
    if request is None:
        from gradio.context import LocalContext

        request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None) or "local"


def remember(area: str, session: str, message: str) -> None:
    with _lock:
        _pending[(area, session)] = message
        _pending.move_to_end((area, session))
        while len(_pending) > _MAX_PENDING:
            _pending.popitem(last=False)


def take(area: str, session: str) -> str | None:
    with _lock:
        return _pending.pop((area, session), None)


def page_error(area: str, e: BaseException) -> gr.Error:
    """The gr.Error the page shows for `e`, logged once and kept for `area`'s status line."""
    if isinstance(e, gr.Error):
        message = str(e.message)
        log.info("%s: %s", area, message)
    else:
        log.error("%s failed", area, exc_info=e)
        message = f"The {area} failed: {type(e).__name__}: {e}"
    remember(area, session_of(), message)
    return gr.Error(message, print_exception=False)


def reports(area: str) -> Callable[[Callable], Callable]:
    """Wrap an event handler (plain or generator): its failure is kept for `area`'s status
    line (written by `status_after_failure`) and logged once; Gradio still gets a gr.Error,
    so the toast and the API's error are as before."""

    def wrap(fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any):
                try:
                    return (yield from fn(*args, **kwargs))
                except (GeneratorExit, KeyboardInterrupt, SystemExit):
                    raise
                except Exception as e:
                    raise page_error(area, e) from None

            return gen

        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any):
            try:
                return fn(*args, **kwargs)
            except Exception as e:
                raise page_error(area, e) from None

        return plain

    return wrap


def status_after_failure(area: str, prefix: str = "⚠ ") -> Callable:
    """The `.failure()` listener that writes the kept message into `area`'s status line."""

    def show(request: gr.Request):
        message = take(area, session_of(request))
        return f"{prefix}{message}" if message else gr.update()

    show.__name__ = f"show_{area}_error"
    return show
