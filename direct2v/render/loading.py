"""Model loading: real Stable Diffusion weights (hub id, local folder or single file), or a
tiny randomly initialised model built in-process for tests, CI and offline use.

Loaded pipelines are kept per process, keyed by (model, config, LoRA, device, dtype), at
most `max_pipelines()` of them (DIRECT2V_MAX_PIPELINES, `--max-pipelines`): the page, the
CLI and the evaluation all ask here and the weights load once.
"""

from __future__ import annotations

import inspect
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from collections.abc import Collection
from typing import Callable

import torch

from .. import hub
from ..errors import without_server_details
from ..settings import DEFAULT_MODEL, PRECISIONS, SettingsError
from .errors import ModelLoadCancelled, ModelLoadError

TINY = "tiny"
TINY_SDXL = "tiny-sdxl"
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
_cache: OrderedDict[tuple[str, ...], object] = OrderedDict()  # least recently used first
_lock = threading.Lock()
_loading: dict[tuple[str, ...], threading.Lock] = {}  # one per model key, held while it loads


def _env_max_pipelines() -> int:
    try:
        return max(1, int(os.environ.get("DIRECT2V_MAX_PIPELINES", "2")))
    except ValueError:
        return 2


_max_pipelines = _env_max_pipelines()


def precision_dtype(name: str) -> torch.dtype | None:
    """The one map from a precision (settings.PRECISIONS: --precision, the page, the suite) to a
    dtype: "fp16"/"fp32" name one; "auto" (None) leaves it to load_pipeline."""
    if name not in PRECISIONS:
        raise SettingsError(f"Unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}.")
    return {"fp16": torch.float16, "fp32": torch.float32}.get(name)


def default_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def tiny_tokenizer():
    """A CLIP tokenizer built without files: characters as tokens (no merges).

    transformers 4.x's CLIPTokenizer reads only files; there the vocabulary goes through a
    temporary folder (the GPU benchmarks run on images with either major version)."""
    from transformers import CLIPTokenizer

    chars = [chr(c) for c in range(33, 127)]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    kwargs = dict(model_max_length=77, pad_token="<|endoftext|>")
    try:
        return CLIPTokenizer(vocab=vocab, merges=[], **kwargs)
    except TypeError:  # transformers 4.x: vocab_file and merges_file are required
        import json
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            vocab_file, merges_file = Path(tmp) / "vocab.json", Path(tmp) / "merges.txt"
            vocab_file.write_text(json.dumps(vocab))
            merges_file.write_text("#version: 0.2\n")
            return CLIPTokenizer(str(vocab_file), str(merges_file), **kwargs)


def tiny_components(seed: int = 0) -> dict:
    """Tiny random SD-1.5-shaped components: same block layout (attention in up_blocks.1-3), 64x64 images."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=2,
        norm_num_groups=8,
    )
    # At default init the tiny UNet's self-attention barely moves its output; a larger output
    # projection makes value mapping change the frames measurably, which the tests rely on.
    with torch.no_grad():
        for name, module in unet.named_modules():
            if name.endswith("attn1"):
                module.to_out[0].weight.mul_(10.0)
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 8, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        sample_size=64,
    )
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "scheduler": scheduler}


def tiny_sdxl_components(seed: int = 0) -> dict:
    """Tiny random SDXL-shaped components: SDXL's block layout (no attention in down_blocks.0 and
    up_blocks.2, deeper transformers lower down), two text encoders, size conditioning, 64x64 images."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 1, 2),
        attention_head_dim=(2, 4, 8),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 32,  # six size/crop numbers + pooled text
        cross_attention_dim=64,  # both text encoders' widths, concatenated
        norm_num_groups=8,
    )
    with torch.no_grad():  # as in tiny_components: make value mapping visible in the output
        for name, module in unet.named_modules():
            if name.endswith("attn1"):
                module.to_out[0].weight.mul_(10.0)
    vae = tiny_components(seed)["vae"]
    vae.register_to_config(scaling_factor=0.13025)  # SDXL's VAE scale
    encoders = []
    for i, cls in enumerate((CLIPTextModel, CLIPTextModelWithProjection)):
        torch.manual_seed(seed + 2 + i)
        config = CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
            num_attention_heads=4, num_hidden_layers=3, projection_dim=32, vocab_size=len(tiny_tokenizer()),
            max_position_embeddings=77,
        )
        encoders.append(cls(config))
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
        set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading",
    )
    return {
        "unet": unet, "vae": vae, "scheduler": scheduler,
        "text_encoder": encoders[0], "text_encoder_2": encoders[1],
        "tokenizer": tiny_tokenizer(), "tokenizer_2": tiny_tokenizer(),
    }


