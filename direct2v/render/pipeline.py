"""DirecT2VPipeline: Text2Video-Zero's schedule with one prompt per frame and value mapping.

The sampling steps stay visible in `__call__` (method.md section 2):

    1. sample x_T for frame 1 only
    2. denoise frame 1 alone, (negative, prompt 1), from T[0] to T[-t1-1], then on to T[-t0-1]
    3. copy frame 1's latent at T[-t0-1] to frames 2..N (optionally warped by (dx, dy) * j)
    4. re-noise the copies from T[-t0-1] back to T[-t1-1] (DDPM forward process)
    5. denoise all frames jointly from T[-t1-1], frame j guided by (negative, prompt j),
       with value mapping in the chosen self-attention layers (attention.py)

With more frames than `frames_per_pass`, step 5 runs in passes (long.py, method.md section 5).
`__call__` names the steps: `_first_frame_phase` (1-2), `_start_latents` (3-4) and
`_joint_pass` (5, once per pass); what they share for one call is a `RenderCall`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback
from diffusers.loaders import IPAdapterMixin, StableDiffusionLoraLoaderMixin
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import StableDiffusionMixin, StableDiffusionPipeline
from diffusers.utils import USE_PEFT_BACKEND, BaseOutput, scale_lora_layers, unscale_lora_layers
from diffusers.utils.torch_utils import randn_tensor
from transformers import CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

from ..frames import check_frame_prompts
from ..settings import DEFAULT_BLOCKS, RenderSettings, SettingsError, knobs
from .attention import ValueMappingController, installed_value_mapping, random_draws, select_self_attention_layers
from .deepcache import StepCache
from .errors import PromptError, RenderCancelled, RenderNonFinite
from .ip_adapter import ImagePrompt, add_image_conditioning, frame_attention_kwargs, prepare_image_prompt
from .long import Pass, plan_passes, run_passes
from .schedulers import check_timesteps, joint_phase_scheduler, make_scheduler  # noqa: F401 (make_scheduler: public here too)
from .start_image import StartFrame, prepare_start_frame


@dataclass
class DirecT2VPipelineOutput(BaseOutput):
    """`frames`: (F, H, W, 3) float in [0, 1] for "np", a list of PIL images for "pil", latents for "latent".
    `anchor_cache_bytes`: the size of the anchor cache a long video used (0 in one pass)."""

    frames: Any
    nsfw_content_detected: list[bool] | None = None
    anchor_cache_bytes: int = 0


# `__call__`'s keywords that are render settings: a given one overrides the `settings` object's field.
SETTING_ARGUMENTS = frozenset(f.name for f, k in knobs(RenderSettings) if k.pipeline)
OUTPUT_TYPES = ("np", "pil", "pt", "latent")


@dataclass
class RenderCall:
    """What the steps of one call share; the pipeline holds it only while the call runs.

    `cond` is the whole video's prompt conditioning (row j: frame j), `uncond` the negative
    prompt's (one row, one per frame, or None without guidance); each step takes its frames'
    rows (`step_conditioning`), so a step-end callback that edits them acts on the next step.
    """

    settings: RenderSettings
    generator: Any
    controller: ValueMappingController
    cond: Any = None
    uncond: Any = None
    timesteps: torch.Tensor | None = None
    passes: list[Pass] = field(default_factory=list)
    joint_steps: int = 0  # t' runs over 0 .. joint_steps - 1
    extra_step_kwargs: dict = field(default_factory=dict)
    scheduler_before: Any = None  # put back afterwards: no solver history of this render stays
    callback: Callable | None = None
    callback_tensor_inputs: list[str] = field(default_factory=lambda: ["latents"])
    progress: Any = None
    steps_done: int = 0
    phase: str = "idle"
    frame_ids: list[int] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # a subclass's own conditioning inputs (SDXL's)
    image_prompt: ImagePrompt | None = None  # IP-Adapter references, one row per frame (ip_adapter.py)
    attention_kwargs: dict = field(default_factory=dict)  # the caller's cross_attention_kwargs, masks per frame


@dataclass
class FirstFrame:
    """Frame 1 where the joint phase takes over: its latents at T[-t1-1] and T[-t0-1], the
    scheduler saved at T[-t1-1], the start picture's trajectory when one was given, and the
    generator's state after it (T2V-Z's chunking re-noises every chunk from that state)."""

    at_t1: torch.Tensor
    at_t0: torch.Tensor
    scheduler: Any
    start: StartFrame | None = None
    generator_state: torch.Tensor | None = None


class DirecT2VPipeline(DiffusionPipeline, StableDiffusionMixin, StableDiffusionLoraLoaderMixin, IPAdapterMixin):  # SD's layouts
    model_cpu_offload_seq = "text_encoder->image_encoder->unet->vae"
    _optional_components = ["safety_checker", "feature_extractor", "image_encoder"]
    # `prompt_embeds` in a step-end callback is the whole video's CFG batch, (halves, frames,
    # tokens, dim) with the negative half first; `prompt_embeds[-1:]` is the conditional half
    # of every frame, so diffusers' SDCFGCutoffCallback keeps each frame's own prompt.
    _callback_tensor_inputs = ["latents", "prompt_embeds", "negative_prompt_embeds"]
    default_attention_blocks = DEFAULT_BLOCKS  # what attention_blocks="default" maps

    def __init__(
        self,
        vae: AutoencoderKL,
        text_encoder: CLIPTextModel,
        tokenizer: CLIPTokenizer,
        unet: UNet2DConditionModel,
        scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker: bool = False,
        image_encoder: CLIPVisionModelWithProjection | None = None,
    ):
        super().__init__()
        self.register_modules(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler)
        self.register_modules(safety_checker=safety_checker, feature_extractor=feature_extractor, image_encoder=image_encoder)
        # Kept in the config (the renderer does not run the checker) so that from_pipe back to
        # StableDiffusionPipeline gets the original's value, not that pipeline's default True.
        self.register_to_config(requires_safety_checker=requires_safety_checker)
        self._init_render_state()

    def _init_render_state(self) -> None:
        """What every render reads besides the modules (the SDXL pipeline's __init__ calls this too)."""
        vae = getattr(self, "vae", None)  # None in a text-encoder-only pipeline (encode_prompt alone)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1) if vae is not None else 8
        self._call: RenderCall | None = None  # the running call's shared state
        self.vae_decode_batch = 8
        self.value_mapping_controller = ValueMappingController()
        self._value_mapping_processors: dict = {}  # by layer, reused from render to render

    # IP-Adapter pictures through the image encoder, exactly as diffusers' SD pipelines do.
    encode_image = StableDiffusionPipeline.encode_image

    # ------------------------------------------------------------------ properties
    @property
    def phase(self) -> str:
        """What the current step belongs to: "first frame", "start image", "joint", "frames 9-12 of 24",
        or "idle" between renders (step-end callbacks read it here, as `pipe.phase`)."""
        return self._call.phase if self._call is not None else "idle"

    @property
    def frame_ids(self) -> list[int]:
        """Global indices of the frames the current step denoises (the latents' rows)."""
        return list(self._call.frame_ids) if self._call is not None else []

    @property
    def cross_attention_kwargs(self) -> dict | None:
        """The running call's `cross_attention_kwargs` (its `ip_adapter_masks` with one row per frame)."""
        return self._call.attention_kwargs if self._call is not None else None

    @property
    def interrupt(self) -> bool:
        return getattr(self, "_interrupt", False)

    @property
    def num_timesteps(self) -> int:
        return getattr(self, "_num_timesteps", 0)

    @property
    def guidance_scale(self) -> float:
        return self._guidance_scale

    @property
    def do_classifier_free_guidance(self) -> bool:
        """Read at every step, so a step-end callback can switch guidance off (or on) mid-render."""
        return self._guidance_scale > 1.0

    # ------------------------------------------------------------------ checks
    def render_settings(self, settings: RenderSettings | None = None, **given) -> RenderSettings:
        """The call's settings: `settings` (default: RenderSettings at this model's own size) with
        the render-setting keywords the caller gave over it; not validated here (`check_inputs`)."""
        if settings is None:
            size = self.unet.config.sample_size * self.vae_scale_factor
            settings = RenderSettings(height=size, width=size)
        if isinstance(given.get("attention_blocks"), list):
            given["attention_blocks"] = tuple(given["attention_blocks"])
        return settings.replace(**given) if given else settings

    def check_inputs(
        self, prompts, settings: RenderSettings, embeddings=None, *, video_length=None, output_type="np",
        callback_on_step_end_tensor_inputs=None,
    ) -> None:
        """The one gate of a call: the frame prompts (or `embeddings`, diffusers' (prompt_embeds,
        negative_prompt_embeds)) through the shared check, every setting, the start picture's
        included, through `RenderSettings.validate()`, then what depends on this model."""
        if embeddings is None:
            check_frame_prompts(prompts)
            if video_length is not None and video_length != len(prompts):
                raise PromptError(f"video_length is {video_length} but {len(prompts)} frame prompts were given; they must match.")
        else:
            check_embeddings(*embeddings, video_length)
        settings.validate()
        select_self_attention_layers(self.unet, self.attention_blocks(settings))  # raises on unknown block names
        if output_type not in OUTPUT_TYPES:
            raise SettingsError(f"Unknown output_type {output_type!r}; use {', '.join(map(repr, OUTPUT_TYPES))}.")
        bad = [n for n in callback_on_step_end_tensor_inputs or [] if n not in self._callback_tensor_inputs]
        if bad:
            raise SettingsError(f"callback_on_step_end_tensor_inputs may only name {self._callback_tensor_inputs}; got {bad}.")

    def attention_blocks(self, settings: RenderSettings) -> tuple[str, ...] | str:
        """The blocks value mapping covers: the settings' own, "default" meaning this model's."""
        blocks = settings.blocks()
        return self.default_attention_blocks if blocks == "default" else blocks

    # ------------------------------------------------------------------ building blocks
    @torch.no_grad()
    def encode_prompt(
        self,
        prompt: str | list[str] | None,
        device=None,
        do_classifier_free_guidance: bool = True,
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        lora_scale: float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(prompt_embeds (F, 77, D), one per frame; negative_prompt_embeds (1, 77, D) or None without CFG).

        Embeddings passed in are returned as they are (moved to `device`); repeated frame
        prompts are encoded once. `lora_scale` scales the text encoder's LoRA layers meanwhile.
        """
        device = device or self._execution_device
        with text_lora_scale(self, lora_scale):
            if prompt_embeds is None:
                prompts = [prompt] if isinstance(prompt, str) else list(prompt)
                unique = list(dict.fromkeys(prompts))
                emb = self._encode_texts(unique, device)
                index = torch.tensor([unique.index(p) for p in prompts], device=device)
                prompt_embeds = emb[index]
            if do_classifier_free_guidance and negative_prompt_embeds is None:
                negative_prompt_embeds = self._encode_texts([negative_prompt or ""], device)
        prompt_embeds = prompt_embeds.to(device)
        if not do_classifier_free_guidance:
            negative_prompt_embeds = None
        if negative_prompt_embeds is not None:
            negative_prompt_embeds = negative_prompt_embeds.to(device=device, dtype=prompt_embeds.dtype)
        return prompt_embeds, negative_prompt_embeds

    def _encode_texts(self, texts: list[str], device) -> torch.Tensor:
        tok = self.tokenizer(
            texts, padding="max_length", max_length=self.tokenizer.model_max_length, truncation=True, return_tensors="pt"
        )
        mask = None
        if getattr(self.text_encoder.config, "use_attention_mask", False):
            mask = tok.attention_mask.to(device)
        emb = self.text_encoder(tok.input_ids.to(device), attention_mask=mask)[0]
        return emb.to(dtype=self.text_encoder.dtype, device=device)

    def prepare_latents(self, num_frames, height, width, dtype, device, generator, latents=None) -> torch.Tensor:
        shape = (num_frames, self.unet.config.in_channels, height // self.vae_scale_factor, width // self.vae_scale_factor)
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        elif latents.shape != shape:
            raise SettingsError(f"latents must have shape {tuple(shape)}, got {tuple(latents.shape)}.")
        return latents.to(device=device, dtype=dtype) * self.scheduler.init_noise_sigma

    def prepare_extra_step_kwargs(self, generator, eta) -> dict:
        import inspect

        params = set(inspect.signature(self.scheduler.step).parameters)
        kw = {}
        if "eta" in params:
            kw["eta"] = eta
        if "generator" in params:
            kw["generator"] = generator
        return kw

    def renoise(self, x_t0: torch.Tensor, t_from: int, t_to: int, generator) -> torch.Tensor:
        """DDPM forward process from timestep t_from to t_to > t_from (T2V-Z's forward_loop)."""
        eps = randn_tensor(x_t0.shape, generator=generator, dtype=x_t0.dtype, device=x_t0.device)
        alpha = torch.prod(self.scheduler.alphas[t_from:t_to])
        return torch.sqrt(alpha) * x_t0 + torch.sqrt(1 - alpha) * eps

    def warp_copies(self, latent: torch.Tensor, frame_ids: list[int], strength_x: float, strength_y: float) -> torch.Tensor:
        """Copies of `latent` (1, C, h, w), copy j translated by (strength_x, strength_y) * frame_ids[j] pixels.

        Same construction as T2V-Z's motion field: the flow is defined on a 512x512 pixel grid,
        resized to the latent grid, nearest sampling with reflection at the borders.
        """
        copies = latent.repeat(len(frame_ids), 1, 1, 1)
        if strength_x == 0 and strength_y == 0:
            return copies
        _, _, h, w = latent.shape
        size = 512
        ys, xs = torch.meshgrid(torch.arange(size, device=latent.device), torch.arange(size, device=latent.device), indexing="ij")
        base = torch.stack([xs, ys]).to(latent.dtype)  # (2, 512, 512): x then y
        out = []
        for j, fid in enumerate(frame_ids):
            shift = torch.tensor([strength_x * fid, strength_y * fid], device=latent.device, dtype=latent.dtype)
            coords = base + shift[:, None, None]
            coords = coords / size * 2.0 - 1.0
            coords = F.interpolate(coords[None], size=(h, w), mode="bilinear", align_corners=False)
            grid = coords.permute(0, 2, 3, 1)
            out.append(F.grid_sample(copies[j : j + 1], grid, mode="nearest", padding_mode="reflection", align_corners=False))
        return torch.cat(out)

    def joint_scheduler(self, saved, timesteps: torch.Tensor):
        """The scheduler and timesteps for the joint phase, starting from the state saved at
        T[-t1-1]; frames 2..N have no solver history, so the registry's switch rule resets it."""
        return joint_phase_scheduler(saved, timesteps)

    @staticmethod
    def start_image_hold(start: StartFrame, frame_ids: list[int], joint_ts: torch.Tensor):
        """Keep frame 1 on the picture's trajectory for the first (1 - strength) of the joint steps."""
        if 0 not in frame_ids:
            return None
        pos, held = frame_ids.index(0), start.held_steps(len(joint_ts))

        def hold(i: int, latents: torch.Tensor) -> torch.Tensor:
            if i >= held:
                return latents
            # After step i the latents sit at the next timestep (the clean end after the last step).
            nxt = int(joint_ts[i + 1]) if i + 1 < len(joint_ts) else None
            latents = latents.clone()
            latents[pos] = start.latent_at(nxt)[0].to(latents.dtype)
            return latents

        return hold

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """(F, 3, H, W) in [0, 1], decoded in slices of `vae_decode_batch` frames to bound memory.

        An fp16 VAE can overflow to inf/NaN on some latents; those slices are decoded again with
        the VAE in fp32 (as diffusers' SDXL pipeline upcasts its VAE) rather than returned black.
        """
        outs = []
        for i in range(0, latents.shape[0], self.vae_decode_batch):
            z = latents[i : i + self.vae_decode_batch] / self.vae.config.scaling_factor
            image = self.vae.decode(z.to(self.vae.dtype), return_dict=False)[0]
            if self.vae.dtype == torch.float16 and not torch.isfinite(image).all():
                image = self._decode_fp32(z)
            bad = (~torch.isfinite(image.flatten(1))).any(1).nonzero().flatten().tolist()
            if bad:
                self._raise_non_finite([i + j for j in bad], None)
            outs.append((image.float() / 2 + 0.5).clamp(0, 1))
        return torch.cat(outs)

    def _decode_fp32(self, z: torch.Tensor) -> torch.Tensor:
        dtype = self.vae.dtype
        self.vae.to(torch.float32)
        try:
            return self.vae.decode(z.float(), return_dict=False)[0]
        finally:
            self.vae.to(dtype)

    def _raise_non_finite(self, frames: list[int], step: int | None, later: list[int] = ()) -> None:
        """Name the frames (0-based in, 1-based out) that went NaN/inf first, the step, and the way out;
        `later`: frames that followed at later steps (value mapping spreads a broken frame)."""
        def numbers(fs):
            return ", ".join(str(f + 1) for f in fs[:12]) + (", ..." if len(fs) > 12 else "")

        where = f"at step {step + 1} of {self.num_timesteps}" if step is not None else "in the VAE decode"
        then = f" (then frame(s) {numbers(list(later))})" if later else ""
        half = self.unet.dtype in (torch.float16, torch.bfloat16)
        fix = (
            " This is a known half-precision overflow on some GPUs: render again in fp32 "
            "(--precision fp32 for the CLI or app.py; load_pipeline(model, dtype=torch.float32) in Python)."
            if half
            else " The model produced invalid values in full precision; try another seed or model."
        )
        label = "Frame" if len(frames) == 1 else "Frames"
        raise RenderNonFinite(
            f"{label} {numbers(frames)} turned to NaN/inf {where}{then}.{fix}", [f + 1 for f in frames], step, half
        )

    # ------------------------------------------------------------------ the loop
    def step_conditioning(self, frame_ids: list[int], cfg: bool | None = None) -> dict:
        """The UNet's keywords for `frame_ids` at this step, frame j guided by (negative, prompt j)
        (`cfg`: default the current guidance), with its reference pictures and the caller's
        `cross_attention_kwargs` (ip_adapter.add_image_conditioning).

        Built at every step from the whole video's embeddings and the current guidance, so a
        callback that turns guidance off (or on) or edits the embeddings acts on the next step.
        """
        run = self._call
        cfg = self.do_classifier_free_guidance if cfg is None else cfg
        index = torch.tensor(frame_ids, device=self._execution_device)
        cond = run.cond[index]
        uncond = None
        if cfg:
            if run.uncond is None:  # guidance was off at the start and a callback turned it on
                with text_lora_scale(self, run.attention_kwargs.get("scale")):
                    run.uncond = self.negative_conditioning(run.settings.negative_prompt or None, self._execution_device)
            uncond = run.uncond[index] if len(run.uncond) == len(run.cond) > 1 else run.uncond
        kwargs = self.unet_conditioning(cond, uncond, len(frame_ids), cfg)
        return add_image_conditioning(kwargs, run.image_prompt, frame_ids, cfg, run.attention_kwargs)

    def denoise(
        self,
        latents: torch.Tensor,
        timesteps,
        frame_ids: list[int],
        extra_step_kwargs: dict,
        controller: ValueMappingController | None = None,
        joint: bool = False,
        hold: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
        cache: StepCache | None = None,
    ) -> torch.Tensor:
        """Denoise `latents` (the frames `frame_ids`) along `timesteps`, frame j guided by (negative, prompt j).

        In the joint phase the controller's step is t', the joint steps taken: a repeated
        timestep (PNDM's warm-up) is not a new step. `hold(i, latents)`, when given, runs after
        each scheduler step (start_image.py keeps frame 1 on the user's image that way).
        `cache` carries the deep features on from an earlier call along the same trajectory.
        """
        frames = latents.shape[0]
        labels = timesteps.tolist()
        t_prime = -1
        # cache_interval 1: the UNet as it is; more: DeepCache's deep-feature reuse (deepcache.py).
        unet_step = cache or StepCache(self, self._call.settings.cache_interval)
        first_bad = torch.full((frames,), -1, device=latents.device, dtype=torch.long)
        for i, t in enumerate(timesteps):
            if self.interrupt:
                raise RenderCancelled("Render cancelled.")
            t_prime += i == 0 or labels[i] != labels[i - 1]
            cfg = self.do_classifier_free_guidance
            if controller is not None:
                controller.call = i if joint else None  # the anchor caches' key (two calls share a t' under PNDM)
                controller.num_halves = 2 if cfg else 1
                controller.begin_step(t_prime if joint else None, frames, latents.device)
            unet_kwargs = self.step_conditioning(frame_ids)
            model_in = torch.cat([latents] * 2) if cfg else latents
            model_in = self.scheduler.scale_model_input(model_in, t)
            noise = unet_step(model_in, t, **unet_kwargs)
            if cfg:
                uncond_eps, cond_eps = noise.chunk(2)
                noise = uncond_eps + self.guidance_scale * (cond_eps - uncond_eps)
            latents = self.scheduler.step(noise, t, latents, **extra_step_kwargs, return_dict=False)[0]
            if hold is not None:
                latents = hold(i, latents)
            latents = self._step_end(t, latents)
            # The first step each frame went non-finite, kept on the device: no sync per step.
            finite = torch.isfinite(latents).flatten(1).all(1)
            first_bad = torch.where(~finite & (first_bad < 0), self._call.steps_done - 1, first_bad)
        if controller is not None:
            controller.begin_step(None, frames, latents.device)
            controller.call = None
        if len(timesteps) and (first_bad >= 0).any():  # one sync per phase or pass
            steps = first_bad.tolist()
            first = min(s for s in steps if s >= 0)
            self._raise_non_finite(
                [f for f, s in zip(frame_ids, steps) if s == first], first, [f for f, s in zip(frame_ids, steps) if s > first]
            )
        return latents

    def unet_conditioning(self, cond, uncond, frames: int, cfg: bool) -> dict:
        """The UNet's conditioning keywords for `frames` frames, frame j guided by (uncond, cond[j]);
        the batch is [uncond frames..., cond frames...] as the value-mapping processors expect."""
        embeds = torch.cat([uncond.expand(frames, -1, -1), cond]) if cfg else cond
        return {"encoder_hidden_states": embeds}

    def _step_end(self, t, latents: torch.Tensor) -> torch.Tensor:
        """The step-end callback gets the tensors it asked for; `pipe.phase` and `pipe.frame_ids`
        say which phase and frames the latents are."""
        run = self._call
        run.steps_done += 1
        if run.callback is not None:
            given = {name: self._callback_tensor(name, latents) for name in run.callback_tensor_inputs}
            out = run.callback(self, run.steps_done - 1, t, dict(given)) or {}
            latents = out.pop("latents", latents)
            self._take_callback_tensors(out, given)
        if run.progress is not None:
            run.progress.update()
        return latents

    def _take_callback_tensors(self, out: dict, given: dict) -> None:
        """Keep the embeddings a step-end callback returned changed (the SDXL pipeline has more)."""
        run = self._call
        emb = out.pop("prompt_embeds", given.get("prompt_embeds"))
        if emb is not given.get("prompt_embeds"):  # (halves, frames, ...): the last half is the prompts
            run.cond = emb[-1]
            if emb.shape[0] == 2:
                run.uncond = emb[0]
        neg = out.pop("negative_prompt_embeds", given.get("negative_prompt_embeds"))
        if neg is not given.get("negative_prompt_embeds"):
            run.uncond = neg

    def _callback_tensor(self, name: str, latents: torch.Tensor) -> torch.Tensor | None:
        """What a step-end callback sees under `name`; prompt_embeds is the whole video's CFG batch."""
        run = self._call
        if name == "latents":
            return latents
        if name == "negative_prompt_embeds":
            return run.uncond
        frames = len(run.cond)
        if self.do_classifier_free_guidance and run.uncond is not None:
            return torch.stack([run.uncond.expand(frames, -1, -1).to(run.cond.dtype), run.cond])
        return run.cond[None]

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
    ):
        """`prompt`: one string per frame (a str: the same for `video_length` frames, default 8), or
        `prompt_embeds` (F, 77, D) and `negative_prompt_embeds` (1 or F, 77, D) from `encode_prompt`.
        `image` (path, PIL image, array, tensor) takes frame 1's place (start_image.py). IP-Adapter
        references (ip_adapter.py): `ip_adapter_image` for every frame, `ip_adapter_frame_images` per
        frame or span ({first frame: picture}), `ip_adapter_image_embeds` diffusers' (one row or one per
        frame). `cross_attention_kwargs` as diffusers': "scale", "ip_adapter_masks" (1 row or 1 per frame).
        Render settings: `settings` (a RenderSettings; default: its defaults at this model's size), each
        keyword given replacing its field (steps 50, guidance 7.5, t0 44, t1 47, RVM with tau 4, ...)."""
        given = {k: v for k, v in locals().items() if k in SETTING_ARGUMENTS and v is not None}
        settings = self.render_settings(settings, **given)
        prompts, video_length = self._frame_prompts(prompt, prompt_embeds, video_length)
        embeddings = (prompt_embeds, negative_prompt_embeds) if prompt_embeds is not None else None
        tensor_inputs = callback_tensor_inputs(callback_on_step_end, callback_on_step_end_tensor_inputs)
        self.check_inputs(prompts, settings, embeddings, video_length=video_length, output_type=output_type,
                          callback_on_step_end_tensor_inputs=tensor_inputs)
        video_length = len(prompts) if prompts is not None else video_length

        run = self._start_call(settings, generator, controller, callback_on_step_end, tensor_inputs, cross_attention_kwargs)
        try:
            self._encode_frames(run, prompts, embeddings, video_length, (ip_adapter_image, ip_adapter_image_embeds, ip_adapter_frame_images))
            self._plan_steps(run, video_length, image)
            with installed_value_mapping(self.unet, run.controller, self.attention_blocks(settings), self._value_mapping_processors), \
                    self.progress_bar(total=self.num_timesteps) as run.progress:
                first = self._first_frame_phase(run, image, latents)
                out_latents = run_passes(run.passes, functools.partial(self._joint_pass, run, first), run.controller,
                                         run.joint_steps, self._execution_device)
        finally:
            self._end_call(run)

        frames = self._output_frames(out_latents, output_type)
        self.maybe_free_model_hooks()
        if not return_dict:
            return (frames, None)
        return DirecT2VPipelineOutput(frames=frames, anchor_cache_bytes=run.controller.last_cache_bytes)

    # ------------------------------------------------------------------ the call's steps
    def _start_call(self, settings, generator, controller, callback, tensor_inputs, attention_kwargs=None) -> RenderCall:
        """The call's shared state; guidance, interrupt and step count stay on the pipeline, where
        diffusers' callbacks read and change them."""
        self._guidance_scale = settings.guidance_scale
        self._interrupt = False
        self._num_timesteps = 0
        self._call = RenderCall(
            settings, generator, controller or self.value_mapping_controller, callback=callback,
            callback_tensor_inputs=list(tensor_inputs or ["latents"]), attention_kwargs=dict(attention_kwargs or {}),
        )
        return self._call

    def _encode_frames(self, run: RenderCall, prompts, embeddings, video_length: int, references=(None, None, None)) -> None:
        """Step 0: the whole video's conditioning: the frame prompts', the negative prompt's and the
        IP-Adapter references' (`references`: ip_adapter_image, _image_embeds, _frame_images)."""
        negative = run.settings.negative_prompt or None
        prompt_embeds, negative_prompt_embeds = embeddings or (None, None)
        if prompt_embeds is not None:  # one row: every frame's
            prompt_embeds = prompt_embeds.expand(video_length, -1, -1)
        device, cfg = self._execution_device, self.do_classifier_free_guidance
        with text_lora_scale(self, run.attention_kwargs.get("scale")):
            run.cond, run.uncond = self.frame_conditioning(prompts, negative, prompt_embeds, negative_prompt_embeds, device, cfg)
        latent_size = (run.settings.height // self.vae_scale_factor, run.settings.width // self.vae_scale_factor)
        run.image_prompt = prepare_image_prompt(self, video_length, latent_size, device, run.cond.dtype, cfg, *references)
        run.attention_kwargs = frame_attention_kwargs(self, run.attention_kwargs, video_length)

    def frame_conditioning(self, prompts, negative_prompt, prompt_embeds, negative_prompt_embeds, device, cfg):
        """(cond, uncond) in the form `unet_conditioning` takes; SD 1.5's are the text embeddings."""
        cond, uncond = self.encode_prompt(prompts, device, cfg, negative_prompt, prompt_embeds, negative_prompt_embeds)
        dtype = self.text_encoder.dtype if self.text_encoder is not None else self.unet.dtype
        return cond.to(dtype), uncond.to(dtype) if uncond is not None else None

    def negative_conditioning(self, negative_prompt: str | None, device):
        """The negative prompt's conditioning alone (guidance turned on mid-render by a callback)."""
        return self._encode_texts([negative_prompt or ""], device)

    def _plan_steps(self, run: RenderCall, video_length: int, image) -> None:
        """The timesteps, the passes, the value mapping's draws and the number of UNet steps."""
        s, device = run.settings, self._execution_device
        self.scheduler.set_timesteps(s.num_inference_steps, device=device)
        check_timesteps(self.scheduler, s.num_inference_steps)
        run.timesteps = self.scheduler.timesteps
        run.scheduler_before = copy.deepcopy(self.scheduler)
        joint_labels = self.joint_scheduler(self.scheduler, run.timesteps[-s.t1 - 1 :])[1].tolist()
        run.joint_steps = distinct_steps(joint_labels)
        run.passes = plan_passes(video_length, s.frames_per_pass, s.chunking)
        if image is None:
            single = len(run.timesteps) - s.t1 - 1 + (s.t1 - s.t0)
        else:  # the picture replaces frame 1's own phase; inversion costs one UNet call per step up
            single = len(set(run.timesteps[-s.t1 - 1 :].tolist())) if s.image_mode == "invert" else 0
        self._num_timesteps = single + len(joint_labels) * len(run.passes)
        run.extra_step_kwargs = self.prepare_extra_step_kwargs(run.generator, s.eta)
        if run.controller is self.value_mapping_controller:
            # One controller per pipeline, reconfigured per render: the processors (and a
            # compiled UNet's graphs) stay the same objects from one render to the next.
            g = run.generator
            seed = g.initial_seed() if isinstance(g, torch.Generator) else 0
            run.controller.configure(s.value_mapping, s.rvm_period, float(s.dsf_quantile), random_draws(seed, run.joint_steps))

    def _first_frame_phase(self, run: RenderCall, image, latents) -> FirstFrame:
        """Steps 1-2: frame 1 alone from noise (or the user's picture) to T[-t1-1], then on to T[-t0-1]."""
        s, ts, device = run.settings, run.timesteps, self._execution_device
        run.frame_ids = [0]
        if image is not None:
            run.phase = "start image"
            start = prepare_start_frame(
                self, image, strength=s.image_strength, mode=s.image_mode, width=s.width, height=s.height,
                timesteps=ts, t0=s.t0, t1=s.t1, generator=run.generator,
                unet_kwargs=self.step_conditioning([0], cfg=False),
                device=device, dtype=run.cond.dtype, on_step=lambda i, t, x: self._step_end(t, x),
            )
            first = FirstFrame(start.latent_at(ts[-s.t1 - 1]), start.latent_at(ts[-s.t0 - 1]), copy.deepcopy(self.scheduler), start)
        else:
            run.phase = "first frame"
            x = self.prepare_latents(1, s.height, s.width, run.cond.dtype, device, run.generator, latents)
            # One trajectory in two calls: the deep-feature cache carries on across the split.
            cache = StepCache(self, s.cache_interval)
            x1_t1 = self.denoise(x, ts[: -s.t1 - 1], [0], run.extra_step_kwargs, run.controller, cache=cache)
            saved = copy.deepcopy(self.scheduler)
            x1_t0 = self.denoise(x1_t1, ts[-s.t1 - 1 : -s.t0 - 1], [0], run.extra_step_kwargs, run.controller, cache=cache)
            first = FirstFrame(x1_t1, x1_t0, saved)
        # T2V-Z's chunking reseeds the generator for every chunk, so every chunk gets the same
        # re-noise draws; frame 1's phase is deterministic, so restoring this state is the same.
        if len(run.passes) > 1 and s.chunking == "t2vz" and isinstance(run.generator, torch.Generator):
            first.generator_state = run.generator.get_state()
        return first

    def _start_latents(self, run: RenderCall, first: FirstFrame, frame_ids: list[int]) -> torch.Tensor:
        """Steps 3-4 for the given frames: frame 1's latent at T[-t0-1], copied (and warped), re-noised
        to T[-t1-1]; frame 0 re-enters from its own latent at T[-t1-1]."""
        s, ts = run.settings, run.timesteps
        others = [f for f in frame_ids if f != 0]
        parts = [first.at_t1] if 0 in frame_ids else []
        if others:
            copies = self.warp_copies(first.at_t0, others, s.motion_field_strength_x, s.motion_field_strength_y)
            parts.append(self.renoise(copies, ts[-s.t0 - 1].item(), ts[-s.t1 - 1].item(), run.generator))
        return torch.cat(parts)

    def _joint_pass(self, run: RenderCall, first: FirstFrame, frame_ids: list[int], controller) -> torch.Tensor:
        """Step 5 for the frames of one pass, from the scheduler state frame 1 had at T[-t1-1]."""
        self.scheduler, joint_ts = self.joint_scheduler(first.scheduler, run.timesteps[-run.settings.t1 - 1 :])
        run.phase, run.frame_ids = pass_label(frame_ids, run.passes), list(frame_ids)
        if first.generator_state is not None:
            run.generator.set_state(first.generator_state)
        x = self._start_latents(run, first, frame_ids)
        hold = self.start_image_hold(first.start, frame_ids, joint_ts) if first.start is not None else None
        return self.denoise(x, joint_ts, frame_ids, run.extra_step_kwargs, controller, joint=True, hold=hold)

    def _end_call(self, run: RenderCall) -> None:
        """Nothing of the call stays referenced from the pipeline (after an out-of-memory error
        its memory must be free before the caller reports it)."""
        run.controller.finish()
        if run.scheduler_before is not None:
            self.scheduler = run.scheduler_before
        self._call = None

    def _output_frames(self, latents: torch.Tensor, output_type: str):
        if output_type == "latent":
            return latents
        images = self.decode_latents(latents)
        if output_type == "pt":
            return images
        frames = images.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)
        return self.numpy_to_pil(frames) if output_type == "pil" else frames

    @staticmethod
    def _frame_prompts(prompt, prompt_embeds, video_length) -> tuple[list[str] | None, int | None]:
        """(prompts or None with embeddings, the frame count): a str prompt, like one row of
        prompt_embeds, is every frame's, for `video_length` frames (default 8)."""
        if prompt is not None and prompt_embeds is not None:
            raise SettingsError("Give either prompt or prompt_embeds, not both.")
        if prompt_embeds is not None:
            return None, video_length or (8 if prompt_embeds.shape[0] == 1 else prompt_embeds.shape[0])
        if prompt is None:
            raise PromptError("No frame prompts: give at least one.")
        if isinstance(prompt, str):
            return [prompt] * (video_length or 8), video_length or 8
        return list(prompt), video_length


def check_embeddings(prompt_embeds, negative_prompt_embeds, video_length: int) -> None:
    """diffusers' prompt_embeds (1 or F, tokens, dim) and negative_prompt_embeds (1 or F, tokens, dim)."""
    if prompt_embeds.ndim != 3:
        raise SettingsError(f"prompt_embeds must be (frames, tokens, dim); got shape {tuple(prompt_embeds.shape)}.")
    if prompt_embeds.shape[0] not in (1, video_length):
        raise PromptError(f"video_length is {video_length} but prompt_embeds holds {prompt_embeds.shape[0]} frames.")
    if negative_prompt_embeds is not None and (
        negative_prompt_embeds.shape[0] not in (1, video_length) or negative_prompt_embeds.shape[1:] != prompt_embeds.shape[1:]
    ):
        raise SettingsError(
            f"negative_prompt_embeds must be (1 or {video_length}, {', '.join(map(str, prompt_embeds.shape[1:]))}); "
            f"got {tuple(negative_prompt_embeds.shape)}."
        )


@contextlib.contextmanager
def text_lora_scale(pipe, scale: float | None):
    """`cross_attention_kwargs["scale"]` on the text encoders' LoRA layers while they encode, as
    diffusers' SD pipelines apply it (the UNet scales its own in its forward)."""
    encoders = [e for e in (getattr(pipe, "text_encoder", None), getattr(pipe, "text_encoder_2", None)) if e is not None]
    if scale is None or not USE_PEFT_BACKEND or not isinstance(pipe, StableDiffusionLoraLoaderMixin):
        yield
        return
    for encoder in encoders:
        scale_lora_layers(encoder, scale)
    try:
        yield
    finally:
        for encoder in encoders:
            unscale_lora_layers(encoder, scale)


def callback_tensor_inputs(callback, names: list[str] | None) -> list[str] | None:
    """The tensors a step-end callback asks for: a diffusers PipelineCallback names its own."""
    if isinstance(callback, (PipelineCallback, MultiPipelineCallbacks)):
        return callback.tensor_inputs
    return names


def pass_label(frame_ids: list[int], passes: list[Pass]) -> str:
    """"joint" in one pass, else the frames a pass adds: "frames 9-12 of 24" (t2vz chunks repeat frame 0 in front)."""
    if len(passes) == 1:
        return "joint"
    total = max(max(p.frames) for p in passes) + 1
    first = frame_ids[1] if len(frame_ids) > 1 and frame_ids[0] == 0 and frame_ids[1] != 1 else frame_ids[0]
    return f"frames {first + 1}-{frame_ids[-1] + 1} of {total}"


def distinct_steps(labels: list[int]) -> int:
    """Steps in a timestep sequence, a repeat of the previous timestep not counted."""
    return sum(1 for i, t in enumerate(labels) if i == 0 or t != labels[i - 1])

