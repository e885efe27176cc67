"""The built-in writer's frames made from other frames: the camera's framing per frame, fitting
a frame into CLIP's window, a frame between two neighbours (re-direct one row; doubling the
frame rate of an edited table), all from the frames' own words.
"""

from __future__ import annotations

import re

from . import prompts
from .offline_grammar import ing, verb_lemma
from .parsing import same_frame
from .tokens import CLIP_MAX_TOKENS, fits, truncate_to_limit

CAMERA_MOVES: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"zoom(?:s|ing)?\s*in|push(?:es|ing)?\s*in|dolly\s*(?:in|forward)|move\s*closer|close in", re.I),
     ["wide shot", "medium wide shot", "medium shot", "medium close-up", "close-up shot"]),
    (re.compile(r"zoom(?:s|ing)?\s*out|pull(?:s|ing)?\s*(?:back|out)|dolly\s*(?:out|back)", re.I),
     ["close-up shot", "medium close-up", "medium shot", "medium wide shot", "wide shot"]),
    (re.compile(r"pan(?:s|ning)?\s*left", re.I),
     ["centered in the frame", "right of center in the frame", "on the right side of the frame"]),
    (re.compile(r"pan(?:s|ning)?\s*right", re.I),
     ["centered in the frame", "left of center in the frame", "on the left side of the frame"]),
    (re.compile(r"tilt(?:s|ing)?\s*up|crane\s*up", re.I),
     ["centered in the frame", "low in the frame, more sky visible", "at the bottom of the frame, wide sky above"]),
    (re.compile(r"tilt(?:s|ing)?\s*down|crane\s*down", re.I),
     ["centered in the frame", "high in the frame, more ground visible", "at the top of the frame, ground below"]),
    (re.compile(r"orbit|rotat|circl|arc\b|around", re.I),
     ["front view", "three-quarter front view", "side view", "three-quarter rear view", "rear view"]),
]
# Where the prompt itself holds still, the camera moves in slowly: a real change between frames,
# never a made-up detail.
PUSH_IN = ["extreme wide shot", "very wide shot", "wide shot", "medium wide shot", "medium shot", "medium close-up",
           "close-up shot", "tight close-up", "extreme close-up"]
CAMERA_TALK = re.compile(
    r"(?:,\s*)?\b(?:(?:the\s+)?camera\b[^,.;]*|(?:slow(?:ly)?\s+|fast\s+)?(?:zoom(?:s|ing)?|pan(?:s|ning)?|tilt(?:s|ing)?|"
    r"dolly(?:ing)?)\s+(?:in|out|left|right|up|down|forward|back)\b|(?:extreme\s+)?(?:close-up|close up|wide|medium|long|"
    r"tracking|drone|aerial|establishing)\s+(?:shot|view)|(?:shot|filmed)\s+from\s+[^,.;]+)",
    re.I,
)
_FRAMINGS = {f.casefold() for _, framings in CAMERA_MOVES for f in framings} | {p.casefold() for p in PUSH_IN} | {
    "static camera", "steady framing"}


def camera_text(camera: str | None, t: float) -> str:
    """The camera's part of the frame at time t in [0, 1)."""
    if camera is None or camera == prompts.CAMERA_REMOVE:
        return ""
    if camera == prompts.CAMERA_STATIC:
        return "static camera, steady framing"
    for pattern, framings in CAMERA_MOVES:
        if pattern.search(camera):
            return framings[min(int(t * len(framings)), len(framings) - 1)]
    return camera


def compose(parts: list[str], tail: list[str], limit: int = CLIP_MAX_TOKENS) -> str:
    """parts then tail (camera, style) joined with commas within `limit` tokens: the parts are cut
    from the end first, so the style the user asked for stays."""
    parts, tail = [p for p in parts if p], [t for t in tail if t]
    text = ", ".join(parts + tail)
    if not fits(text, limit):
        end = ", " + ", ".join(tail) if tail else ""
        head = truncate_to_limit(", ".join(parts), limit - max(0, len(end.split()) * 3))
        while head and not fits(head + end, limit):
            head = " ".join(head.split()[:-1]).rstrip(" ,;:")
        text = (head + end) if head else truncate_to_limit(text, limit)
    text = re.sub(r"\s+", " ", text).strip(" ,")
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------- between two frames
def _clauses(text: str) -> list[str]:
    return [c.strip(" .;") for c in text.split(",") if c.strip(" .;")]


def _key(clause: str) -> str:
    return " ".join(clause.casefold().split()).strip(" .,;")


def _is_camera(clause: str) -> bool:
    return _key(clause) in _FRAMINGS or bool(CAMERA_TALK.fullmatch(clause.strip()))


def _split_end(a: list[str], b: list[str], style: str | None) -> tuple[list[str], list[str], list[str]]:
    """(a, b, end): the style (or the clauses both frames end with) taken off as the shared end."""
    if style:
        s = _key(style)
        return [c for c in a if _key(c) != s] or a[:1], [c for c in b if _key(c) != s], [style]
    k = 0
    while k < min(len(a), len(b)) - 1 and _key(a[-1 - k]) == _key(b[-1 - k]):
        k += 1
    return a[: len(a) - k], b[: len(b) - k], a[len(a) - k:]


