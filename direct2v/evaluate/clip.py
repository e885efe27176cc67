"""CLIP image and text encoders for the metrics (method.md section 6).

`load_clip("openai/clip-vit-large-patch14")` loads a Hugging Face CLIP checkpoint (hub id or
local folder) once per process and device; `load_clip("tiny")` builds a tiny randomly
initialised CLIP in-process, with a byte-level tokenizer that needs no files, so tests and
offline runs work without a download. Scores from the tiny model are meaningless numbers.

Image preprocessing is done here rather than by `CLIPImageProcessor` so that no torchvision is
needed: resize the shorter side to the model's input size (bicubic, antialiased), centre-crop,
normalise with CLIP's mean and std. That is the recipe of every OpenAI CLIP checkpoint.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from ..frames import CLIP_MAX_TOKENS as MAX_TOKENS  # CLIP's text context, start and end tokens included
from ..render.errors import ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_CLIP_MODEL = "openai/clip-vit-large-patch14"
TINY = "tiny"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class ClipLoadError(ModelLoadError):
    """A CLIP model could not be loaded (unknown id, no network, not a CLIP folder)."""


class Scorer(Protocol):
    """What the metrics need: unit-norm embeddings of images and of texts, in one space."""

    def encode_images(self, images: np.ndarray) -> np.ndarray: ...  # (F, D), rows of norm 1

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...  # (P, D), rows of norm 1


def as_float_frames(images: Any) -> np.ndarray:
    """(F, H, W, 3) float32 in [0, 1] from float [0, 1] or uint8 frames (one (H, W, 3) frame is fine)."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"Frames must have shape (F, H, W, 3); got {tuple(arr.shape)}.")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"Frames must be uint8 or float in [0, 1]; got dtype {arr.dtype}.")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError("Frames contain NaN or infinite values.")
    return np.clip(arr, 0.0, 1.0)


class ClipScorer:
    """A CLIP model with its tokenizer; encodes frames and prompts to unit-norm embeddings."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "", device: str = "cpu", batch_size: int = 16):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.batch_size = batch_size
        self.image_size = int(model.config.vision_config.image_size)
        self.max_tokens = min(MAX_TOKENS, int(model.config.text_config.max_position_embeddings))
        self._lock = threading.Lock()  # the page may score while another request loads

    def __repr__(self) -> str:
        return f"ClipScorer({self.name!r}, device={self.device!r})"

    # ----------------------------------------------------------------- images
    def preprocess(self, images: Any) -> "torch.Tensor":
        """(F, 3, S, S) normalised pixel values: shorter side to S, centre crop, CLIP mean/std."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(as_float_frames(images))).permute(0, 3, 1, 2)
        s = self.image_size
        h, w = x.shape[-2:]
        scale = s / min(h, w)
        nh, nw = max(s, round(h * scale)), max(s, round(w * scale))
        if (nh, nw) != (h, w):
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        top, left = (nh - s) // 2, (nw - s) // 2
        x = x[:, :, top : top + s, left : left + s]
        mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
        return (x - mean) / std

    def encode_images(self, images: Any) -> np.ndarray:
        import torch

        frames = as_float_frames(images)  # checked once; preprocessed per batch to bound memory
        dtype = next(self.model.parameters()).dtype
        out = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(frames), self.batch_size):
                batch = self.preprocess(frames[i : i + self.batch_size]).to(self.device, dtype)
                out.append(_features(self.model.get_image_features(pixel_values=batch)))
        return _normalise(torch.cat(out))

    # ----------------------------------------------------------------- texts
    def tokenize(self, texts: Sequence[str]) -> dict:
        """Token ids truncated to CLIP's 77-token context (what Stable Diffusion itself reads)."""
        return self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.model.config.projection_dim), np.float32)
        out = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                enc = self.tokenize(texts[i : i + self.batch_size])
                enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
                out.append(_features(self.model.get_text_features(**enc)))
        return _normalise(torch.cat(out))


def _features(out: Any) -> "torch.Tensor":
    # transformers 4 returns the projected tensor; 5 returns an output object whose
    # pooler_output holds the projection.
    return out if not hasattr(out, "pooler_output") else out.pooler_output


def _normalise(x: "torch.Tensor") -> np.ndarray:
    x = x.float()
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return x.cpu().numpy()


# --------------------------------------------------------------------- loading
_CACHE: dict[tuple[str, str], ClipScorer] = {}
_CACHE_LOCK = threading.Lock()


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_clip(model_id_or_path: str | None = None, device: str | None = None) -> ClipScorer:
    """The CLIP scorer for a hub id, a local folder, or "tiny"; loaded once per process and device.

    None means the default, `openai/clip-vit-large-patch14` (ViT-L/14, the text encoder family
    of Stable Diffusion 1.5). Raises ClipLoadError with a message a person can act on.
    """
    name = (model_id_or_path or DEFAULT_CLIP_MODEL).strip()
    dev = device or default_device()
    key = (name, dev)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = tiny_clip(dev) if name == TINY else _load_pretrained(name, dev)
        return _CACHE[key]


def _load_pretrained(name: str, device: str) -> ClipScorer:
    path = Path(os.path.expanduser(name))
    if path.exists() and not (path / "config.json").is_file():
        raise ClipLoadError(f"{name} is a folder but not a CLIP checkpoint (no config.json).")
    if not path.exists() and (name.startswith((".", "/", "~")) or name.count("/") > 1):
        raise ClipLoadError(f"No such CLIP model folder: {name}.")
    source = str(path) if path.exists() else name
    try:
        model, tokenizer = _from_pretrained(source, local_files_only=True)  # cached: no network round trip
    except Exception:
        from .. import hub

        try:
            if hub.local_only(name):  # not cached and no network: say so now, not after the Hub's retries
                raise OSError("it is not on this machine and the Hub cannot be reached")
            model, tokenizer = _from_pretrained(source, local_files_only=False)
        except Exception as e:  # hub errors, no network, corrupt files: one readable line
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ClipLoadError(
                f"Could not load CLIP model {name!r}: {reason[:300]}. Pass a Hugging Face hub id or a "
                f"local CLIP folder (check the network and HF_TOKEN), or 'tiny' to run offline."
            ) from None
    try:
        model = model.to(device)
    except (RuntimeError, AssertionError) as e:
        raise ClipLoadError(f"Cannot move the CLIP model to device {device!r}: {e}") from None
    return ClipScorer(model, tokenizer, name=name, device=device)


def _from_pretrained(source: str, local_files_only: bool) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, CLIPModel

    model = CLIPModel.from_pretrained(source, local_files_only=local_files_only)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
    return model, tokenizer


def tiny_tokenizer() -> Any:
    """A byte-level CLIP tokenizer built without files: every byte is a token, no merges."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        for tok in (ch, ch + "</w>"):
            vocab.setdefault(tok, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=MAX_TOKENS)


def tiny_clip(device: str = "cpu", seed: int = 0) -> ClipScorer:
    """A tiny randomly initialised CLIP (32-px images, 16-d embeddings); deterministic for a seed."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    tokenizer = tiny_tokenizer()
    common = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2)
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(tokenizer.get_vocab()),
            max_position_embeddings=MAX_TOKENS,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            **common,
        ),
        vision_config=dict(image_size=32, patch_size=8, **common),
        projection_dim=16,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(config)
    return ClipScorer(model.to(device), tokenizer, name=TINY, device=device)
