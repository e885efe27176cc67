"""Errors the renderer raises on purpose; each message is meant to be shown to a person."""

from __future__ import annotations

from ..errors import SettingsError


class RenderCancelled(RuntimeError):
    """The caller asked to stop (Cancel button, Ctrl-C, or `pipe._interrupt = True`)."""


class PromptError(SettingsError):
    """The frame prompts do not fit the request (empty rows, wrong count)."""


class ModelLoadError(RuntimeError):
    """A Stable Diffusion model could not be loaded (unknown id, no network, bad folder)."""


class RenderOutOfMemory(RuntimeError):
    """The GPU ran out of memory; the message says what to lower."""
