"""Identity across frames: IP-Adapter on the DirecT2V pipelines, for the whole video or per frame.

IP-Adapter (Ye et al., 2023) gives every cross-attention layer a second key/value projection
that reads a few tokens made from a CLIP image embedding of a reference picture; its output is
added to the text attention's, times a scale:

    Attention(Q, K_text, V_text) + scale * Attention(Q, K_ip(c_img), V_ip(c_img))

diffusers installs it (`IPAdapterMixin.load_ip_adapter` puts `IPAdapterAttnProcessor2_0` on
every attn2 layer and the image projection on `unet.encoder_hid_proj`); this module only builds
the image conditioning in the renderer's batch layout, [negative half of the frames, then the
frames], one row per frame, the way `unet_conditioning` lays out the text:

* one reference for the video (`ip_adapter_image`, diffusers' argument): every row the same;
* one per frame or per span (`ip_adapter_frame_images`): each row its own picture, so a
  character can enter at frame 5 or change costume at frame 9. A frame without a picture gets
  a mask of zeros (diffusers' `ip_adapter_masks`, here constant per row), which removes the
  adapter's term from that row exactly; with no picture at all a loaded adapter changes nothing;
* `ip_adapter_image_embeds` (diffusers' layout: per adapter, negative rows first under
  guidance), with 1 row for the video or one per frame.

The negative rows are what diffusers' pipelines use: zeros for IP-Adapter's linear projection,
the encoder's features of a black picture for the "plus" adapters (`encode_image`).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..settings import SettingsError
from .errors import ModelLoadError

TINY_ADAPTER = "tiny"


class IPAdapterInputError(SettingsError):
    """A reference picture or embedding cannot be used; the message says why."""


# ---------------------------------------------------------------------- which frame sees what
def frame_references(frame_images: Any, num_frames: int) -> list[Any]:
    """One entry per frame (a picture, a list with one per adapter, or None) from a list with one
    entry per frame, or a dict {first frame (0-based): picture or None}, each entry holding until
    the next key (frames before the first key have none)."""
    if isinstance(frame_images, dict):
        if not all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < num_frames for k in frame_images):
            raise IPAdapterInputError(
                f"ip_adapter_frame_images keys must be frame numbers from 0 to {num_frames - 1}; got {sorted(frame_images, key=str)}."
            )
        refs, current = [], None
        for f in range(num_frames):
            current = frame_images.get(f, current)
            refs.append(current)
        return refs
    if not isinstance(frame_images, (list, tuple)):
        raise IPAdapterInputError("ip_adapter_frame_images must be a list with one entry per frame or a dict {frame: picture}.")
    if len(frame_images) != num_frames:
        raise IPAdapterInputError(
            f"ip_adapter_frame_images has {len(frame_images)} entries but the video has {num_frames} frames; they must match."
        )
    return list(frame_images)


def adapter_loaded(unet) -> bool:
    return getattr(unet.config, "encoder_hid_dim_type", None) == "ip_image_proj" and unet.encoder_hid_proj is not None


def _projection_layers(unet) -> list:
    return list(unet.encoder_hid_proj.image_projection_layers)


# ---------------------------------------------------------------------- the conditioning
@dataclass
class ImagePrompt:
    """The image conditioning of a whole video, per loaded adapter one row per frame.

    `embeds[a]` and `negative[a]` are (frames, images, ...) for adapter a; `present` (frames,)
    is 1 where a frame has a reference and 0 where it has none (None: every frame has one);
    `latent_size` (h, w) shapes the masks so that diffusers' mask resampling keeps every
    layer's token count.
    """

    embeds: list[torch.Tensor]
    negative: list[torch.Tensor]
    present: torch.Tensor | None = None
    latent_size: tuple[int, int] = (64, 64)

    def rows(self, frame_ids: list[int], cfg: bool) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        """(image_embeds, ip_adapter_masks or None) for `frame_ids`, negative rows first under guidance."""
        device = self.embeds[0].device
        index = torch.tensor(frame_ids, device=device)
        embeds = [torch.cat([n[index], e[index]]) if cfg else e[index] for e, n in zip(self.embeds, self.negative)]
        if self.present is None:
            return embeds, None
        on = self.present[index]
        on = torch.cat([on, on]) if cfg else on
        h, w = self.latent_size
        return embeds, [on[:, None, None, None].expand(-1, e.shape[1], h, w) for e in embeds]

    def to(self, dtype: torch.dtype) -> "ImagePrompt":
        return ImagePrompt([e.to(dtype) for e in self.embeds], [n.to(dtype) for n in self.negative], self.present, self.latent_size)


def add_image_conditioning(
    unet_kwargs: dict, prompt: ImagePrompt | None, frame_ids: list[int], cfg: bool, attention_kwargs: dict | None = None
) -> dict:
    """`unet_kwargs` with the image embeddings of `frame_ids` and the caller's `cross_attention_kwargs`
    (`attention_kwargs`, its masks one row per frame: `frame_attention_kwargs`) added. A frame's
    mask is the caller's times its presence mask (0 where the frame has no reference), laid out
    as the batch is: negative rows first under guidance."""
    attention = dict(attention_kwargs or {})
    masks = attention.pop("ip_adapter_masks", None)
    if masks is not None:
        masks = [None if m is None else _batch_rows(m, frame_ids, cfg) for m in masks]
    unet_kwargs = dict(unet_kwargs)
    if prompt is not None:
        embeds, present = prompt.rows(frame_ids, cfg)
        unet_kwargs["added_cond_kwargs"] = {**unet_kwargs.get("added_cond_kwargs", {}), "image_embeds": embeds}
        if present is not None:  # constant per row, so it scales the caller's mask at any size
            masks = present if masks is None else [p if m is None else m.to(p) * p[:, :1, :1, :1] for m, p in zip(masks, present)]
    if masks is not None:
        attention["ip_adapter_masks"] = masks
    if attention:
        unet_kwargs["cross_attention_kwargs"] = {**(unet_kwargs.get("cross_attention_kwargs") or {}), **attention}
    return unet_kwargs


def _batch_rows(mask: torch.Tensor, frame_ids: list[int], cfg: bool) -> torch.Tensor:
    rows = mask[torch.tensor(frame_ids, device=mask.device)]
    return torch.cat([rows, rows]) if cfg else rows


def frame_attention_kwargs(pipe, attention_kwargs: dict, num_frames: int) -> dict:
    """The caller's `cross_attention_kwargs` with `ip_adapter_masks` given one row per frame.

    diffusers' masks (`IPAdapterMaskProcessor.preprocess`) are a list with, per loaded adapter,
    None or a tensor (rows, images, height, width); a tensor (adapters, 1, height, width) is read
    as diffusers reads it. A mask of one row holds for every frame; one of `num_frames` rows gives
    frame j its own region (a subject that moves across the video)."""
    masks = attention_kwargs.get("ip_adapter_masks")
    if masks is None:
        return attention_kwargs
    if isinstance(masks, torch.Tensor):
        masks = list(masks.unsqueeze(1))
    adapters = len(_projection_layers(pipe.unet)) if adapter_loaded(pipe.unet) else None
    if not isinstance(masks, (list, tuple)) or (adapters is not None and len(masks) != adapters):
        raise IPAdapterInputError(f"ip_adapter_masks must be a list with one mask (or None) per loaded IP-Adapter ({adapters}).")
    rows = []
    for m in masks:
        if m is not None and (not isinstance(m, torch.Tensor) or m.ndim != 4 or m.shape[0] not in (1, num_frames)):
            shape = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
            raise IPAdapterInputError(
                f"Each of ip_adapter_masks must be None or a tensor (1 or {num_frames} rows, images, height, width); got {shape}."
            )
        rows.append(None if m is None else m.expand(num_frames, *m.shape[1:]))
    return {**attention_kwargs, "ip_adapter_masks": rows}


def prepare_image_prompt(
    pipe,
    num_frames: int,
    latent_size: tuple[int, int],
    device,
    dtype: torch.dtype,
    cfg: bool,
    image: Any = None,
    image_embeds: list[torch.Tensor] | None = None,
    frame_images: Any = None,
) -> ImagePrompt | None:
    """The video's image conditioning from at most one of the three ways of giving references;
    None when no adapter is loaded (and nothing was given)."""
    given = [name for name, v in (("ip_adapter_image", image), ("ip_adapter_image_embeds", image_embeds),
                                  ("ip_adapter_frame_images", frame_images)) if v is not None]
    if not adapter_loaded(pipe.unet):
        if given:
            raise IPAdapterInputError(f"{given[0]} needs an IP-Adapter: call load_ip_adapter(...) first (--ip-adapter on the command line).")
        return None
    if len(given) > 1:
        raise IPAdapterInputError(f"Give one of {', '.join(given)}, not several.")
    if image_embeds is not None:
        embeds, negative = _from_embeds(image_embeds, num_frames, len(_projection_layers(pipe.unet)), cfg)
        present = None
    else:
        refs = frame_references(frame_images, num_frames) if frame_images is not None else [image] * num_frames
        embeds, negative, present = _encode_references(pipe, refs, device)
    return ImagePrompt(
        [e.to(device=device, dtype=dtype) for e in embeds], [n.to(device=device, dtype=dtype) for n in negative],
        None if present is None else present.to(device=device, dtype=dtype), latent_size,
    )


def _from_embeds(image_embeds: list[torch.Tensor], num_frames: int, adapters: int, cfg: bool):
    """diffusers' `ip_adapter_image_embeds` (per adapter; under guidance the negative rows first)
    with one row for the video or one per frame, as (frames, images, ...) each."""
    if not isinstance(image_embeds, (list, tuple)) or len(image_embeds) != adapters:
        raise IPAdapterInputError(f"ip_adapter_image_embeds must be a list with one tensor per loaded IP-Adapter ({adapters}).")
    embeds, negative = [], []
    for e in image_embeds:
        if not isinstance(e, torch.Tensor) or e.ndim not in (3, 4):
            raise IPAdapterInputError("Each of ip_adapter_image_embeds must be a 3D or 4D tensor (rows, images, [tokens,] dim).")
        neg, pos = e.chunk(2) if cfg else (torch.zeros_like(e), e)
        if pos.shape[0] not in (1, num_frames) or (cfg and e.shape[0] % 2):
            halves = "2 or 2 x frames (negative rows first)" if cfg else "1 or one per frame"
            raise IPAdapterInputError(f"ip_adapter_image_embeds needs {halves} rows for {num_frames} frames; got {e.shape[0]}.")
        embeds.append(pos.expand(num_frames, *pos.shape[1:]))
        negative.append(neg.expand(num_frames, *neg.shape[1:]))
    return embeds, negative


def _per_adapter(entry: Any, adapters: int, frame: int) -> list[Any]:
    if isinstance(entry, (list, tuple)) and adapters > 1:
        if len(entry) != adapters:
            raise IPAdapterInputError(f"Frame {frame + 1}: {len(entry)} pictures for {adapters} IP-Adapters; give one per adapter.")
        return list(entry)
    return [entry] * adapters


def _encode_references(pipe, refs: list[Any], device):
    """Encode each distinct picture once per adapter with diffusers' `encode_image`; frames
    without a picture get the negative rows and a mask of zeros."""
    from diffusers.models.embeddings import ImageProjection

    layers = _projection_layers(pipe.unet)
    per_frame = [None if r is None else _per_adapter(r, len(layers), f) for f, r in enumerate(refs)]
    if any(r is not None for r in per_frame) and getattr(pipe, "image_encoder", None) is None:
        raise IPAdapterInputError(
            "This IP-Adapter was loaded without its image encoder (image_encoder_folder=None): pass "
            "ip_adapter_image_embeds, or load the adapter with its image encoder to use pictures."
        )
    embeds, negative = [], []
    for a, layer in enumerate(layers):
        hidden = not isinstance(layer, ImageProjection)
        cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        rows = []
        for f, r in enumerate(per_frame):
            if r is None:
                rows.append(None)
                continue
            picture = r[a]
            if id(picture) not in cache:
                cache[id(picture)] = pipe.encode_image(_pictures(picture, f), device, 1, hidden)
            rows.append(cache[id(picture)])
        blank = _blank_rows(pipe, layer, hidden, device)
        embeds.append(torch.stack([(r or blank)[0] for r in rows]))
        negative.append(torch.stack([(r or blank)[1] for r in rows]))
    present = torch.tensor([r is not None for r in per_frame], dtype=torch.float32)
    return embeds, negative, (None if bool(present.all()) else present)


def _blank_rows(pipe, layer, hidden: bool, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The negative embedding, used for both halves of a frame without a picture (masked out)."""
    encoder = getattr(pipe, "image_encoder", None)
    if encoder is None:
        dim = layer.image_embeds.in_features if hasattr(layer, "image_embeds") else None
        if dim is None:
            raise IPAdapterInputError("Frames without a picture need the adapter's image encoder to shape their embedding.")
        z = torch.zeros(1, dim, device=device)
        return z, z
    size = encoder.config.image_size
    _, neg = pipe.encode_image(torch.zeros(1, 3, size, size, device=device), device, 1, hidden)
    return neg, neg


