"""Turn an LLM's answer into exactly N frame prompts, or say precisely what is wrong with it.

Repairs are limited to changes of *form* that cannot alter the script: code fences, prose
around the JSON, a numbered or bulleted list instead of JSON, `{"frames": [{"prompt": ...}]}`,
an object keyed "Frame 1", "Frame 2", ... Anything that would need a guess (too many or too
few frames, an empty frame) is reported as a `FormatProblem`, whose text becomes the retry
turn sent back to the model.
"""

from __future__ import annotations

import json
import re
from typing import Any


class FormatProblem(ValueError):
    """The answer cannot be used; str() is a short clause such as 'it had 7 frames instead of 8'."""


class RefusalProblem(FormatProblem):
    """The model declined instead of answering."""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_LIST_ITEM = re.compile(
    r"^\s*(?:[-*\u2022]\s+|\(?\d{1,3}\s*[.):\]]\s*|\**\s*frame\s*\d{1,3}\s*\**\s*[:.)\-\u2013\u2014]\s*\**)(.+?)\s*$",
    re.I,
)
_LABEL = re.compile(r"^\s*\**\s*(?:frame|shot|scene|image)\s*#?\s*\d{1,3}\s*\**\s*[:.)\-\u2013\u2014]\s*\**\s*", re.I)
_REFUSAL = re.compile(
    r"^\W*(?:i['\u2019]?m sorry|i am sorry|sorry,? (?:but )?i|i apologi[sz]e|i can(?:no|['\u2019])t|i can not|"
    r"i won['\u2019]t|i will not|i['\u2019]?m (?:not able|unable)|i am (?:not able|unable)|as an ai|"
    r"unfortunately,? i|i must decline)",
    re.I,
)
_TEXT_KEYS = ("prompt", "description", "image_description", "text", "frame", "content", "caption")
_LIST_KEYS = ("frames", "frame_descriptions", "descriptions", "prompts", "frame_prompts", "scenes", "shots", "images")


def parse_frames(text: str | None, num_frames: int) -> list[str]:
    """Exactly `num_frames` cleaned, non-empty frame prompts from `text`, or FormatProblem."""
    if text is None or not text.strip():
        raise FormatProblem("the answer was empty")
    items = _extract(text)
    if items is None:
        if _REFUSAL.search(text.strip()):
            raise RefusalProblem("the model declined to write the script")
        raise FormatProblem('it was not a JSON object {"frames": [...]} nor a numbered list')
    frames = [_clean(x) for x in items]
    if len(frames) != num_frames:
        raise FormatProblem(f"it had {len(frames)} frame{'s' if len(frames) != 1 else ''} instead of {num_frames}")
    empty = [i + 1 for i, f in enumerate(frames) if not f]
    if empty:
        which = ", ".join(map(str, empty[:5]))
        raise FormatProblem(f"frame{'s' if len(empty) > 1 else ''} {which} {'were' if len(empty) > 1 else 'was'} empty")
    return frames


