"""The quality gate every director's answer passes after parsing (issue 11, section 3).

A frame prompt is drawn by Stable Diffusion on its own, so a parsed answer with the right
count can still be unusable. Three rules, each cheap and exact:
- it fits CLIP's window: at most 77 tokens including the style (the bundled CLIP BPE);
- it is not word for word the frame before it (two identical pictures in a row);
- it has no English word that points at another frame ("it", "they", "the same", "again",
  "still", "continues", ...): the image model cannot see the other frames.
LLM back ends send one retry turn naming the failing frames (base.py); what still fails is
accepted and flagged, and the page and the CLI show the flags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .parsing import same_frame
from .tokens import CLIP_MAX_TOKENS, token_lengths

# "still" is also an adjective ("a still lake", "standing still"): those uses describe the
# picture, not another frame, so the word counts only where it means "as before".
_STILL_ADJECTIVE_AFTER = set("""a an the standing stands stand stood sitting sits sit lying lies lie staying stays
stay remaining remains remain holding holds hold keeping keeps keep perfectly very completely and stock calm
quiet""".split())
_STILL_ADJECTIVE_BEFORE = {"life", "water", "waters", "lake", "pond", "air", "night", "surface", "image", "frame"}
_REFERENCES = re.compile(
    r"\b(?:it|they|them|the\s+same|again|continues|continue|continuing|continued|"
    r"as\s+before|previous(?:ly)?|(?:the\s+)?next\s+frame|still)\b",
    re.I,
)


def reference_words(frame: str) -> list[str]:
    """The words in `frame` that point at other frames, lower-cased, each once, in order."""
    seen: list[str] = []
    for m in _REFERENCES.finditer(frame):
        word = " ".join(m.group(0).lower().split())
        if word == "still":
            before = frame[: m.start()].split()[-1:] or [""]
            after = frame[m.end():].split()[:1] or [""]
            if before[0].lower().strip(",.;") in _STILL_ADJECTIVE_AFTER or after[0].lower().strip(",.;") in _STILL_ADJECTIVE_BEFORE:
                continue
        if word not in seen:
            seen.append(word)
    return seen


def frame_tokens(frame: str, style: str | None = None) -> int:
    """CLIP tokens of `frame` as it will be drawn: with the style, appended if the frame lacks it."""
    if style and style.casefold() not in frame.casefold():
        frame = f"{frame}, {style}"
    return token_lengths([frame])[0]


def frame_problems(frame: str, previous: str | None = None, style: str | None = None, number: int | None = None) -> list[str]:
    """Short clauses naming what is wrong with one frame; [] when it passes."""
    problems = []
    n = frame_tokens(frame, style)
    if n > CLIP_MAX_TOKENS:
        problems.append(f"it has {n} CLIP tokens{' with the style' if style else ''}, more than {CLIP_MAX_TOKENS}")
    if previous is not None and previous.strip() and same_frame(frame, previous):
        problems.append(f"it repeats frame {number - 1} word for word" if number else "it repeats the frame before")
    words = reference_words(frame)
    if words:
        problems.append("it points at other frames (" + ", ".join(f'"{w}"' for w in words) + ")")
    return problems


def script_problems(frames: Sequence[str], style: str | None = None) -> dict[int, list[str]]:
    """{0-based index: problems} for every frame that fails a rule; {} when the script passes."""
    found = {}
    for i, frame in enumerate(frames):
        problems = frame_problems(frame, frames[i - 1] if i else None, style, i + 1)
        if problems:
            found[i] = problems
    return found


def redirect_problems(frames: Sequence[str], index: int, frame: str, style: str | None = None) -> list[str]:
    """Problems of a rewritten frame `index` among the table's other rows (either neighbour)."""
    problems = frame_problems(frame, frames[index - 1] if index else None, style, index + 1)
    if index + 1 < len(frames) and frames[index + 1].strip() and same_frame(frame, frames[index + 1]):
        problems.append(f"it repeats frame {index + 2} word for word")
    return problems


def describe(problems: dict[int, list[str]]) -> str:
    """'frame 2: it points at other frames ("it"); frame 5: it repeats frame 4 word for word'."""
    return "; ".join(f"frame {i + 1}: {', and '.join(p)}" for i, p in sorted(problems.items()))
