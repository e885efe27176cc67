"""Export rendered frames: mp4 (H.264, yuv420p), animated gif, and a zip of PNG frames.

Frames come from the renderer as (F, H, W, 3) float in [0, 1]; uint8 arrays are accepted
as they are. Nothing here needs torch or Gradio.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image


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


def write_mp4(frames: np.ndarray, path: str | Path, fps: float = 4) -> Path:
    """H.264 mp4 in yuv420p with faststart, which every browser plays."""
    import imageio.v2 as imageio

    path = Path(path)
    data = _even(to_uint8(frames))
    writer = imageio.get_writer(
        path,
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
    return path


def write_gif(frames: np.ndarray, path: str | Path, fps: float = 4) -> Path:
    """Looping animated gif; each frame lasts 1000/fps milliseconds."""
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
    )
    return path


def frame_name(index: int) -> str:
    return f"frame_{index:04d}.png"


def write_png_zip(frames: np.ndarray, path: str | Path) -> Path:
    """A zip of frame_0000.png, frame_0001.png, ... in frame order."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, frame in enumerate(to_uint8(frames)):
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="PNG")
            zf.writestr(frame_name(i), buf.getvalue())
    return path


def export_all(frames: np.ndarray, out_dir: str | Path, fps: float = 4, stem: str = "direct2v") -> dict[str, Path]:
    """Write `<stem>.mp4`, `<stem>.gif` and `<stem>_frames.zip` into out_dir; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = to_uint8(frames)
    return {
        "mp4": write_mp4(data, out_dir / f"{stem}.mp4", fps),
        "gif": write_gif(data, out_dir / f"{stem}.gif", fps),
        "zip": write_png_zip(data, out_dir / f"{stem}_frames.zip"),
    }


def write_video(frames: np.ndarray, path: str | Path, fps: float = 4) -> Path:
    """Write by extension: .mp4, .gif, or .zip (PNG frames)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mp4":
        return write_mp4(frames, path, fps)
    if suffix == ".gif":
        return write_gif(frames, path, fps)
    if suffix == ".zip":
        return write_png_zip(frames, path)
    raise ValueError(f"Unknown output type {suffix or '(none)'!r}; use .mp4, .gif or .zip.")
