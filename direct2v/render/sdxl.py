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
from typing import Any, Callable

import torch
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.loaders import StableDiffusionXLLoraLoaderMixin
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer, CLIPVisionModelWithProjection

from ..settings import RenderSettings, SettingsError
from .errors import PromptError
from .attention import ValueMappingController
from .pipeline import DirecT2VPipeline, text_lora_scale

SDXL_DEFAULT_BLOCKS = ("up_blocks.0", "up_blocks.1")
# DirecT2VPipeline.__call__'s arguments: SDXL's call restates them (diffusers' users and tools
# read a pipeline's own signature) and hands them on; test_render_sdxl holds the two lists equal.
SHARED_CALL_ARGUMENTS = tuple(inspect.signature(DirecT2VPipeline.__call__).parameters)[1:]


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


def _first(*values):
    return next((v for v in values if v is not None), None)


def check_pair(tokens: torch.Tensor, pooled: torch.Tensor | None, name: str) -> None:
    """Token embeddings given by the caller need their pooled partner, one row per frame (or one for all)."""
    if pooled is None:
        partner = {"prompt_embeds": "pooled_prompt_embeds", "negative_prompt_embeds": "negative_pooled_prompt_embeds"}[name]
        raise SettingsError(f"The SDXL pipeline needs {partner} with {name} (encode_prompt returns both).")
    if pooled.ndim != 2 or pooled.shape[0] not in (1, tokens.shape[0]):
        raise SettingsError(f"pooled embeddings for {name} must be (1 or {tokens.shape[0]}, dim); got {tuple(pooled.shape)}.")


def _pair(tokens: torch.Tensor, pooled: torch.Tensor | None, name: str, device) -> SDXLPromptEmbeds:
    check_pair(tokens, pooled, name)
    pooled = pooled.expand(tokens.shape[0], -1)
    return SDXLPromptEmbeds(tokens.to(device), pooled.to(device=device, dtype=tokens.dtype))


