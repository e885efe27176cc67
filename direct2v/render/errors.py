"""Errors the renderer raises on purpose; each message is meant to be shown to a person."""

from __future__ import annotations

from ..errors import PromptError, SettingsError  # noqa: F401 (raised by the renderer, caught by callers)


class RenderCancelled(RuntimeError):
    """The caller asked to stop (Cancel button, Ctrl-C, or `pipe._interrupt = True`)."""


class ModelLoadError(RuntimeError):
    """A Stable Diffusion model could not be loaded (unknown id, no network, bad folder)."""


class ModelLoadCancelled(ModelLoadError):
    """The caller stopped a model load between its stages; nothing of it was kept."""


class RenderOutOfMemory(RuntimeError):
    """The GPU ran out of memory; the message says what to lower."""


class RenderNonFinite(RuntimeError):
    """Some frames turned to NaN/inf (fp16 overflow on some GPUs) instead of being returned black.

    `frames` are 1-based frame numbers, `step` the 1-based UNet step (None: in the VAE decode),
    `fp32_helps` whether rendering in full precision is worth a retry.
    """

    def __init__(self, message: str, frames: list[int], step: int | None, fp32_helps: bool):
        super().__init__(message)
        self.frames, self.step, self.fp32_helps = frames, step, fp32_helps
