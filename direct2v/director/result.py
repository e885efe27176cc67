"""What a director call gives back: the frames, and how they were written.

Every director method (`direct`, `double_fps`, `redirect_frame`) returns a `DirectorResult`.
It *is* the list of frame prompts (a `list[str]` subclass), so `frames = d.direct(...)` keeps
working as design.md shows; its attributes say what the page's line under the table and the
CLI's stderr must say about it: which back end and model actually wrote it (the built-in
writer when the local model could not load, and why), whether the answer came from the
cache, the quality gate's flags, a one-off notice, and whether the start picture was seen.
Nothing is read afterwards from the director object: a result travels as a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Authorship:
    """How one call's answer was made; filled in while the call runs (Director._run)."""

    fresh: bool = False  # an explicit re-direct: ask the model again instead of the cache
    image: object = None  # the prepared start picture the call may send (vision.DirectorImage)
    backend: str = ""  # who actually wrote it ("offline" when the local model stood down)
    model: str | None = None
    author: str = ""  # the same, as a phrase: "OpenAI model 'gpt-4o'", "the built-in writer"
    fallback: str | None = None  # why the chosen back end did not write it, and how to fix that
    cached: bool = False  # the answer was the cache's, not a new request
    notice: str | None = None  # a one-off remark, e.g. the prompt had no event to stage
    image_note: str | None = None  # whether the picture reached the model (None: no picture)
    image_sent: bool = False


class DirectorResult(list):
    """The frames (this list itself) and how they were written; see the module docstring.

    backend, model, author: who actually wrote the script. fallback: why the chosen back end
    did not (None when it did). cached: served from the response cache. flags: {0-based frame:
    [problems]} from the quality gate; accepted answers are flagged, never dropped. notice:
    one remark the user must see. image_note / image_sent: whether the start picture reached
    the model. index: for `redirect_frame`, the row that was rewritten (`frame` is its text).
    """

    def __init__(self, frames: Iterable[str], how: Authorship, *, flags: dict[int, list[str]] | None = None,
                 index: int | None = None):
        super().__init__(frames)
        self.backend, self.model, self.author = how.backend, how.model, how.author
        self.fallback, self.cached, self.notice = how.fallback, how.cached, how.notice
        self.image_note, self.image_sent = how.image_note, how.image_sent
        self.flags = dict(flags or {})
        self.index = index

    @property
    def frames(self) -> list[str]:
        return list(self)

    @property
    def frame(self) -> str | None:
        """The rewritten row of a `redirect_frame` result (None for a whole script)."""
        return self[self.index] if self.index is not None else None

    def byline(self) -> str:
        """One sentence naming who wrote the script, from where, and why not the chosen back end."""
        line = f"Written by {self.author or self.backend}"
        if self.cached:
            line += " (its saved answer to this same request)"
        if self.fallback:
            return f"{line}: {self.fallback.rstrip('.')}."
        return line + "."

    def notes(self) -> list[str]:
        """Every line the user must see about this result, the byline first."""
        return [n for n in (self.byline(), self.notice, self.image_note) if n]

    def __repr__(self) -> str:
        return f"DirectorResult({list(self)!r}, backend={self.backend!r}, model={self.model!r})"

    def __reduce__(self):  # pickled and deep-copied as what it is (list's own would drop the type)
        return (_rebuild, (list(self), dict(self.__dict__)))


def _rebuild(frames: list[str], attributes: dict) -> DirectorResult:
    result = DirectorResult(frames, Authorship())
    result.__dict__.update(attributes)
    return result

