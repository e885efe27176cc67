"""DirecT2VSDXLPipeline: the same schedule, value mapping, DSF and long-video passes on
Stable Diffusion XL.

It is `DirecT2VPipeline` with SDXL's conditioning swapped in; nothing of the method is
repeated here. What differs (SDXL paper, section 2; diffusers' SDXL pipelines):

* two text encoders: a frame's token embeddings are the penultimate hidden states of both,
  concatenated along channels, and the second encoder's projected pooled output is the
  UNet's `text_embeds`; both are per frame, so each frame keeps its own prompt;
* micro-conditioning: `time_ids` = original size + crop top-left + target size, the same for
  every frame and both guidance halves;
* with no negative prompt the unconditional embeddings are zeros when the model asks for it
  (`force_zeros_for_empty_prompt`, set by SDXL base), as diffusers' SDXL pipelines do;
* an fp16 VAE that must be upcast (`force_upcast`) decodes in float32.

Which layers are mapped by default: SDXL's decoder has attention in `up_blocks.0` and
`up_blocks.1` only (`up_blocks.2` is convolutional). At 1024x1024 their token grids are
32x32 and 64x64, the same grids as SD 1.5's `up_blocks.2` and `up_blocks.3` at 512x512, so
the default maps the two highest-resolution decoder stages that have attention, as for SD 1.5.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from diffusers.loaders import StableDiffusionXLLoraLoaderMixin
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from ..settings import SettingsError
from .errors import PromptError
from .pipeline import DirecT2VPipeline

SDXL_DEFAULT_BLOCKS = ("up_blocks.0", "up_blocks.1")


@dataclass
class SDXLPromptEmbeds:
    """Text conditioning of some frames: token embeddings (F, L, D1 + D2) and pooled (F, P).

    Indexes like a tensor over frames, so the shared schedule slices it as it slices SD 1.5's.
    """

    embeds: torch.Tensor
    pooled: torch.Tensor

    def __getitem__(self, index) -> "SDXLPromptEmbeds":
        return SDXLPromptEmbeds(self.embeds[index], self.pooled[index])

    def __len__(self) -> int:
        return self.embeds.shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self.embeds.dtype


class DirecT2VSDXLPipeline(StableDiffusionXLLoraLoaderMixin, DirecT2VPipeline):  # SDXL's LoRA layout
    model_cpu_offload_seq = "text_encoder->text_encoder_2->unet->vae"
    _optional_components = []
    _callback_tensor_inputs = ["latents"]  # SDXL's embeddings are a pair (tokens, pooled), not one tensor
    default_attention_blocks = SDXL_DEFAULT_BLOCKS

    def __init__(
        self,
        vae: AutoencoderKL,
        text_encoder: CLIPTextModel,
        text_encoder_2: CLIPTextModelWithProjection,
        tokenizer: CLIPTokenizer,
        tokenizer_2: CLIPTokenizer,
        unet: UNet2DConditionModel,
        scheduler,
        force_zeros_for_empty_prompt: bool = True,
    ):
        DiffusionPipeline.__init__(self)
        self.register_modules(
            vae=vae,
            text_encoder=text_encoder,
            text_encoder_2=text_encoder_2,
            tokenizer=tokenizer,
            tokenizer_2=tokenizer_2,
            unet=unet,
            scheduler=scheduler,
        )
        self.register_to_config(force_zeros_for_empty_prompt=force_zeros_for_empty_prompt)
        self._init_render_state()
        self._sdxl_inputs: dict = {}

    # ------------------------------------------------------------------ text
    def _encode(self, texts_1: list[str], texts_2: list[str], device) -> SDXLPromptEmbeds:
        parts, pooled = [], None
        for texts, tokenizer, encoder in ((texts_1, self.tokenizer, self.text_encoder), (texts_2, self.tokenizer_2, self.text_encoder_2)):
            ids = tokenizer(
                texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
            ).input_ids
            out = encoder(ids.to(device), output_hidden_states=True)
            parts.append(out.hidden_states[-2])  # SDXL reads the penultimate layer of both encoders
            pooled = getattr(out, "text_embeds", None)
        if pooled is None:
            raise SettingsError("text_encoder_2 must return a projected pooled embedding (CLIPTextModelWithProjection).")
        dtype = self.text_encoder_2.dtype
        return SDXLPromptEmbeds(torch.cat(parts, dim=-1).to(device, dtype), pooled.to(device, dtype))

    @torch.no_grad()
    def encode_prompt(
        self,
        prompts: list[str],
        device=None,
        do_classifier_free_guidance: bool = True,
        negative_prompt: str | None = None,
        prompt_embeds: SDXLPromptEmbeds | None = None,
        negative_prompt_embeds: SDXLPromptEmbeds | None = None,
    ) -> tuple[SDXLPromptEmbeds, SDXLPromptEmbeds]:
        """(cond for F frames, uncond for 1). Repeated (prompt, prompt_2) pairs are encoded once."""
        if prompt_embeds is not None:
            raise SettingsError("The SDXL pipeline takes prompts, not prompt_embeds.")
        device = device or self._execution_device
        prompts_2 = self._sdxl_inputs.get("prompt_2")
        if prompts_2 is None:
            prompts_2 = prompts
        elif isinstance(prompts_2, str):
            prompts_2 = [prompts_2] * len(prompts)
        elif len(prompts_2) != len(prompts):
            raise PromptError(f"prompt_2 has {len(prompts_2)} entries but there are {len(prompts)} frames; they must match.")
        pairs = list(zip(prompts, prompts_2))
        unique = list(dict.fromkeys(pairs))
        zeros = negative_prompt is None and self.config.force_zeros_for_empty_prompt
        negative = negative_prompt or ""
        negative_2 = self._sdxl_inputs.get("negative_prompt_2") or negative
        texts_1 = [a for a, _ in unique] + ([] if zeros else [negative])
        texts_2 = [b for _, b in unique] + ([] if zeros else [negative_2])
        emb = self._encode(texts_1, texts_2, device)
        index = torch.tensor([unique.index(p) for p in pairs], device=device)
        if zeros:
            uncond = SDXLPromptEmbeds(torch.zeros_like(emb.embeds[:1]), torch.zeros_like(emb.pooled[:1]))
        else:
            uncond = emb[-1:]
        return emb[index], uncond

    def add_time_ids(self, original_size, crops_coords_top_left, target_size) -> torch.Tensor:
        """SDXL's micro-conditioning (1, 6), checked against the UNet's added-embedding width."""
        ids = list(original_size) + list(crops_coords_top_left) + list(target_size)
        if len(ids) != 6:
            raise SettingsError("original_size, crops_coords_top_left and target_size must be pairs of numbers.")
        expected = self.unet.add_embedding.linear_1.in_features
        got = self.unet.config.addition_time_embed_dim * len(ids) + self.text_encoder_2.config.projection_dim
        if got != expected:
            raise SettingsError(
                f"This UNet expects added embeddings of width {expected}, but the time ids and text_encoder_2 give {got}; "
                "the model's unet and text_encoder_2 do not belong together."
            )
        return torch.tensor([ids], dtype=torch.float32)

    def unet_conditioning(self, cond: SDXLPromptEmbeds, uncond: SDXLPromptEmbeds | None, frames: int, cfg: bool) -> dict:
        kwargs = super().unet_conditioning(cond.embeds, uncond.embeds if cfg else None, frames, cfg)
        pooled = torch.cat([uncond.pooled.expand(frames, -1), cond.pooled]) if cfg else cond.pooled
        time_ids = self._sdxl_inputs["time_ids"].to(pooled.device, pooled.dtype).expand(pooled.shape[0], -1)
        kwargs["added_cond_kwargs"] = {"text_embeds": pooled, "time_ids": time_ids}
        return kwargs

    # ------------------------------------------------------------------ decoding
    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        if self.vae.dtype == torch.float16 and getattr(self.vae.config, "force_upcast", False):
            self.vae.to(torch.float32)  # SDXL's fp16 VAE overflows to NaN (black frames)
            try:
                return super().decode_latents(latents)
            finally:
                self.vae.to(torch.float16)
        return super().decode_latents(latents)

    # ------------------------------------------------------------------ __call__
    @torch.no_grad()
    def __call__(
        self,
        prompt,
        *args,
        prompt_2: str | list[str] | None = None,
        negative_prompt_2: str | None = None,
        original_size: tuple[int, int] | None = None,
        crops_coords_top_left: tuple[int, int] = (0, 0),
        target_size: tuple[int, int] | None = None,
        **kwargs,
    ):
        """DirecT2VPipeline's call plus SDXL's conditioning: `prompt_2` (str or one per frame) and
        `negative_prompt_2` go to the second text encoder (default: the first's); original and
        target size default to the output's (height, width)."""
        bound = inspect.signature(DirecT2VPipeline.__call__).bind(self, prompt, *args, **kwargs).arguments
        size = self.unet.config.sample_size * self.vae_scale_factor
        hw = (bound.get("height") or size, bound.get("width") or size)
        self._sdxl_inputs = {
            "prompt_2": prompt_2,
            "negative_prompt_2": negative_prompt_2,
            "time_ids": self.add_time_ids(original_size or hw, crops_coords_top_left, target_size or hw),
        }
        try:
            return super().__call__(prompt, *args, **kwargs)
        finally:
            self._sdxl_inputs = {}


def _call_signature() -> inspect.Signature:
    """DirecT2VPipeline.__call__'s parameters followed by SDXL's, for help() and introspection."""
    base = list(inspect.signature(DirecT2VPipeline.__call__).parameters.values())
    own = [p for p in inspect.signature(DirecT2VSDXLPipeline.__call__).parameters.values() if p.kind is p.KEYWORD_ONLY]
    extra = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in base if p.kind is p.KEYWORD_ONLY]
    positional = [p for p in base if p.kind is not p.KEYWORD_ONLY]
    return inspect.Signature(positional + extra + own)


DirecT2VSDXLPipeline.__call__.__signature__ = _call_signature()