def _pictures(picture: Any, frame: int) -> Any:
    """A picture (path, PIL image, array, tensor) or a list of them, as the feature extractor takes them."""
    from .start_image import StartImageError, load_image

    items = picture if isinstance(picture, (list, tuple)) else [picture]
    try:
        out = [load_image(p) for p in items]
    except StartImageError as e:
        raise IPAdapterInputError(f"Reference picture for frame {frame + 1}: {str(e).replace('start image', 'picture')}") from None
    return out


def reference_kwargs(pipe, references: Any, scale: float) -> dict:
    """`render()`'s references as pipeline arguments: a picture for the video becomes
    `ip_adapter_image`, a list (one per frame) or dict (spans) `ip_adapter_frame_images`.
    A loaded adapter takes `scale` for every layer."""
    if adapter_loaded(pipe.unet):
        pipe.set_ip_adapter_scale(float(scale))
    if references is None:
        return {}
    if isinstance(references, (list, tuple, dict)):
        return {"ip_adapter_frame_images": references}
    return {"ip_adapter_image": references}


# ---------------------------------------------------------------------- records and hashes
def picture_sha256(picture: Any) -> str:
    """SHA-256 of a reference picture: of the file's bytes for a path, of its PNG otherwise."""
    if isinstance(picture, (str, Path)):
        return hashlib.sha256(Path(picture).read_bytes()).hexdigest()
    from .start_image import load_image

    buf = io.BytesIO()
    load_image(picture).save(buf, format="PNG")
    return hashlib.sha256(buf.getvalue()).hexdigest()


