"""Errors the renderer raises on purpose; each message is meant to be shown to a person."""

from __future__ import annotations

from ..errors import PromptError, SettingsError  # noqa: F401 (raised by the renderer, caught by callers)


class RenderCancelled(RuntimeError):
    """The caller asked to stop (Cancel button, Ctrl-C, or `pipe._interrupt = True`)."""


class ModelLoadError(RuntimeError):
    """A Stable Diffusion model could not be loaded (unknown id, no network, bad folder)."""


class RenderOutOfMemory(RuntimeError):
    """The GPU ran out of memory; the message says what to lower."""
