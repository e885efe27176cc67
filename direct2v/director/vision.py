"""The start picture as a director sees it (issue 17): frame 1, whose content the script
describes in words when the user types only the motion.

`prepare_image` turns what the page or the CLI has (a path, PIL image, array or tensor) into
a small JPEG: the longest side at most `MAX_SIDE` pixels (never enlarged), which is enough
for a model to name the subject, colours, setting and light, and keeps the request small
(OpenAI tiles images in 512-pixel squares, Gemini in 768-pixel ones). Its SHA-256 is taken
of the bytes actually sent, so the response cache serves an answer only for the same
picture. The bytes never appear in a repr, a log line or an error message.

Each back end wraps the picture in its own request shape:
* OpenAI chat completions, OpenAI-compatible servers and Hugging Face's InferenceClient:
  an `image_url` content part holding a base64 data URL (`openai_messages`);
* Gemini: `types.Part.from_bytes(data=..., mime_type=...)`, an inline-data part.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from .errors import DirectorInputError

MAX_SIDE = 768
JPEG_QUALITY = 90
# The key a user turn carries its picture under, beside "role" and "content".
IMAGE_KEY = "image"


@dataclass(frozen=True)
class DirectorImage:
    """The down-scaled picture the director sends; `data` is never shown."""

    data: bytes = field(repr=False)
    mime_type: str
    size: tuple[int, int]  # (width, height) as sent
    source_size: tuple[int, int]  # (width, height) as given
    sha256: str

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.mime_type};base64,{self.base64()}"

    def describe(self) -> str:
        w, h = self.size
        sw, sh = self.source_size
        return f"{w}x{h}" + (f", scaled from {sw}x{sh}" if (w, h) != (sw, sh) else "")


def prepare_image(source: Any, max_side: int = MAX_SIDE) -> DirectorImage:
    """A DirectorImage from a path, PIL image, numpy array or tensor; DirectorInputError with
    the start-image check's message (missing file, zero size, huge, no RGB meaning) if not."""
    if isinstance(source, DirectorImage):
        return source
    from PIL import Image

    from ..render.start_image import StartImageError, load_image  # lazy: PIL/numpy only when a picture comes

    try:
        image = load_image(source)
    except StartImageError as e:
        raise DirectorInputError(str(e)) from None
    source_size = image.size
    if max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    data = buffer.getvalue()
    return DirectorImage(data, "image/jpeg", image.size, source_size, hashlib.sha256(data).hexdigest())


def message_image(message: dict[str, Any]) -> DirectorImage | None:
    image = message.get(IMAGE_KEY)
    return image if isinstance(image, DirectorImage) else None


def history_image(messages: list[dict[str, Any]]) -> DirectorImage | None:
    """The picture a conversation carries (the first one), if any."""
    for m in messages:
        image = message_image(m)
        if image is not None:
            return image
    return None


def text_only(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turns without their pictures (for back ends and servers that take only text)."""
    return [{k: v for k, v in m.items() if k != IMAGE_KEY} for m in messages]


def openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat-completions turns: a turn with a picture gets content parts, the picture first
    (as the providers' vision guides place it), then the text; other turns stay plain."""
    out = []
    for m in messages:
        image = message_image(m)
        if image is None:
            out.append({"role": m["role"], "content": m["content"]})
        else:
            out.append({"role": m["role"], "content": [
                {"type": "image_url", "image_url": {"url": image.data_url()}},
                {"type": "text", "text": m["content"]},
            ]})
    return out
