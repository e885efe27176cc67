"""Draft renders: the model family's few-step LoRA with LCM sampling (issue 25).

A latent-consistency LoRA (LCM-LoRA; Luo et al. 2023) lets the model it was distilled for
sample in 4-8 unguided steps instead of 50 guided ones. A draft render loads it as a second
PEFT adapter ("draft") beside the user's own LoRA and renders with `DRAFT_PRESET`
(settings.py: LCM, 4 steps, guidance 1, t0/t1 scaled to the few steps, cache_interval 2);
"Render final" renders the same settings with the adapter switched off, so one loaded
pipeline serves both and nothing is loaded twice.

The LoRA is named by `RenderSettings.draft_lora`: a file or a folder (offline), or a Hub id;
empty means the family's LCM-LoRA on the Hub (`DRAFT_LORAS`). One that cannot be had offline
gets a message that says how to fetch it once or where to point instead.
"""

from __future__ import annotations

from .. import hub
from .errors import ModelLoadError
from .family import SD, SDXL

DRAFT_ADAPTER = "draft"
# The few-step LoRA of each model family (Luo et al. 2023, "LCM-LoRA"), on the Hub.
DRAFT_LORAS = {SD: "latent-consistency/lcm-lora-sdv1-5", SDXL: "latent-consistency/lcm-lora-sdxl"}


class DraftLoRAMissing(ModelLoadError):
    """The draft's few-step LoRA could not be loaded (offline and not cached, no such file)."""


def pipeline_family(pipe) -> str:
    return SDXL if getattr(pipe, "text_encoder_2", None) is not None else SD


def draft_lora_name(pipe, name: str = "") -> str:
    """The LoRA a draft of `pipe` loads: `name`, or the family's LCM-LoRA when it is empty."""
    return (name or "").strip() or DRAFT_LORAS[pipeline_family(pipe)]


def _load_draft_lora(pipe, name: str, token, listed) -> None:
    from .loading import _adapters, load_lora_adapter

    if DRAFT_ADAPTER in _adapters(pipe):
        pipe.delete_adapters(DRAFT_ADAPTER)  # another draft LoRA than the one loaded
    pipe.draft_lora = None
    try:
        load_lora_adapter(pipe, name, DRAFT_ADAPTER, token)
    except ModelLoadError as e:
        raise DraftLoRAMissing(
            f"Draft needs the few-step LoRA {name!r}, which could not be loaded ({e}). Fetch it once while online "
            f"(huggingface-cli download {DRAFT_LORAS[pipeline_family(pipe)]}), or name a local LoRA file or folder as "
            "the draft LoRA (--draft-lora), or render final."
        ) from None
    pipe.draft_lora = name


def use_draft(pipe, on: bool, lora: str = "", *, token=None, listed=None) -> None:
    """Switch the draft adapter on (loading `lora` the first time) or off, keeping the user's own
    LoRA ("lora" adapter) at its strength either way. On a public server `listed` holds the
    owner's LoRAs: a typed `lora` must be one of them (hub.is_listed)."""
    from .loading import LORA_ADAPTER, _adapters

    if on and not hub.is_listed(lora, listed):  # a typed name; the family's own LCM-LoRA is always allowed
        raise ModelLoadError(hub.NOT_LISTED.format(what="LoRAs"))
    name = draft_lora_name(pipe, lora) if on else None
    if on and getattr(pipe, "draft_lora", None) != name:
        _load_draft_lora(pipe, name, token, listed)
    loaded = _adapters(pipe)
    if DRAFT_ADAPTER not in loaded:
        return  # never drafted: nothing to switch off
    names, weights = [], []
    if LORA_ADAPTER in loaded:
        names.append(LORA_ADAPTER)
        weights.append(float(getattr(pipe, "lora_strength", 1.0)))
    if on:
        names.append(DRAFT_ADAPTER)
        weights.append(1.0)
    if names:
        pipe.enable_lora()
        pipe.set_adapters(names, adapter_weights=weights)
    else:
        pipe.disable_lora()
