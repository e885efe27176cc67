"""The frame script's limits and the one check every layer applies to frame prompts.

The page, the CLI, the renderer, the evaluation and the director all read these numbers
from here, so a limit cannot differ between the layer that shows it and the one that
enforces it.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import PromptError

MIN_FRAMES = 2  # a video, not a still
MAX_FRAMES = 256
MAX_PROMPT_CHARS = 2000  # the person's prompt and each frame prompt
CLIP_MAX_TOKENS = 77  # what Stable Diffusion's text encoder reads, start and end tokens included
MAX_FPS = 120


def check_frame_count(n: Any) -> int:
    """The one rule for how many frames a video has, behind the page's slider, `direct --frames`,
    the suite, `render()` and the director: PromptError with the same words everywhere."""
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_FRAMES <= n <= MAX_FRAMES:
        raise PromptError(f"The number of frames must be a whole number from {MIN_FRAMES} to {MAX_FRAMES} (got {n!r}).")
    return n


def rows_text(rows: Sequence[int]) -> str:
    """'Frame 2 is' / 'Frames 2, 5 are' for 1-based row numbers (the first ten)."""
    shown = ", ".join(map(str, rows[:10])) + ("..." if len(rows) > 10 else "")
    return f"Frame {shown} is" if len(rows) == 1 else f"Frames {shown} are"


def check_frame_prompts(prompts: Any) -> list[str]:
    """The prompts, stripped; PromptError naming the empty or over-long rows (1-based)."""
    if isinstance(prompts, str) or not isinstance(prompts, Sequence):
        raise PromptError("Give a list of frame prompts, one per frame.")
    out = [p.strip() if isinstance(p, str) else "" for p in prompts]
    if not out:
        raise PromptError("The frame table is empty: direct a prompt or add rows first.")
    empty = [i + 1 for i, p in enumerate(out) if not p]
    if empty:
        raise PromptError(f"{rows_text(empty)} empty: write a prompt or delete the row.")
    if len(out) > MAX_FRAMES:
        check_frame_count(len(out))
    long = [i + 1 for i, p in enumerate(out) if len(p) > MAX_PROMPT_CHARS]
    if long:
        raise PromptError(f"{rows_text(long)} longer than {MAX_PROMPT_CHARS} characters: shorten the prompt.")
    return out
