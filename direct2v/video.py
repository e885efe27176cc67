"""Export rendered frames: mp4 (H.264, yuv420p), animated gif, and a zip of PNG frames.

Frames come from the renderer as (F, H, W, 3) float in [0, 1]; uint8 arrays are accepted
as they are. Nothing here needs torch or Gradio.

Every output can carry the project that made it (prompt, frame table, every setting, seed,
model) as JSON, so a file alone reproduces its render, the way a Stable Diffusion web UI's
"PNG Info" does: an iTXt chunk in each PNG, the mp4's `comment` tag, the gif's comment,
and `project.direct2v.json` inside the zip. `read_project_json` finds it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .errors import without_server_details

PROJECT_KEY = "direct2v-project"  # the PNG text key
PROJECT_IN_ZIP = "project.direct2v.json"
# The most project JSON read from any file: 256 frames of 2000 characters, escaped, fit.
MAX_PROJECT_BYTES = 4 * 1024 * 1024


def to_uint8(frames: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
    """(F, H, W, 3) uint8 from float frames in [0, 1] (clipped) or from uint8 frames."""
    arr = np.asarray(frames if isinstance(frames, np.ndarray) else list(frames))
    if arr.ndim == 3:  # a single frame
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Expected frames shaped (F, H, W, 3); got {arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError("There are no frames to export.")
    if arr.dtype != np.uint8:
        arr = np.clip(np.nan_to_num(arr.astype(np.float32)), 0.0, 1.0)
        arr = (arr * 255.0 + 0.5).astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    elif arr.shape[-1] == 4:
        arr = arr[..., :3]
    return np.ascontiguousarray(arr)


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad to even height and width by repeating the last row/column (yuv420p needs even sizes)."""
    _, h, w, _ = frames.shape
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    return frames


def _project_text(project: Any) -> str | None:
    """The project as compact JSON: from a Project (anything with `to_json`), a JSON string, or None."""
    if project is None:
        return None
    text = project if isinstance(project, str) else project.to_json()
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=True)


def png_bytes(frame: np.ndarray, project: Any = None) -> bytes:
    """One frame as PNG bytes, with the project in an iTXt chunk when given."""
    info = None
    text = _project_text(project)
    if text is not None:
        info = PngInfo()
        info.add_itxt(PROJECT_KEY, text)
    buf = io.BytesIO()
    Image.fromarray(to_uint8(frame)[0]).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def write_png(frame: np.ndarray, path: str | Path, project: Any = None) -> Path:
    path = Path(path)
    path.write_bytes(png_bytes(frame, project))
    return path


def write_mp4(frames: np.ndarray, path: str | Path, fps: float = 4, project: Any = None) -> Path:
    """H.264 mp4 in yuv420p with faststart, which every browser plays; the project goes in
    the container's `comment` tag, through a metadata file (`_tag_mp4`), never the command
    line, whose length is limited (a long project made the export fail)."""
    import imageio.v2 as imageio

    path = Path(path)
    data = _even(to_uint8(frames))
    text = _project_text(project)
    target = path if text is None else path.with_name(f".{path.stem}.untagged.mp4")
    writer = imageio.get_writer(
        target,
        format="FFMPEG",
        mode="I",
        fps=float(fps),
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=1,  # keep our size; _even already made it legal for yuv420p
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],
    )
    try:
        for frame in data:
            writer.append_data(frame)
    finally:
        writer.close()
    if text is not None:
        try:
            _tag_mp4(target, path, text)
        finally:
            target.unlink(missing_ok=True)
    return path


def _ffmetadata(text: str) -> str:
    """`text` as the comment of an ffmetadata file ('=', ';', '#', '\\' and newlines escaped)."""
    return ";FFMETADATA1\ncomment=" + re.sub(r"([=;#\\\n])", r"\\\1", text) + "\n"


def _tag_mp4(source: Path, path: Path, text: str) -> None:
    """Copy `source` to `path` (no re-encoding) with `text` as its comment, read by ffmpeg
    from a metadata file next to it."""
    import imageio_ffmpeg

    meta = source.with_suffix(".ffmeta")
    meta.write_text(_ffmetadata(text), encoding="utf-8")
    try:
        out = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-f", "ffmetadata", "-i",
             str(meta), "-map", "0", "-map_metadata", "1", "-c", "copy", "-movflags", "+faststart", str(path)],
            capture_output=True, timeout=300,
        )
    finally:
        meta.unlink(missing_ok=True)
    if out.returncode != 0:
        lines = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OSError(f"ffmpeg could not write the mp4: {without_server_details(lines[-1]) if lines else 'no reason given'}")


