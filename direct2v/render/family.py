"""Which DirecT2V pipeline a model needs, read from the model's own metadata without its weights.

A model is SDXL when it has SDXL's second text encoder (`text_encoder_2` in model_index.json,
`conditioner.embedders.1` in a single-file checkpoint) or its UNet takes SDXL's text-time
added embeddings (`addition_embed_type: text_time`, `label_emb` in a checkpoint). Everything
else goes to the SD 1.x/2.x pipeline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import hub

SD = "sd"
SDXL = "sdxl"
# Key prefixes of an original (non-diffusers) SDXL checkpoint: the second text encoder and the
# UNet's added (pooled text + size) embedding.
_SDXL_KEYS = ("conditioner.embedders.1.", "model.diffusion_model.label_emb.")


def family_of_index(index: dict, unet_config: dict | None = None) -> str:
    """From a diffusers model_index.json (and optionally unet/config.json)."""
    entry = index.get("text_encoder_2")
    if isinstance(entry, (list, tuple)) and entry and entry[0] is not None:
        return SDXL
    if unet_config and unet_config.get("addition_embed_type") == "text_time":
        return SDXL
    return SD


def family_of_keys(keys) -> str:
    """From the tensor names of a single-file checkpoint."""
    return SDXL if any(k.startswith(_SDXL_KEYS) for k in keys) else SD


def _checkpoint_keys(path: Path) -> list[str]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            return list(f.keys())
    import torch

    state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    return list(state.get("state_dict", state))


def model_family(model: str, local_files_only: bool = False, token: str | bool | None = None) -> str:
    """SD or SDXL for a local folder, a single-file checkpoint or a Hub id (reads model_index.json
    only; from the local cache alone with `local_files_only`; `token` as for load_pipeline)."""
    path = Path(os.path.expanduser(model))
    if path.is_file():
        return family_of_keys(_checkpoint_keys(path))
    if path.is_dir():
        index = json.loads((path / "model_index.json").read_text())
        unet = path / "unet" / "config.json"
        return family_of_index(index, json.loads(unet.read_text()) if unet.is_file() else None)
    from diffusers import DiffusionPipeline

    return family_of_index(DiffusionPipeline.load_config(model, local_files_only=local_files_only,
                                                         **hub.token_kwargs(token)))


def pipeline_class(model: str):
    """DirecT2VSDXLPipeline or DirecT2VPipeline for `model`."""
    if model_family(model) == SDXL:
        from .sdxl import DirecT2VSDXLPipeline

        return DirecT2VSDXLPipeline
    from .pipeline import DirecT2VPipeline

    return DirecT2VPipeline
