"""Start from a picture: the user's image takes frame 1's place (issue 17).

In the schedule of method.md section 2 everything flows from frame 1's latent at T[-t1-1]
(where frame 1 re-enters the joint phase) and at T[-t0-1] (what frames 2..N are copied
from). With a start image, frame 1's single-frame phase is replaced by one of two ways of
reaching those latents from the image's VAE latent z0:

* ``noise``: the scheduler's forward process, x_t = sqrt(abar_t) z0 + sqrt(1 - abar_t) eps,
  one eps for the whole render. Cheap; the noisy latent is off the sampler's trajectory, so a
  frame that is left free from it drifts from the image.
* ``invert``: deterministic DDIM inversion of z0 along the render's own timesteps with the
  frame-1 prompt and no guidance. Sampling back down with DDIM (eta 0) reconstructs z0, so
  a free frame 1 stays close to the picture. Costs one UNet call per timestep up to T[-t1-1].

`image_strength` s in [0, 1] decides how far frame 1 may drift: during the first (1 - s) of
the joint steps frame 1 is held on the image's trajectory (after each step its latent is
replaced by the image's latent at the next timestep, the way inpainting holds its known
region), and only the last s of the steps may change it. s = 0 keeps frame 1 exactly the
picture (its output is the VAE round trip of the image); s = 1 only starts from it. The
other frames attend to frame 1 through value mapping all the while, which is what carries
the picture's content into them.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..errors import without_server_details
from ..settings import START_IMAGE_MODES, SettingsError  # noqa: F401 (the modes: one constant, in the schema)

MAX_IMAGE_SIDE = 16_384
# 32 MP: a 6000x4000 camera picture fits, and decoding the largest one takes about 100 MB.
MAX_IMAGE_PIXELS = 32 * 1024 * 1024
# PIL's own guard (a warning above this, DecompressionBombError above twice this) for every
# image the process opens, Gradio's included; our own check refuses above MAX_IMAGE_PIXELS
# from the header, before any decoding, with a message of its own.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Modes that convert to RGB without guessing a value range.
_CONVERTIBLE = {"RGB", "RGBA", "RGBX", "L", "LA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1", "La", "RGBa"}


class StartImageError(SettingsError):
    """The start image cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Crop:
    """Where the render's frame lies in the source image, in source pixels (left, top, right, bottom)."""

    box: tuple[int, int, int, int]
    source_size: tuple[int, int]  # (width, height) of the image as given

    def describe(self) -> str:
        l, t, r, b = self.box
        w, h = self.source_size
        if (l, t, r, b) == (0, 0, w, h):
            return f"the whole {w}x{h} image is used"
        return f"the {r - l}x{b - t} region at ({l}, {t}) of the {w}x{h} image is used"