class DirecT2VSDXLPipeline(StableDiffusionXLLoraLoaderMixin, DirecT2VPipeline):  # SDXL's LoRA layout
    model_cpu_offload_seq = "text_encoder->text_encoder_2->image_encoder->unet->vae"
    _optional_components = ["image_encoder", "feature_extractor"]  # IP-Adapter's (IPAdapterMixin, as SDXL's)
    # As diffusers' SDXL pipelines name them; embeddings are the whole video's CFG batch,
    # (halves, frames, ...) with the negative half first, time ids (halves, 6).
    _callback_tensor_inputs = [
        "latents", "prompt_embeds", "negative_prompt_embeds", "add_text_embeds", "negative_pooled_prompt_embeds", "add_time_ids",
    ]
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
        image_encoder: CLIPVisionModelWithProjection | None = None,
        feature_extractor=None,
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
            image_encoder=image_encoder,
            feature_extractor=feature_extractor,
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
        prompt: str | list[str] | None,
        prompt_2: str | list[str] | None = None,
        device=None,
        do_classifier_free_guidance: bool = True,
        negative_prompt: str | None = None,
        negative_prompt_2: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        pooled_prompt_embeds: torch.Tensor | None = None,
        negative_pooled_prompt_embeds: torch.Tensor | None = None,
        lora_scale: float | None = None,
    ):
        """diffusers' SDXL `encode_prompt`, one row per frame: (prompt_embeds (F, 77, D1 + D2),
        negative_prompt_embeds (1, 77, D1 + D2), pooled_prompt_embeds (F, P),
        negative_pooled_prompt_embeds (1, P)); the negatives are None without guidance.
        `lora_scale` scales the text encoders' LoRA layers meanwhile."""
        device = device or self._execution_device
        prompts = [prompt] if isinstance(prompt, str) else prompt
        with text_lora_scale(self, lora_scale):
            cond, uncond = self.sdxl_conditioning(
                prompts, prompt_2, negative_prompt, negative_prompt_2, prompt_embeds, negative_prompt_embeds,
                pooled_prompt_embeds, negative_pooled_prompt_embeds, device, do_classifier_free_guidance,
            )
        prompt_embeds, pooled_prompt_embeds = cond.embeds, cond.pooled
        negative_prompt_embeds = uncond.embeds if uncond is not None else None
        negative_pooled_prompt_embeds = uncond.pooled if uncond is not None else None
        return prompt_embeds, negative_prompt_embeds, pooled_prompt_embeds, negative_pooled_prompt_embeds

    def sdxl_conditioning(
        self, prompts, prompts_2, negative_prompt, negative_prompt_2, prompt_embeds, negative_prompt_embeds,
        pooled_prompt_embeds, negative_pooled_prompt_embeds, device, cfg: bool,
    ) -> tuple[SDXLPromptEmbeds, SDXLPromptEmbeds | None]:
        """(cond for F frames, uncond for 1 or F, None without CFG). Token embeddings passed in need
        their pooled partner (diffusers' SDXL convention); repeated (prompt, prompt_2) pairs are
        encoded once."""
        if prompt_embeds is not None:
            cond = _pair(prompt_embeds, pooled_prompt_embeds, "prompt_embeds", device)
        else:
            cond = self._encode_frames_sdxl(prompts, prompts_2, device)
        if not cfg:
            return cond, None
        if negative_prompt_embeds is not None:
            uncond = _pair(negative_prompt_embeds, negative_pooled_prompt_embeds, "negative_prompt_embeds", device)
        else:
            uncond = self._negative(negative_prompt, negative_prompt_2, cond, device)
        return cond, SDXLPromptEmbeds(uncond.embeds.to(cond.dtype), uncond.pooled.to(cond.dtype))

    def _negative(self, negative_prompt, negative_prompt_2, cond: SDXLPromptEmbeds, device) -> SDXLPromptEmbeds:
        """Zeros without a negative prompt when the model asks for it (force_zeros_for_empty_prompt)."""
        if negative_prompt is None and self.config.force_zeros_for_empty_prompt:
            return SDXLPromptEmbeds(torch.zeros_like(cond.embeds[:1]), torch.zeros_like(cond.pooled[:1]))
        negative = negative_prompt or ""
        return self._encode([negative], [negative_prompt_2 or negative], device)

    def frame_conditioning(self, prompts, negative_prompt, prompt_embeds, negative_prompt_embeds, device, cfg):
        extra = self._call.extra
        return self.sdxl_conditioning(
            prompts, extra.get("prompt_2"), negative_prompt, extra.get("negative_prompt_2"), prompt_embeds,
            negative_prompt_embeds, extra.get("pooled_prompt_embeds"), extra.get("negative_pooled_prompt_embeds"), device, cfg,
        )

    def negative_conditioning(self, negative_prompt, device):
        run = self._call
        uncond = self._negative(negative_prompt, run.extra.get("negative_prompt_2"), run.cond, device)
        return SDXLPromptEmbeds(uncond.embeds.to(run.cond.dtype), uncond.pooled.to(run.cond.dtype))

    def _encode_frames_sdxl(self, prompts: list[str], prompts_2, device) -> SDXLPromptEmbeds:
        if prompts_2 is None:
            prompts_2 = prompts
        elif isinstance(prompts_2, str):
            prompts_2 = [prompts_2] * len(prompts)
        elif len(prompts_2) != len(prompts):
            raise PromptError(f"prompt_2 has {len(prompts_2)} entries but there are {len(prompts)} frames; they must match.")
        pairs = list(zip(prompts, prompts_2))
        unique = list(dict.fromkeys(pairs))
        emb = self._encode([a for a, _ in unique], [b for _, b in unique], device)
        return emb[torch.tensor([unique.index(p) for p in pairs], device=device)]

    def add_time_ids(self, original_size, crops_coords_top_left, target_size) -> torch.Tensor:
        """SDXL's micro-conditioning (1, 6), checked against the UNet's added-embedding width."""
        ids = list(original_size) + list(crops_coords_top_left) + list(target_size)
        if len(ids) != 6:
            raise SettingsError("original_size, crops_coords_top_left and target_size must be pairs of numbers.")
        if self.text_encoder_2 is None:  # a pipeline driven by embeddings alone: the UNet reads them as given
            return torch.tensor([ids], dtype=torch.float32)
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
        time_ids = self._call.extra["time_ids"].to(pooled.device, pooled.dtype).expand(pooled.shape[0], -1)
        kwargs["added_cond_kwargs"] = {"text_embeds": pooled, "time_ids": time_ids}
        return kwargs

    # ------------------------------------------------------------------ step-end callbacks
    def _callback_tensor(self, name: str, latents: torch.Tensor) -> torch.Tensor | None:
        run = self._call
        if name == "latents":
            return latents
        cfg = self.do_classifier_free_guidance and run.uncond is not None
        if name == "add_time_ids":
            return run.extra["time_ids"].repeat(2 if cfg else 1, 1)
        if name in ("negative_prompt_embeds", "negative_pooled_prompt_embeds"):
            if run.uncond is None:
                return None
            return run.uncond.embeds if name == "negative_prompt_embeds" else run.uncond.pooled
        part = "embeds" if name == "prompt_embeds" else "pooled"
        cond = getattr(run.cond, part)
        if not cfg:
            return cond[None]
        uncond = getattr(run.uncond, part).to(cond.dtype)
        return torch.stack([uncond.expand(len(cond), *cond.shape[1:]), cond])

    def _take_callback_tensors(self, out: dict, given: dict) -> None:
        run = self._call

        def returned(name):
            value = out.pop(name, given.get(name))
            return None if value is given.get(name) else value

        tokens, pooled = returned("prompt_embeds"), returned("add_text_embeds")
        if tokens is not None or pooled is not None:  # (halves, frames, ...): the last half is the prompts
            tokens = tokens if tokens is not None else self._callback_tensor("prompt_embeds", None)
            pooled = pooled if pooled is not None else self._callback_tensor("add_text_embeds", None)
            run.cond = SDXLPromptEmbeds(tokens[-1], pooled[-1])
            if tokens.shape[0] == pooled.shape[0] == 2:
                run.uncond = SDXLPromptEmbeds(tokens[0], pooled[0])
        neg, neg_pooled = returned("negative_prompt_embeds"), returned("negative_pooled_prompt_embeds")
        if neg is not None or neg_pooled is not None:
            run.uncond = SDXLPromptEmbeds(_first(neg, run.uncond.embeds), _first(neg_pooled, run.uncond.pooled))
        time_ids = returned("add_time_ids")
        if time_ids is not None:  # both halves share SDXL's size conditioning
            run.extra["time_ids"] = time_ids[-1:]

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
        prompt: str | list[str] | None = None,
        video_length: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        height: int | None = None, width: int | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        eta: float | None = None,
        t0: int | None = None, t1: int | None = None,  # where frames start to interact (method.md section 2)
        motion_field_strength_x: float | None = None, motion_field_strength_y: float | None = None,
        value_mapping: str | None = None, rvm_period: int | None = None, dsf_quantile: float | None = None,
        attention_blocks: tuple[str, ...] | list[str] | str | None = None,
        output_type: str = "np", return_dict: bool = True, latents: torch.Tensor | None = None,
        prompt_embeds: torch.Tensor | None = None, negative_prompt_embeds: torch.Tensor | None = None,
        frames_per_pass: int | None = None, chunking: str | None = None,  # long videos (section 5)
        callback_on_step_end: Callable | PipelineCallback | MultiPipelineCallbacks | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
        controller: ValueMappingController | None = None,
        image: Any = None, image_strength: float | None = None, image_mode: str | None = None,  # start picture
        cache_interval: int | None = None, settings: RenderSettings | None = None,
        ip_adapter_image: Any = None, ip_adapter_image_embeds: list[torch.Tensor] | None = None,
        ip_adapter_frame_images: list | dict | None = None,
        cross_attention_kwargs: dict[str, Any] | None = None,
        *,
        prompt_2: str | list[str] | None = None,
        negative_prompt_2: str | None = None,
        pooled_prompt_embeds: torch.Tensor | None = None,
        negative_pooled_prompt_embeds: torch.Tensor | None = None,
        original_size: tuple[int, int] | None = None,
        crops_coords_top_left: tuple[int, int] = (0, 0),
        target_size: tuple[int, int] | None = None,
    ):
        """DirecT2VPipeline's call (the same arguments, in the same order) plus SDXL's conditioning:
        `prompt_2` (str or one per frame) and `negative_prompt_2` go to the second text encoder
        (default: the first's); with `prompt_embeds` (F, 77, D) come `pooled_prompt_embeds` (F or 1, P),
        as `encode_prompt` returns them; original and target size default to the output's (height, width)."""
        self._sdxl_inputs = {
            "prompt_2": prompt_2,
            "negative_prompt_2": negative_prompt_2,
            "pooled_prompt_embeds": pooled_prompt_embeds,
            "negative_pooled_prompt_embeds": negative_pooled_prompt_embeds,
            "sizes": (original_size, crops_coords_top_left, target_size),
        }
        try:
            return super().__call__(**{name: value for name, value in locals().items() if name in SHARED_CALL_ARGUMENTS})
        finally:
            self._sdxl_inputs = {}

    def check_inputs(self, prompts, settings, embeddings=None, **kwargs) -> None:
        super().check_inputs(prompts, settings, embeddings, **kwargs)
        self._time_ids(settings)  # raises when unet and text_encoder_2 do not belong together
        if embeddings is not None:
            check_pair(embeddings[0], self._sdxl_inputs.get("pooled_prompt_embeds"), "prompt_embeds")
            if embeddings[1] is not None:
                check_pair(embeddings[1], self._sdxl_inputs.get("negative_pooled_prompt_embeds"), "negative_prompt_embeds")

    def _time_ids(self, settings) -> torch.Tensor:
        original, crop, target = self._sdxl_inputs.get("sizes", (None, (0, 0), None))
        hw = (settings.height, settings.width)
        return self.add_time_ids(original or hw, crop, target or hw)

    def _start_call(self, settings, *args):
        """The call's state carries SDXL's own inputs and the size conditioning."""
        run = super()._start_call(settings, *args)
        run.extra = dict(self._sdxl_inputs, time_ids=self._time_ids(settings))
        return run