def load_pipeline(
    model: str = DEFAULT_MODEL,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    *,
    config: str | None = None,
    lora: str | None = None,
    lora_scale: float = 1.0,
    on_stage: Callable[[str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    token: str | bool | None = None,
    listed: Collection[str] | None = None,
):
    """The pipeline for `model` (hub id, local folder, .safetensors/.ckpt file, "tiny" or
    "tiny-sdxl"), loaded once and kept: at most `max_pipelines()` at a time, the least recently
    used dropped first. SDXL models get DirecT2VSDXLPipeline (family.py).

    `config`: a diffusers model folder (its configs are enough) or hub id describing a single
    file's model; a local folder makes a single file load offline. `lora`: LoRA weights (file,
    folder or hub id) applied at `lora_scale`; another scale reuses the loaded pipeline.
    `on_stage` hears each stage as it starts; `should_cancel` is asked before each one, and a
    cancelled load raises ModelLoadCancelled and keeps nothing.

    `token`: None for the library's default (HF_TOKEN or the saved login), False for no token
    (a name a visitor typed), or a token. `listed`: on a public server, the owner's names; a
    model, config or LoRA outside them is refused before any request or file check (hub.py).
    """
    model = (model or "").strip()
    if not model:
        raise ModelLoadError("No model given: pass a Hugging Face Hub id, a local folder, a .safetensors file, or 'tiny'.")
    config = (config or "").strip() or None
    lora = (lora or "").strip() or None
    if not all(hub.is_listed(name, listed) for name in (model, config, lora)):
        raise ModelLoadError(hub.NOT_LISTED.format(what="models and LoRAs"))
    if lora:
        _check_lora_scale(lora_scale)
    device = torch.device(device) if device is not None else default_device()
    if dtype is None:
        dtype = torch.float16 if (device.type == "cuda" and model not in (TINY, TINY_SDXL)) else torch.float32
    key = (model, config or "", lora or "", str(device), str(dtype))

    def stage(text: str) -> None:
        if should_cancel is not None and should_cancel():
            raise ModelLoadCancelled(f"Loading {model} was cancelled.")
        if on_stage is not None:
            on_stage(text)

    with _lock:
        pipe = _cache.get(key)
        if pipe is not None:
            _cache.move_to_end(key)
        key_lock = _loading.setdefault(key, threading.Lock())
    if pipe is None:
        # One lock per model: a second caller of the same model waits for the first load, while
        # cache hits and other models do not wait for it.
        with key_lock:
            with _lock:
                pipe = _cache.get(key)
            if pipe is None:
                return _keep(key, _build_pipeline(model, dtype, config, lora, lora_scale, device, stage, token))
    if lora:
        set_lora_scale(pipe, lora_scale)
    return pipe


def _build_pipeline(model: str, dtype, config, lora, lora_scale: float, device: torch.device, stage, token):
    """Load `model` (and its LoRA), move it to `device`; `stage(text)` before each step may cancel."""
    from .pipeline import DirecT2VPipeline
    from .sdxl import DirecT2VSDXLPipeline

    stage(f"Loading {model}")
    if model == TINY:
        pipe = DirecT2VPipeline(**tiny_components())
    elif model == TINY_SDXL:
        pipe = DirecT2VSDXLPipeline(**tiny_sdxl_components())
    else:
        pipe = _load_weights(None, model, dtype, config=config, token=token)
    pipe.lora_name = None
    if lora:
        stage(f"Applying LoRA {lora}")
        _apply_lora(pipe, lora, lora_scale, token)
        pipe.lora_name = lora
    stage(f"Moving {model} to {device.type}")
    pipe = pipe.to(device)
    stage("Ready")
    pipe.set_progress_bar_config(disable=True)
    pipe.model_name = model
    return pipe


def _keep(key: tuple, pipe):
    """Cache a loaded pipeline, dropping the least recently used beyond `max_pipelines()`."""
    with _lock:
        _cache[key] = pipe
        evicted = len(_cache) > _max_pipelines
        while len(_cache) > _max_pipelines:
            _cache.popitem(last=False)
    if evicted:
        _release_memory()
    return pipe


def max_pipelines() -> int:
    return _max_pipelines


def set_max_pipelines(n: int) -> None:
    """Keep at most `n` >= 1 loaded pipelines (an SD 1.5 pipeline is about 2.5 GB in fp16, SDXL about 7)."""
    global _max_pipelines
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"The most pipelines kept must be a whole number of at least 1 (got {n!r}).")
    with _lock:
        _max_pipelines = n
        while len(_cache) > n:
            _cache.popitem(last=False)
    _release_memory()


def _release_memory() -> None:
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


LORA_ADAPTER = "lora"


def _apply_lora(pipe, lora: str, scale: float, token: str | bool | None = None) -> None:
    """diffusers' load_lora_weights + set_adapters (PEFT), from a file, a folder or a hub id."""
    load_lora_adapter(pipe, lora, LORA_ADAPTER, token)
    set_lora_scale(pipe, scale)


def load_lora_adapter(pipe, lora: str, adapter: str, token: str | bool | None = None) -> None:
    """LoRA weights (a file, a folder or a hub id) into the pipeline as PEFT adapter `adapter`."""
    path = Path(os.path.expanduser(lora))
    try:
        if path.is_file():
            pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=adapter)
        elif not path.exists() and (lora.startswith((".", "/", "~")) or lora.count("/") > 1 or lora.endswith(".safetensors")):
            raise ModelLoadError(f"No such LoRA file or folder: {lora}.")
        elif path.exists():
            pipe.load_lora_weights(str(path), adapter_name=adapter)
        else:
            # diffusers guesses a repository's weight file with the default token whatever
            # `token` says, so with a token of our own the file is found here first.
            name = {} if token is None else {"weight_name": _lora_file_in_repo(lora, token)}
            pipe.load_lora_weights(lora, adapter_name=adapter, **name, **hub.token_kwargs(token))
    except ModelLoadError:
        raise
    except Exception as e:
        raise ModelLoadError(f"Could not load the LoRA weights {lora!r}: {_load_failure_reason(e).rstrip('.')}.") from e


