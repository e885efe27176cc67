"""The error every layer raises for input a person can fix; its message says how."""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting or an input is out of range; the message says which and how to fix it."""


class PromptError(SettingsError):
    """The frame prompts do not fit the request (empty rows, wrong count, too long)."""