def _extract(text: str) -> list[Any] | None:
    """The list of frame items in `text`, trying JSON forms first and list forms last."""
    candidates = [m.group(2) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        items = _from_json(candidate)
        if items is not None:
            return items
    for candidate in candidates:
        items = _from_list(candidate)
        if items is not None:
            return items
    return None


def _from_json(text: str) -> list[Any] | None:
    decoder = json.JSONDecoder()
    starts = [i for i, ch in enumerate(text) if ch in "{["]
    for start in starts[:20]:  # prose before the JSON is common; bound the scan
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        items = _items_of(value)
        if items is not None:
            return items
    return None


def _items_of(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        if value and all(_as_text(v) is not None for v in value):
            return [_as_text(v) for v in value]
        return [] if not value else None
    if not isinstance(value, dict) or not value:
        return None
    lowered = {str(k).lower().strip(): v for k, v in value.items()}
    for key in _LIST_KEYS:
        if key in lowered and isinstance(lowered[key], (list, dict)):
            return _items_of(lowered[key])
    numbered = _numbered_keys(value)
    if numbered is not None:
        return numbered
    lists = [v for v in value.values() if isinstance(v, list)]
    if len(lists) == 1:
        return _items_of(lists[0])
    return None


def _numbered_keys(value: dict[str, Any]) -> list[Any] | None:
    """{"Frame 1": "...", "Frame 2": "..."} or {"1": "...", ...} in numeric order."""
    numbered: list[tuple[int, Any]] = []
    for key, v in value.items():
        m = re.fullmatch(r"\s*(?:frame|shot|scene|image)?[\s_#-]*(\d{1,3})\s*", str(key), re.I)
        text = _as_text(v)
        if not m or text is None:
            return None
        numbered.append((int(m.group(1)), text))
    numbered.sort(key=lambda kv: kv[0])
    return [v for _, v in numbered]


def _as_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        lowered = {str(k).lower(): v for k, v in item.items()}
        for key in _TEXT_KEYS:
            if isinstance(lowered.get(key), str):
                return lowered[key]
        strings = [v for v in item.values() if isinstance(v, str)]
        if len(strings) == 1:
            return strings[0]
    return None


def _from_list(text: str) -> list[str] | None:
    """A numbered/bulleted/"Frame k:" list; continuation lines join the item above."""
    items: list[str] = []
    for line in text.splitlines():
        m = _LIST_ITEM.match(line)
        if m:
            items.append(m.group(1))
        elif items and line.strip() and not line.startswith(("#", "```")) and line[:1].isspace():
            items[-1] += " " + line.strip()
    return items if len(items) >= 1 else None


def _clean(item: Any) -> str:
    text = " ".join(str(item).split())
    text = _LABEL.sub("", text)
    text = text.strip().strip('"\u201c\u201d\'`').strip()
    text = re.sub(r"^\*\*(.*)\*\*$", r"\1", text)
    text = text.replace("**", "")
    return text.rstrip(",").strip()


_FRAME_KEYS = ("frame", "new_frame", "rewritten_frame") + _TEXT_KEYS


def parse_frame(text: str | None, num_frames: int, index: int) -> str:
    """One cleaned, non-empty frame prompt from a single-frame rewrite, or FormatProblem.

    Accepted forms: {"frame": "..."} (or another text key), a JSON string, {"frames": [one]},
    the whole table back as {"frames": [...]} with exactly `num_frames` items (its frame
    `index` is taken), any of these inside code fences or after prose, and a bare sentence,
    optionally labelled "Frame k:" or quoted. Several descriptions where one was asked for is a
    problem, not a guess.
    """
    if text is None or not text.strip():
        raise FormatProblem("the answer was empty")
    candidates = [m.group(2) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        found = _frame_from_json(candidate, num_frames, index)
        if isinstance(found, FormatProblem):
            raise found
        if found is not None:
            return _checked_frame(found)
    body = candidates[0] if len(candidates) > 1 else text
    if _REFUSAL.search(body.strip()):
        raise RefusalProblem("the model declined to rewrite the frame")
    if body.lstrip().startswith(("{", "[")):
        raise FormatProblem('it was not a JSON object {"frame": "..."}')
    lines = [line for line in body.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].rstrip().endswith(":"):  # "Here is the new frame 3:" above it
        lines = lines[1:]
    items = [m.group(1) for m in map(_LIST_ITEM.match, lines) if m]
    if len(items) > 1:
        raise FormatProblem(f"it held {len(items)} descriptions instead of one")
    if len(items) == 1 and len(lines) == 1:
        return _checked_frame(items[0])
    return _checked_frame(" ".join(lines))


def _frame_from_json(text: str, num_frames: int, index: int) -> str | FormatProblem | None:
    decoder = json.JSONDecoder()
    starts = [i for i, ch in enumerate(text) if ch in '{["']
    for start in starts[:20]:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, str):
            if start == len(text) - len(text.lstrip()):  # a JSON string literal, not a quote inside prose
                return value
            continue
        if isinstance(value, dict):
            lowered = {str(k).lower().strip(): v for k, v in value.items()}
            for key in _FRAME_KEYS:
                if isinstance(lowered.get(key), str):
                    return lowered[key]
            if isinstance(lowered.get("frame"), dict):
                inner = _as_text(lowered["frame"])
                if inner is not None:
                    return inner
        items = _items_of(value)
        if items is None:
            continue
        if len(items) == 1:
            return items[0]
        if len(items) == num_frames and num_frames > 1:  # the whole table back: take our frame
            return items[index]
        return FormatProblem(f"it held {len(items)} descriptions instead of one")
    return None


def _checked_frame(item: Any) -> str:
    frame = _clean(item)
    if not frame:
        raise FormatProblem("the new frame was empty")
    return frame


def same_frame(a: str, b: str) -> bool:
    """Whether two frame prompts say the same thing, ignoring case, spacing and end punctuation."""
    def norm(s: str) -> str:
        return " ".join(s.casefold().split()).strip(" .,;!")

    return norm(a) == norm(b)