def _lora_file_in_repo(repo: str, token: str | bool) -> str | None:
    """The LoRA .safetensors file at the top of a Hub repository (diffusers' preference:
    pytorch_lora_weights.safetensors, else the first), asked for with `token`."""
    from huggingface_hub import model_info

    names = [s.rfilename for s in model_info(repo, token=token).siblings or []
             if s.rfilename.endswith(".safetensors") and "/" not in s.rfilename
             and not any(w in s.rfilename for w in ("scheduler", "optimizer", "checkpoint"))]
    preferred = [n for n in names if n.endswith("pytorch_lora_weights.safetensors")]
    return (preferred or names or [None])[0]


def _check_lora_scale(scale: float) -> None:
    from ..settings import MAX_LORA_SCALE

    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not -MAX_LORA_SCALE <= scale <= MAX_LORA_SCALE:
        raise ModelLoadError(f"The LoRA scale must be a number between {-MAX_LORA_SCALE:g} and {MAX_LORA_SCALE:g} (got {scale!r}).")


def set_lora_scale(pipe, scale: float) -> None:
    """The strength of the pipeline's LoRA (diffusers' set_adapters); nothing to do without one."""
    if LORA_ADAPTER not in _adapters(pipe):
        return
    _check_lora_scale(scale)
    if getattr(pipe, "lora_strength", None) != float(scale):
        pipe.set_adapters([LORA_ADAPTER], adapter_weights=[float(scale)])
        pipe.lora_strength = float(scale)  # (diffusers' own `lora_scale` is another thing)


def _adapters(pipe) -> list[str]:
    try:
        return [a for names in pipe.get_list_adapters().values() for a in names]
    except Exception:
        return []