def record_pictures(records: list[dict], base: Path | None = None, remedy: str = "give --ip-image") -> dict[int, Any]:
    """{first frame: picture or None} from a project's `ip_images` records: each file checked to be
    the recorded one (settings.check_start_image_ref); a record that carries its PNG
    (`png_base64`, public servers) needs no file."""
    import base64

    from PIL import Image

    from ..settings import check_start_image_ref
    from .start_image import load_image

    pictures: dict[int, Any] = {}
    for r in records:
        if not r.get("path") and not r.get("png_base64"):
            pictures[r["frame"]] = None  # no picture from this frame on
        elif r.get("png_base64"):
            data = base64.b64decode(r["png_base64"], validate=True)
            if hashlib.sha256(data).hexdigest() != r["sha256"]:
                raise IPAdapterInputError(f"The project's reference picture for frame {r['frame'] + 1} does not match its hash.")
            pictures[r["frame"]] = load_image(Image.open(io.BytesIO(data)))
        else:
            pictures[r["frame"]] = load_image(check_start_image_ref(r, base=base, remedy=remedy))
    return pictures


def references_of(pictures: dict[int, Any]) -> Any:
    """What `render()` takes: the picture itself when one picture holds from frame 0, else the spans."""
    if not pictures:
        return None
    if list(pictures) == [0] and pictures[0] is not None:
        return pictures[0]
    return dict(sorted(pictures.items()))