def blend_frames(before: str, after: str, style: str | None = None, camera: str | None = None) -> str:
    """A frame between `before` and `after` from their own clauses: the main clause of `before`,
    the details both share, then `before`'s own and `after`'s own details as many as fit, then
    `before`'s camera framing and the style (or the clauses both end with)."""
    a, b = _clauses(before), _clauses(after)
    if not a:
        a, b = b, a
    if not a:
        return ""
    a, b, end = _split_end(a, b, style)
    if camera == prompts.CAMERA_REMOVE:
        a = [c for c in a if not _is_camera(c)] or a[:1]
        b = [c for c in b if not _is_camera(c)]
    akeys, bkeys = {_key(c) for c in a}, {_key(c) for c in b}
    head = [a[0]] + [c for c in a[1:] if _key(c) in bkeys and not _is_camera(c)]
    cam = [c for c in a[1:] if _is_camera(c)]
    optional = [c for c in a[1:] if _key(c) not in bkeys and not _is_camera(c)] + \
        [c for c in b[1:] if _key(c) not in akeys and not _is_camera(c)]
    chosen: list[str] = []
    for clause in optional:
        if not any(_key(clause) in _key(o) or _key(o) in _key(clause) for o in head + chosen + cam + end) \
                and fits(", ".join(head + chosen + [clause] + cam + end)):
            chosen.append(clause)
    return compose(head + chosen, cam + end)


def between(a: str, b: str, toward: bool, style: str | None = None) -> str:
    """A frame on the way from `a` to `b`, told from `a` (toward=True: "..., starting to yawn",
    "..., about to be asleep") or from `b` (toward=False: "..., no longer asleep"). Where the
    two differ by a few words those words carry the change; otherwise their clauses are blended."""
    x, y = (a, b) if toward else (b, a)
    x, styled = _without_style(x, style)
    y, _ = _without_style(y, style)
    xs, ys = x.split(), y.split()
    p = 0
    while p < min(len(xs), len(ys)) and xs[p].lower() == ys[p].lower():
        p += 1
    s = 0
    while s < min(len(xs), len(ys)) - p and xs[-1 - s].lower() == ys[-1 - s].lower():
        s += 1
    dx, dy = xs[p: len(xs) - s], ys[p: len(ys) - s]
    if not dy or len(dy) > 8 or len(dx) > 8:
        return blend_frames(a if toward else b, b if toward else a, style)
    words = " ".join(dy).strip(" ,")
    if toward:
        lemma = verb_lemma(dy[0]) if dy[0].lower().endswith("ing") else None
        change = f"starting to {lemma} {' '.join(dy[1:])}".strip(" ,") if lemma and ing(lemma) == dy[0].lower() \
            else f"about to be {words}"
    else:
        change = f"no longer {words}"
    return compose([x, change], [style] if styled else [])


def _without_style(text: str, style: str | None) -> tuple[str, bool]:
    text = text.rstrip(" .")
    if style and text.casefold().endswith(style.casefold()):
        return text[: -len(style)].rstrip(" ,"), True
    return text, False


def in_between_script(frames: list[str], style: str | None = None) -> list[str]:
    """2N frames for an N-frame table (doubling the frame rate): each row stays where the paper's
    split puts it (2i) and is followed by a frame on the way to the next row; the last row is
    followed by one told from it ("..., no longer ..."). None repeats a neighbour: where the
    rows' words give nothing new, the camera steps in instead."""
    out = []
    for i, frame in enumerate(frames):
        if i + 1 < len(frames):
            step = between(frame, frames[i + 1], True, style)
            taken = (frame, frames[i + 1])
        else:
            step = between(frames[i - 1], frame, False, style) if i else ""
            taken = (frame,)
        out += [frame, _fresh(step, frame, taken, style)]
    return out


def _fresh(frame: str, base: str, taken: tuple[str, ...], style: str | None) -> str:
    """`frame`, or where it repeats one of `taken`, `base` with the camera one step closer."""
    if frame and not any(same_frame(frame, x) for x in taken):
        return frame
    plain, styled = _without_style(base, style)
    for framing in PUSH_IN[1:]:
        candidate = compose([plain, framing], [style] if styled else [])
        if not any(same_frame(candidate, x) for x in taken):
            break
    return candidate


def rewrite_frame(frames: list[str], index: int, story: list[str] | None, camera: str | None = None,
                  style: str | None = None) -> str:
    """A new version of row `index`: the story's own row where the neighbours are still the
    story's, else a frame between the neighbours; never the current row or a neighbour's words."""
    n, current = len(frames), frames[index]
    prev = frames[index - 1] if index > 0 else ""
    nxt = frames[index + 1] if index + 1 < n else ""
    taken = [x for x in (current, prev, nxt) if x]
    if story is not None:
        untouched = all(not frames[j] or same_frame(frames[j], story[j]) for j in (index - 1, index + 1) if 0 <= j < n)
        if untouched and not any(same_frame(story[index], x) for x in taken):
            return story[index]
    before = prev or current or (story[index] if story else "")
    after = nxt or current or (story[index] if story else "") or before
    if not prev and current and nxt:
        before, after = current, nxt
    candidates = [blend_frames(before, after, style, camera), between(before, after, True, style)]
    if story is not None:
        candidates += [blend_frames(before, story[index], style, camera), story[index]]
    # Nothing new to say from the rows' words: the camera steps in, a real change, not filler.
    plain, styled = _without_style(before, style)
    candidates += [compose([plain, framing], [style] if styled else []) for framing in PUSH_IN[1:]]
    candidates.append(between(before, after, False, style))
    for frame in candidates:
        if frame and not any(same_frame(frame, x) for x in taken):
            return frame
    return candidates[0]