def _load_weights(cls, model: str, dtype: torch.dtype, config: str | None = None, token: str | bool | None = None):
    """`cls` None: the pipeline the model's own metadata asks for (SD or SDXL)."""
    from .family import SDXL, model_family
    from .pipeline import DirecT2VPipeline
    from .sdxl import DirecT2VSDXLPipeline

    path = Path(os.path.expanduser(model))
    single = path.is_file() and path.suffix in SINGLE_FILE_SUFFIXES
    # No network: read the cache at once instead of waiting out the Hub client's retries (hub.py).
    cache_only = hub.local_only(config) if single and config else (not single and hub.local_only(model))
    try:
        if path.is_file() and not single:
            raise ModelLoadError(f"{model} is a file but not a .safetensors or .ckpt checkpoint.")
        if not single and path.exists() and not (path / "model_index.json").is_file():
            raise ModelLoadError(f"{model} is a folder but not a diffusers model (no model_index.json).")
        if not single and not path.exists() and (model.startswith((".", "/", "~")) or model.count("/") > 1
                                                  or path.suffix in SINGLE_FILE_SUFFIXES):
            raise ModelLoadError(f"No such model folder or file: {model}.")
        if config and not single:
            raise ModelLoadError("A model config only applies to single-file (.safetensors/.ckpt) models.")
        if cls is None:
            with warnings.catch_warnings():
                # diffusers' load_config passes huggingface_hub an argument it has deprecated;
                # the warning would be a second stderr line next to our one-line error.
                warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*")
                family = model_family(model, local_files_only=cache_only and not single, token=token)
            cls = DirecT2VSDXLPipeline if family == SDXL else DirecT2VPipeline
        kwargs = dict(torch_dtype=dtype, **hub.token_kwargs(token))
        if cache_only:
            kwargs["local_files_only"] = True
        if not issubclass(cls, DirecT2VSDXLPipeline):  # SDXL has no safety checker
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        with warnings.catch_warnings():
            # Newer diffusers renamed torch_dtype to dtype; the old name works across the supported range.
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*")
            if single:
                return _from_single_file(cls, path, config, kwargs)
            return _from_pretrained(cls, model, dtype, kwargs)
    except ModelLoadError:
        raise
    except Exception as e:  # hub errors, no network, corrupt files: one readable line
        offline = hub.offline_mode()
        reason = _load_failure_reason(e)
        if cache_only:
            reason = "it is not on this machine and the Hub cannot be reached"
        if single and not config:
            hint = (" A single file needs its model's configs: they come from the Hub, or give a local diffusers "
                    "folder of the same kind of model as its config (--model-config) to load it offline.")
        elif offline:
            hint = " The Hub is set offline (HF_HUB_OFFLINE=1): unset it to download the model."
        else:
            hint = " Check the model id, your network connection, and (for gated models) HF_TOKEN."
        # The whole first line: a cut reason ("...pass 'local_files.") helps nobody.
        raise ModelLoadError(f"Could not load Stable Diffusion model {model!r}: {reason.rstrip('.')}.{hint}") from e


def _from_single_file(cls, path: Path, config: str | None, kwargs: dict):
    """diffusers' single-file loader reads the original (CompVis/SGM) layout into SD or SDXL
    components; this project's pipeline is built from them."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from .sdxl import DirecT2VSDXLPipeline

    loader = StableDiffusionXLPipeline if issubclass(cls, DirecT2VSDXLPipeline) else StableDiffusionPipeline
    extra = {}
    if config:
        folder = Path(os.path.expanduser(config))
        if folder.exists() and not (folder / "model_index.json").is_file():
            raise ModelLoadError(f"The model config {config} is not a diffusers model folder (no model_index.json).")
        extra = {"config": str(folder), "local_files_only": True} if folder.exists() else {"config": config}
    base = loader.from_single_file(str(path), **{**kwargs, **extra})
    accepted = inspect.signature(cls.__init__).parameters
    parts = {k: v for k, v in base.components.items() if k in accepted}
    if "force_zeros_for_empty_prompt" in accepted and "force_zeros_for_empty_prompt" in base.config:
        parts["force_zeros_for_empty_prompt"] = base.config.force_zeros_for_empty_prompt
    if "requires_safety_checker" in accepted:
        parts.update(safety_checker=None, requires_safety_checker=False)
    return cls(**parts)


def _from_pretrained(cls, model: str, dtype: torch.dtype, kwargs: dict):
    """In fp16, the fp16 weights where the folder or repository has them (half the download, no cast)."""
    if dtype != torch.float16:
        return cls.from_pretrained(model, **kwargs)
    path = Path(os.path.expanduser(model))
    if path.is_dir():
        has_variant = any(path.glob("*/*.fp16.*"))
        return cls.from_pretrained(str(path), **kwargs, **({"variant": "fp16"} if has_variant else {}))
    try:
        return cls.from_pretrained(model, **kwargs, variant="fp16")
    except (ValueError, OSError) as e:
        if "variant" not in str(e):
            raise
        return cls.from_pretrained(model, **kwargs)  # the repository has no fp16 files


def _load_failure_reason(e: BaseException) -> str:
    """A short, whole reason. diffusers' own text for a model that is neither cached nor
    reachable runs to four sentences and points at a stack trace the user never sees."""
    text = str(e).strip()
    names = {type(x).__name__ for x in (e, e.__cause__, e.__context__) if x is not None}
    if "RepositoryNotFoundError" in names:
        return "there is no such model on the Hub (or it is private or gated)"
    if "not fully cached locally" in text or "LocalEntryNotFoundError" in names:
        return "it is not in the local cache and the Hub could not be reached"
    return without_server_details(text.splitlines()[0]) if text else type(e).__name__


def clear_cache() -> None:
    with _lock:
        _cache.clear()