# ---------------------------------------------------------------------- loading
@dataclass(frozen=True)
class AdapterSource:
    """Where `load_ip_adapter` finds an adapter: a repository or folder, the file's subfolder and
    name in it, and the image encoder's folder (relative to `subfolder` when it has no '/')."""

    repo: str
    subfolder: str
    weight_name: str
    image_encoder_folder: str | None = "image_encoder"


def parse_adapter_spec(spec: str, image_encoder: str | None = None) -> AdapterSource:
    """`--ip-adapter`: a local weights file (its image encoder in `image_encoder/` beside it), or a
    Hub path `org/repo/sub/folder/file.safetensors` (h94/IP-Adapter/models/ip-adapter_sd15.safetensors:
    the encoder in models/image_encoder). `image_encoder` overrides where the encoder is."""
    spec = (spec or "").strip()
    path = Path(os.path.expanduser(spec))
    if path.is_file():
        folder = image_encoder or ("image_encoder" if (path.parent / "image_encoder").is_dir() else None)
        return AdapterSource(str(path.parent), "", path.name, folder)
    if path.is_dir() or spec.startswith((".", "/", "~")):
        raise ModelLoadError(f"No IP-Adapter weights file at {spec}: give the .safetensors or .bin file itself.")
    parts = spec.split("/")
    if len(parts) < 3 or not parts[-1].endswith((".safetensors", ".bin")):
        raise ModelLoadError(
            f"{spec!r} is not an IP-Adapter file: give a local .safetensors/.bin file or a Hub path "
            "like h94/IP-Adapter/models/ip-adapter_sd15.safetensors."
        )
    return AdapterSource("/".join(parts[:2]), "/".join(parts[2:-1]), parts[-1], image_encoder or "image_encoder")