def load_image(source: Any) -> Image.Image:
    """A PIL RGB image from a path, PIL image, numpy array (H, W[, C]) or tensor ([1,] C, H, W in [0, 1]).

    Raises StartImageError with a message a person can act on (unreadable file, zero size,
    huge image, a pixel format with no RGB meaning).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise StartImageError(f"Start image {str(path)!r} does not exist.")
        try:
            with Image.open(path) as im:
                _check_size(im.size)
                im.load()
                source = im.copy()
        except StartImageError:
            raise
        except Image.DecompressionBombError:  # before OSError/ValueError: it is neither, but be sure
            raise StartImageError(_too_large("The start image is too large to decode safely (a decompression bomb?):")) from None
        except (OSError, ValueError, SyntaxError) as e:  # PIL raises SyntaxError for some broken files
            raise StartImageError(f"Cannot read the start image {path.name}: {without_server_details(str(e))}.") from None
    if isinstance(source, torch.Tensor):
        source = _tensor_to_array(source)
    if isinstance(source, np.ndarray):
        source = _array_to_image(source)
    if not isinstance(source, Image.Image):
        raise StartImageError(
            f"The start image must be a file path, a PIL image, a numpy array or a tensor (got {type(source).__name__})."
        )
    _check_size(source.size)
    if source.mode not in _CONVERTIBLE:
        raise StartImageError(
            f"The start image's pixel format {source.mode!r} has no colour meaning (e.g. 16-bit or float data); "
            "save it as an 8-bit RGB or greyscale PNG or JPEG."
        )
    if source.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (source.mode == "P" and "transparency" in source.info):
        # Transparent pixels become white, as image viewers show them, not black.
        rgba = source.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return source.convert("RGB")


def open_picture(data: bytes) -> Image.Image:
    """A picture opened lazily from bytes: only its header is read, so `load_image` refuses
    one over the limits before anything is decoded."""
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise StartImageError(_too_large("The start image is too large to decode safely (a decompression bomb?):")) from None
    except (OSError, ValueError, SyntaxError):
        raise StartImageError("The start image is not a readable picture (PNG, JPEG, WebP…).") from None


def _check_size(size: tuple[int, int]) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise StartImageError(f"The start image is empty ({w}x{h} pixels).")
    if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
        raise StartImageError(_too_large(f"The start image is {w}x{h} pixels;"))


def _too_large(what: str) -> str:
    """`what` ("The start image is 12000x12000 pixels;") and the limit, read from the header:
    nothing of such a picture is decoded."""
    return (f"{what} the limit is {MAX_IMAGE_SIDE} per side and {MAX_IMAGE_PIXELS // (1024 * 1024)} megapixels, "
            "and larger pictures are not decoded at all. Scale it down first.")


def _tensor_to_array(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise StartImageError(f"Give one start image, not a batch of {t.shape[0]}.")
        t = t[0]
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise StartImageError(f"A start-image tensor must be (C, H, W) with 1, 3 or 4 channels (got {tuple(t.shape)}).")
    if not t.is_floating_point():
        return t.permute(1, 2, 0).numpy()
    t = t.float()
    if t.numel() and (t.min() < 0 or t.max() > 1):
        raise StartImageError("A float start-image tensor must hold values in [0, 1].")
    return t.permute(1, 2, 0).numpy()


def _array_to_image(a: np.ndarray) -> Image.Image:
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise StartImageError(f"A start-image array must be (H, W), (H, W, 3) or (H, W, 4) (got {a.shape}).")
    _check_size((a.shape[1], a.shape[0]))
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
            raise StartImageError("A float start-image array must hold finite values in [0, 1].")
        a = np.round(a * 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise StartImageError(f"A start-image array must be uint8 or float in [0, 1] (got {a.dtype}).")
    return Image.fromarray(a)


def fit_to_frame(image: Image.Image, width: int, height: int) -> tuple[Image.Image, Crop]:
    """Scale `image` to cover width x height, then cut the centre: no stretching, no borders."""
    w, h = image.size
    scale = max(width / w, height / h)
    cw, ch = min(w, round(width / scale)), min(h, round(height / scale))
    left, top = (w - cw) // 2, (h - ch) // 2
    box = (left, top, left + cw, top + ch)
    fitted = image.resize((width, height), Image.LANCZOS, box=box)
    return fitted, Crop(box=box, source_size=(w, h))


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """(1, 3, H, W) in [-1, 1], the VAE's input range."""
    a = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1)[None] * 2.0 - 1.0


@torch.no_grad()
def encode_image(vae, image: Image.Image, device, dtype) -> torch.Tensor:
    """The image's latent z0 (1, C, h, w), scaled like the UNet's latents: the posterior's mode, no sampling."""
    x = image_to_tensor(image).to(device=device, dtype=vae.dtype)
    z = vae.encode(x).latent_dist.mode()
    return (z * vae.config.scaling_factor).to(dtype)


def _alpha_bar(scheduler, t: int | None) -> torch.Tensor:
    """abar at timestep t; t=None is the clean end of the schedule (the DDIM final alpha)."""
    if t is None or t < 0:
        return getattr(scheduler, "final_alpha_cumprod", torch.tensor(1.0))
    return scheduler.alphas_cumprod[int(t)]


