"""Undo for the last director action: Direct, Re-direct row/all and Double frame rate replace
rows the person may have edited by hand. The table before the last such action is kept per
session; Undo brings it back."""

from __future__ import annotations

from .session import PerSession

# The table before each session's last director action, and what the director wrote last
# (to tell which rows a new script replaces were edited by hand).
UNDO = PerSession()
DIRECTED = PerSession()


def hand_edited_rows(session: str, prompts: list[str]) -> list[int]:
    """1-based rows that differ from what the director last wrote for this session (every
    non-empty row when it wrote nothing yet: typed or loaded, so the person's own)."""
    directed = DIRECTED.get(session)
    if directed is None:
        return [i + 1 for i, p in enumerate(prompts) if p.strip()]
    return [i + 1 for i, p in enumerate(prompts) if i >= len(directed) or p != directed[i]]
