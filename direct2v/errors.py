"""The error every layer raises for input a person can fix; its message says how."""

from __future__ import annotations

import re

# A URL, or an absolute path (not a fraction or "SD/SDXL": no word character before the slash).
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_PATH = re.compile(r"(?<![\w./~-])(?:~/|/)(?:[\w.@+~-]+/)*[\w.@+~-]+/?")


class SettingsError(ValueError):
    """A setting or an input is out of range; the message says which and how to fix it."""


class PromptError(SettingsError):
    """The frame prompts do not fit the request (empty rows, wrong count, too long)."""


def without_server_details(text: str) -> str:
    """`text` with URLs and absolute paths replaced by "…": a library's error may name the
    Hub endpoint, a cache folder or an upload's path, none of which a visitor should see."""
    return _PATH.sub("…", _URL.sub("…", text))