@torch.no_grad()
def ddim_invert(unet, scheduler, z0: torch.Tensor, unet_kwargs: dict, timesteps: list[int], on_step=None) -> dict[int, torch.Tensor]:
    """Deterministic DDIM inversion of z0 up `timesteps` (ascending), the UNet conditioned by
    `unet_kwargs` alone (the frame-1 prompt, no guidance).

    Each step mirrors the DDIM sampling step that comes down to the current level: the
    noise is predicted at the current latent with the higher timestep's label (the usual
    approximation, as in null-text inversion), then the latent is moved up to that
    timestep. Returns {timestep: latent}.
    """
    out: dict[int, torch.Tensor] = {}
    x = z0
    prev: int | None = None
    for i, t in enumerate(timesteps):
        eps = unet(scheduler.scale_model_input(x, t), t, **unet_kwargs, return_dict=False)[0]
        a_from, a_to = _alpha_bar(scheduler, prev), _alpha_bar(scheduler, t)
        x0 = (x - (1 - a_from).sqrt() * eps) / a_from.sqrt()
        x = a_to.sqrt() * x0 + (1 - a_to).sqrt() * eps
        out[int(t)] = x
        prev = int(t)
        if on_step is not None:
            x = on_step(i, t, x)
            out[int(t)] = x
    return out


@dataclass
class StartFrame:
    """Frame 1's latents along the schedule, taken from the user's image."""

    z0: torch.Tensor  # (1, C, h, w)
    mode: str
    strength: float
    crop: Crop
    noise: torch.Tensor | None = None  # "noise": the one eps of the forward process
    trajectory: dict[int, torch.Tensor] = field(default_factory=dict)  # "invert": timestep -> latent
    scheduler: Any = None

    def latent_at(self, t: int | None) -> torch.Tensor:
        """Frame 1's latent at timestep t (None: the end of the schedule, the image itself)."""
        if t is None:
            return self.z0
        t = int(t)
        if self.mode == "invert":
            if t not in self.trajectory:
                raise KeyError(f"timestep {t} is not on the inverted trajectory")
            return self.trajectory[t]
        a = _alpha_bar(self.scheduler, t).to(self.z0.dtype)
        return a.sqrt() * self.z0 + (1 - a).sqrt() * self.noise

    def held_steps(self, num_joint_steps: int) -> int:
        """How many joint steps keep frame 1 on the image's trajectory: the first (1 - s) of them."""
        return int(math.floor((1.0 - self.strength) * num_joint_steps + 1e-9))


def prepare_start_frame(
    pipe,
    image: Any,
    *,
    strength: float,
    mode: str,
    width: int,
    height: int,
    timesteps: torch.Tensor,
    t0: int,
    t1: int,
    unet_kwargs: dict,
    generator,
    device,
    dtype,
    on_step=None,
) -> StartFrame:
    """Load, fit and encode `image`, and lay out frame 1's latents for the render's schedule."""
    from diffusers.utils.torch_utils import randn_tensor

    fitted, crop = fit_to_frame(load_image(image), width, height)
    z0 = encode_image(pipe.vae, fitted, device, dtype)
    start = StartFrame(z0=z0, mode=mode, strength=float(strength), crop=crop, scheduler=pipe.scheduler)
    if mode == "noise":
        start.noise = randn_tensor(z0.shape, generator=generator, device=device, dtype=dtype)
    else:
        # Up the schedule from its clean end to T[-t1-1]: every timestep the joint phase visits.
        up = [int(t) for t in reversed(timesteps[-t1 - 1 :].tolist())]
        up = list(dict.fromkeys(up))  # PNDM repeats a timestep; inversion visits it once
        start.trajectory = ddim_invert(pipe.unet, pipe.scheduler, z0, unet_kwargs, up, on_step=on_step)
    return start