def write_gif(frames: np.ndarray, path: str | Path, fps: float = 4, project: Any = None) -> Path:
    """Looping animated gif; each frame lasts 1000/fps milliseconds; the project is the gif's comment."""
    path = Path(path)
    images = [Image.fromarray(f) for f in to_uint8(frames)]
    duration = max(1, round(1000.0 / float(fps)))
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=0,
        disposal=2,
        **({"comment": text} if (text := _project_text(project)) is not None else {}),
    )
    return path


def frame_name(index: int) -> str:
    return f"frame_{index:04d}.png"


def write_png_zip(frames: np.ndarray, path: str | Path, project: Any = None) -> Path:
    """A zip of frame_0000.png, frame_0001.png, ... in frame order (and the project file)."""
    path = Path(path)
    text = _project_text(project)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, frame in enumerate(to_uint8(frames)):
            zf.writestr(frame_name(i), png_bytes(frame, text))
        if text is not None:
            zf.writestr(PROJECT_IN_ZIP, json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n")
    return path


def output_stem(first_prompt: str, width: int, height: int, seed: int, project: Any = None) -> str:
    """A file name that tells renders apart: the prompt's first words, size, seed, and a short
    hash of the whole project (so any other setting changes the name too)."""
    words = re.findall(r"[a-z0-9]+", (first_prompt or "").lower())[:6]
    slug = "-".join(words)[:40].strip("-") or "direct2v"
    text = _project_text(project) or ""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{int(width)}x{int(height)}-seed{int(seed)}" + (f"-{digest}" if text else "")


def export_all(
    frames: np.ndarray, out_dir: str | Path, fps: float = 4, stem: str = "direct2v", project: Any = None
) -> dict[str, Path]:
    """Write `<stem>.mp4`, `<stem>.gif` and `<stem>_frames.zip` into out_dir; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = to_uint8(frames)
    text = _project_text(project)
    return {
        "mp4": write_mp4(data, out_dir / f"{stem}.mp4", fps, text),
        "gif": write_gif(data, out_dir / f"{stem}.gif", fps, text),
        "zip": write_png_zip(data, out_dir / f"{stem}_frames.zip", text),
    }


def write_video(frames: np.ndarray, path: str | Path, fps: float = 4, project: Any = None) -> Path:
    """Write by extension: .mp4, .gif, or .zip (PNG frames)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mp4":
        return write_mp4(frames, path, fps, project)
    if suffix == ".gif":
        return write_gif(frames, path, fps, project)
    if suffix == ".zip":
        return write_png_zip(frames, path, project)
    raise ValueError(f"Unknown output type {suffix or '(none)'!r}; use .mp4, .gif or .zip.")


# ----------------------------------------------------------------------------- reading back
MEDIA_SUFFIXES = (".png", ".mp4", ".gif", ".zip")


def read_project_json(path: str | Path) -> str:
    """The project JSON embedded in a PNG, mp4, gif or zip written here.

    Reads no more than MAX_PROJECT_BYTES of project and decodes no pixels: a PNG's text chunk
    is found by walking its chunks, a zip member is read through a capped stream (its
    declared size may lie), so a tiny file that inflates to gigabytes is refused early.
    Raises ValueError with a readable message when the file holds none (e.g. a PNG saved
    by another program, or a video re-encoded by a site that drops tags) or too much."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".png":
            with open(path, "rb") as fh:
                text = png_text(fh, PROJECT_KEY)
        elif suffix == ".gif":
            with Image.open(path) as im:  # the header and the comment before the first image
                raw = im.info.get("comment")
                text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        elif suffix == ".zip":
            text = _zip_project(path)
        elif suffix == ".mp4":
            text = _mp4_comment(path)
        else:
            raise ValueError(f"{path.name}: not a PNG, mp4, gif or zip.")
    except Image.DecompressionBombError:
        raise ValueError(f"{path.name} is a picture too large to open (a decompression bomb?).") from None
    except (OSError, zipfile.BadZipFile, SyntaxError, zlib.error, UnicodeDecodeError) as e:
        raise ValueError(f"Cannot read {path.name}: {without_server_details(str(e))}") from None
    if text is not None and len(text) > MAX_PROJECT_BYTES:
        raise ProjectTooLarge()
    if not text:
        raise ValueError(
            f"{path.name} holds no DirecT2V project (only files this app wrote do, and only "
            "while no other program has re-saved them)."
        )
    return text


class ProjectTooLarge(ValueError):
    def __init__(self) -> None:
        super().__init__(f"The file's project is larger than {MAX_PROJECT_BYTES // 2**20} MB; a DirecT2V project is "
                         "far smaller, so this file was not read further.")


def read_capped(fh: Any, cap: int = MAX_PROJECT_BYTES) -> bytes:
    """At most `cap` bytes from a stream; ProjectTooLarge when there are more."""
    data = fh.read(cap + 1)
    if len(data) > cap:
        raise ProjectTooLarge()
    return data


def _zip_project(path: Path) -> str | None:
    """The zip's project file, or frame 0's PNG text, each read through a capped stream."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if PROJECT_IN_ZIP in names:
            with open_zip_member(zf, PROJECT_IN_ZIP) as fh:
                return read_capped(fh).decode("utf-8")
        if frame_name(0) in names:
            with open_zip_member(zf, frame_name(0)) as fh:
                return png_text(fh, PROJECT_KEY)
    return None


def open_zip_member(zf: zipfile.ZipFile, name: str) -> Any:
    """A stream of a stored or deflated member. zipfile inflates bzip2 and LZMA members a
    whole block at a time whatever size is asked for (a few hundred bytes can become
    hundreds of megabytes in one read), so those are refused: this app writes neither."""
    if zf.getinfo(name).compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{name} in the zip is compressed with a method this app does not read (only stored or deflated).")
    return zf.open(name)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_text(fh: Any, key: str, cap: int = MAX_PROJECT_BYTES) -> str | None:
    """The text chunk (tEXt, zTXt or iTXt) named `key` of the PNG stream `fh`, walking the
    chunks without decoding any pixels; compressed text is inflated to at most `cap` bytes."""
    if fh.read(8) != _PNG_SIGNATURE:
        raise OSError("not a PNG file")
    while True:
        head = fh.read(8)
        if len(head) < 8:
            raise OSError("the PNG file is cut off")
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return None
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            _skip(fh, length + 4)  # the data and its CRC
            continue
        if length > 2 * cap:  # no text chunk of this app's comes near
            raise ProjectTooLarge()
        data = fh.read(length)
        if len(data) < length:
            raise OSError("the PNG file is cut off")
        fh.read(4)
        text = _chunk_text(kind, data, key, cap)
        if text is not None:
            return text


def _skip(fh: Any, n: int) -> None:
    while n > 0:
        got = len(fh.read(min(n, 1 << 16)))
        if not got:
            raise OSError("the PNG file is cut off")
        n -= got


def _chunk_text(kind: bytes, data: bytes, key: str, cap: int) -> str | None:
    """The text of one tEXt/zTXt/iTXt chunk when its keyword is `key` (PNG spec 11.3.4)."""
    keyword, _, rest = data.partition(b"\0")
    if keyword.decode("latin-1") != key:
        return None
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:], cap).decode("latin-1")
    compressed, rest = rest[0], rest[2:]  # flag, method
    _language, _, rest = rest.partition(b"\0")
    _translated, _, rest = rest.partition(b"\0")
    return (_inflate(rest, cap) if compressed else rest).decode("utf-8")


def _inflate(data: bytes, cap: int) -> bytes:
    """zlib data inflated to at most `cap` bytes; ProjectTooLarge beyond."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, cap + 1)
    if len(out) > cap:
        raise ProjectTooLarge()
    return out


def _mp4_comment(path: Path) -> str | None:
    """The `comment` tag, through the ffmpeg binary that wrote it (ffmetadata output)."""
    import imageio_ffmpeg

    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        timeout=60,
    )
    if out.returncode != 0:
        lines = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OSError(without_server_details(lines[-1]) if lines else "ffmpeg could not read it")
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("comment="):
            # ffmetadata escapes '=', ';', '#', '\\' and newlines with a backslash.
            return re.sub(r"\\(.)", r"\1", line[len("comment="):])
    return None