def ensure_ip_adapter(pipe, spec: str | None, image_encoder: str | None = None) -> None:
    """The pipeline carries adapter `spec` (None or "": none): loaded when another or none is on,
    unloaded when none is asked for; recorded as `pipe.ip_adapter_name`."""
    spec = (spec or "").strip() or None
    if getattr(pipe, "ip_adapter_name", None) == spec and (spec is None or adapter_loaded(pipe.unet)):
        return
    if adapter_loaded(pipe.unet):
        pipe.unload_ip_adapter()
    pipe.ip_adapter_name = None
    if spec is None:
        return
    if spec == TINY_ADAPTER:
        load_tiny_ip_adapter(pipe)
    else:
        _load_from(pipe, parse_adapter_spec(spec, image_encoder), spec)
    pipe.ip_adapter_name = spec


def _load_from(pipe, source: AdapterSource, spec: str) -> None:
    from .. import hub

    local = Path(source.repo).is_dir()
    cache_only = not local and hub.local_only(source.repo)
    kwargs = {"local_files_only": True} if cache_only else {}
    try:
        pipe.load_ip_adapter(source.repo, subfolder=source.subfolder, weight_name=source.weight_name,
                             image_encoder_folder=source.image_encoder_folder, **kwargs)
    except Exception as e:
        encoder = getattr(pipe, "image_encoder", None) is None and _mentions_encoder(e)
        what = f"its image encoder ({source.image_encoder_folder})" if encoder else "the adapter"
        if cache_only:
            reason = f"{what} is not on this machine and {hub.endpoint()[0]} cannot be reached"
        elif hub.offline_mode() and not local:
            reason = f"{what} is not in the local cache and the Hub is set offline (HF_HUB_OFFLINE=1)"
        else:
            reason = f"{what}: " + (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelLoadError(f"Could not load the IP-Adapter {spec!r}: {reason.rstrip('.')}.") from e


def _mentions_encoder(e: BaseException) -> bool:
    text = " ".join(str(x) for x in (e, e.__cause__, e.__context__) if x is not None).lower()
    return "image_encoder" in text or "clipvision" in text or "config.json" in text


# ---------------------------------------------------------------------- tiny, for tests and offline
def tiny_image_encoder(projection_dim: int, seed: int = 0):
    """A tiny random CLIP vision encoder with projection and its feature extractor (32x32 input)."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, projection_dim=projection_dim, num_hidden_layers=2,
        num_attention_heads=4, image_size=32, patch_size=4, num_channels=3,
    ))
    return encoder.eval(), CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def tiny_ip_adapter_state_dict(unet, image_embed_dim: int, seed: int = 0, tokens: int = 4) -> dict:
    """A random IP-Adapter state dict in the original release's layout for `unet`: "image_proj"
    (Linear to `tokens` tokens + LayerNorm) and "ip_adapter" with to_k_ip/to_v_ip for every
    cross-attention layer, numbered 1, 3, 5, ... in processor order (self-attention takes the
    even numbers), which is how `load_ip_adapter` reads it."""
    g = torch.Generator().manual_seed(seed)
    cross = unet.config.cross_attention_dim

    def weight(out_f: int, in_f: int) -> torch.Tensor:
        return torch.randn(out_f, in_f, generator=g) / in_f**0.5

    ip, key = {}, 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = unet.get_submodule(name.removesuffix(".processor")).to_k.out_features
        ip[f"{key}.to_k_ip.weight"] = weight(hidden, cross)
        ip[f"{key}.to_v_ip.weight"] = weight(hidden, cross)
        key += 2
    proj = {
        "proj.weight": weight(cross * tokens, image_embed_dim),
        "proj.bias": torch.zeros(cross * tokens),
        "norm.weight": torch.ones(cross),
        "norm.bias": torch.zeros(cross),
    }
    return {"image_proj": proj, "ip_adapter": ip}


def load_tiny_ip_adapter(pipe, seed: int = 0) -> None:
    """A tiny random adapter with a tiny image encoder on `pipe` (the "tiny" adapter of the CLI and page)."""
    if getattr(pipe, "image_encoder", None) is None:
        encoder, extractor = tiny_image_encoder(pipe.unet.config.cross_attention_dim, seed)
        pipe.register_modules(image_encoder=encoder.to(device=pipe.unet.device, dtype=pipe.unet.dtype),
                              feature_extractor=extractor)
    dim = pipe.image_encoder.config.projection_dim
    pipe.load_ip_adapter(tiny_ip_adapter_state_dict(pipe.unet, dim, seed), subfolder="", weight_name="",
                         image_encoder_folder=None)
