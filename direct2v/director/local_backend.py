"""A chat model run in-process through transformers: the default director without a key.

The model (a Hub id or a local folder; default `DEFAULT_LOCAL_MODEL`, or $DIRECT2V_LOCAL_MODEL)
is loaded once per process and kept in a module-level cache: loading a 4B model takes far
longer than directing, and the page directs many times. It goes on the GPU when the GPU has
room for it beside Stable Diffusion, else on the CPU (`plan_placement` says which, and why).

Every answer is produced under constrained decoding (constrained.py): the JSON shape, the
exact frame count and non-empty, bounded frames are enforced while the tokens are chosen.
Decoding is greedy, so a request always yields the same answer; an explicit re-direct
(`fresh=True`) samples instead, for a new script.

When the model cannot be loaded (not downloaded and no network, HF_HUB_OFFLINE set, no disk, a
bad folder, xgrammar not installed), the director falls back to the built-in writer: every
result then names the built-in writer as its author and says why and how to fix it (a local
model folder, or choosing the built-in writer) in `DirectorResult.fallback`, on every call
it stands in; `fallback=False` raises DirectorModelError instead.
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
from dataclasses import dataclass
from collections.abc import Collection
from typing import Any

from .. import hub
from ..errors import without_server_details
from . import constrained, prompts, vision
from .base import LLMDirector
from .errors import AnswerCutOff, DirectorConfigError, DirectorError, DirectorModelError, first_sentence, one_line

# Apache-2.0, ungated, 4.0B parameters, instruct-only (no thinking block before the answer);
# the README's "Local director" section gives the evidence for this choice.
DEFAULT_LOCAL_MODEL = "Qwen/Qwen3-4B-Instruct-2507"
ENV_MODEL = "DIRECT2V_LOCAL_MODEL"
# GPU memory left free for Stable Diffusion beside the director: SD 1.5/2.1 in fp16 (about
# 2.6 GB of weights) plus the latents and attention of a batch of frames.
SD_RESERVE_BYTES = 6 * 2**30

_MODELS: dict[tuple[str, str, str], tuple[Any, Any]] = {}
# The processor of a vision-language model (its config has a vision part), by the same key:
# such a model sees the start picture (`LocalDirector.sees_images`).
_PROCESSORS: dict[tuple[str, str, str], Any] = {}
_GRAMMARS: dict[tuple[str, str, str], constrained.Grammars] = {}
_FAILED: dict[str, str] = {}  # model -> why it could not be loaded (not retried in this process)
# How to get the model the user meant, or to stop being told: the end of every fallback notice.
FALLBACK_FIX = (f"give a downloaded model folder (--llm-model PATH, the page's model box, or {ENV_MODEL}), "
                "or choose the built-in writer (offline) to silence this notice")
_PLANS: dict[tuple[str, str | None, str | None], "Placement"] = {}
_LOAD_LOCK = threading.Lock()


def default_local_model() -> str:
    return os.environ.get(ENV_MODEL, "").strip() or DEFAULT_LOCAL_MODEL


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: str
    why: str  # one clause for the page: "on the GPU (cuda, bfloat16)" / "on the CPU: ..."


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def estimate_bytes(model: str, dtype: str, token: str | bool | None = None) -> int | None:
    """Parameter bytes of `model` in `dtype`, from its config alone (a meta-device model, no
    weights read); None when the config cannot be read."""
    try:
        import torch

        with hub.MODEL_IMPORTS:  # not alongside the page's model load (hub.py)
            from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

        config = AutoConfig.from_pretrained(model, **hub.token_kwargs(token))
        cls = AutoModelForImageTextToText if _is_vision(config) else AutoModelForCausalLM
        with torch.device("meta"):
            meta = cls.from_config(config)
        count = sum(p.numel() for p in meta.parameters())
    except Exception:
        return None
    return count * getattr(torch, dtype).itemsize


def plan_placement(model: str, device: str | None = None, dtype: str | None = None,
                   token: str | bool | None = None) -> Placement:
    """Where `model` runs: the given device, else the GPU when its free memory holds the model
    (plus a fifth for activations) and still leaves SD_RESERVE_BYTES for Stable Diffusion,
    else the CPU. fp32 on the CPU (half precision is slow or unsupported there)."""
    key = (model, device, dtype)
    if key in _PLANS:
        return _PLANS[key]
    import torch

    why = ""
    if device is None:
        device = "cpu"
        if torch.cuda.is_available():
            gpu_dtype = dtype or ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
            free, _total = torch.cuda.mem_get_info()
            need = estimate_bytes(model, gpu_dtype, token)
            if need is not None and free - 1.2 * need >= SD_RESERVE_BYTES:
                device, dtype = "cuda", gpu_dtype
            else:
                size = _gib(1.2 * need) if need is not None else "an unknown amount"
                why = (f"on the CPU: the GPU has {_gib(free)} free, the model needs {size} "
                       f"and Stable Diffusion about {_gib(SD_RESERVE_BYTES)}")
    if dtype is None:
        dtype = "float32" if device == "cpu" else ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    if not why:
        why = f"on the GPU ({device}, {dtype})" if device.startswith("cuda") else f"on the CPU ({dtype})"
    plan = Placement(device, dtype, why)
    _PLANS[key] = plan
    return plan


def pick_device_and_dtype(device: str | None = None, dtype: str | None = None, model: str | None = None) -> tuple[str, str]:
    plan = plan_placement(model or default_local_model(), device, dtype)
    return plan.device, plan.dtype


def is_loaded(model: str | None = None) -> bool:
    name = model or default_local_model()
    return any(key[0] == name for key in _MODELS)


def loading_message(model: str | None = None, device: str | None = None, dtype: str | None = None,
                    token: str | bool | None = None) -> str | None:
    """The status line while the model loads on first use; None once it is loaded (or known
    not to load)."""
    name = model or default_local_model()
    if is_loaded(name) or name in _FAILED:
        return None
    plan = plan_placement(name, device, dtype, token)
    return f"Loading the local director {name} {plan.why} (first use only; it stays loaded)…"


def load_failure(model: str | None = None) -> str | None:
    """Why `model` could not be loaded in this process, with how to get it; None when it loaded
    or has not been tried (the page then leaves its back-end chooser alone)."""
    return _FAILED.get(model or default_local_model())


def load_chat_model(model: str, device: str | None = None, dtype: str | None = None,
                    token: str | bool | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) for `model`, loaded on first use and reused for the process; `token`
    None is the library's default, False none (a name a visitor typed)."""
    plan = plan_placement(model, device, dtype, token)
    key = (model, plan.device, plan.dtype)
    with _LOAD_LOCK:
        if model in _FAILED:
            raise DirectorModelError(_FAILED[model])
        if key not in _MODELS:
            _MODELS[key], processor = _load(model, plan, token)
            if processor is not None:
                _PROCESSORS[key] = processor
    return _MODELS[key]


def vision_processor(model: str, device: str | None = None, dtype: str | None = None,
                     token: str | bool | None = None) -> Any:
    """The processor of a loaded vision-language model, None for a text-only one."""
    plan = plan_placement(model, device, dtype, token)
    return _PROCESSORS.get((model, plan.device, plan.dtype))


def _is_vision(config: Any) -> bool:
    return getattr(config, "vision_config", None) is not None


def _load(model: str, plan: Placement, token: str | bool | None = None) -> tuple[tuple[Any, Any], Any]:
    """((tokenizer, model), the processor of a vision-language model or None)."""
    import torch

    with hub.MODEL_IMPORTS:  # not alongside the page's model load (hub.py)
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    # No network: read the cache at once instead of waiting out the Hub client's retries.
    cache_only = hub.local_only(model)
    where = {"local_files_only": True} if cache_only else {}
    where.update(hub.token_kwargs(token))
    try:
        import transformers

        # `dtype` replaced `torch_dtype` in transformers 4.56; accept both worlds.
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        tokenizer = AutoTokenizer.from_pretrained(model, **where)
        processor = None
        if _is_vision(AutoConfig.from_pretrained(model, **where)):
            processor = AutoProcessor.from_pretrained(model, **where)
            tokenizer = processor.tokenizer  # the one the processor's image tokens were added to
            lm = AutoModelForImageTextToText.from_pretrained(model, **{dtype_kw: getattr(torch, plan.dtype)}, **where)
        else:
            lm = AutoModelForCausalLM.from_pretrained(model, **{dtype_kw: getattr(torch, plan.dtype)}, **where)
    except (OSError, ValueError, ImportError) as exc:  # missing files, no network, full disk
        if hub.offline_mode() and hub.is_hub_id(model):  # nothing was tried: say why, not "couldn't connect"
            reason = "HF_HUB_OFFLINE is set and it is not in the Hugging Face cache"
        elif cache_only:
            reason = "not on this machine and the Hub cannot be reached"
        else:
            reason = first_sentence(without_server_details(str(exc)), 160)
        why = f"the local model {model!r} cannot be loaded ({reason})"
        _FAILED[model] = why[0].upper() + why[1:]
        raise DirectorModelError(_FAILED[model]) from None
    if getattr(tokenizer, "chat_template", None) is None and getattr(processor, "chat_template", None) is None:
        _FAILED[model] = f"The local model {model!r} has no chat template; use an instruction-tuned chat model"
        raise DirectorModelError(_FAILED[model])
    try:
        lm.to(plan.device).eval()
    except RuntimeError as exc:  # CUDA out of memory, a device that went away
        _FAILED[model] = f"The local model {model!r} does not fit {plan.device} ({one_line(str(exc), 120)})"
        raise DirectorModelError(_FAILED[model]) from None
    return (tokenizer, lm), processor


def grammars_for(model: str, tokenizer: Any, lm: Any) -> constrained.Grammars:
    key = (model, str(lm.device), str(lm.dtype))
    with _LOAD_LOCK:
        if key not in _GRAMMARS:
            width = lm.get_output_embeddings().weight.shape[0]  # the logits' width, padding included
            _GRAMMARS[key] = constrained.Grammars(tokenizer, width, stop_token_ids(tokenizer, lm))
    return _GRAMMARS[key]


def stop_token_ids(tokenizer: Any, lm: Any) -> list[int]:
    ids = getattr(lm.generation_config, "eos_token_id", None)
    ids = list(ids) if isinstance(ids, (list, tuple)) else [ids]
    ids.append(tokenizer.eos_token_id)
    return sorted({int(i) for i in ids if i is not None})


def unload_all() -> None:
    """Forget every loaded model and every failed load (the next use tries again)."""
    with _LOAD_LOCK:
        _MODELS.clear()
        _PROCESSORS.clear()
        _GRAMMARS.clear()
        _FAILED.clear()
        _PLANS.clear()


class LocalDirector(LLMDirector):
    backend = "local"
    default_model = DEFAULT_LOCAL_MODEL
    label = "The local"

    def __init__(
        self,
        model: str | None = None,
        api_key: str | None = None,  # accepted for a uniform make_director call; unused
        base_url: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_new_tokens: int | None = None,
        constrained: bool = True,
        max_frame_chars: int = constrained.MAX_FRAME_CHARS,
        fallback: bool = True,
        token: str | bool | None = None,
        listed: Collection[str] | None = None,
        **options: Any,
    ):
        options.setdefault("max_retries", 0)  # nothing transient to retry in-process
        super().__init__(model or default_local_model(), base_url=None, **options)
        # On a public server only the owner's director models load: refused before any request.
        if not hub.is_listed(self.model, listed):
            raise DirectorConfigError(hub.NOT_LISTED.format(what="director models"))
        self.token = token  # None: the library's default (HF_TOKEN / login); False: none
        self.device, self.dtype = device, dtype
        self.max_new_tokens = max_new_tokens
        self.constrained = bool(constrained)
        self.max_frame_chars = int(max_frame_chars)
        self.fallback = bool(fallback)
        self._writer: Any = None  # the built-in writer, once the model is known not to load
        self._why = ""  # why the model could not be used
        self._sampling = False

    # ------------------------------------------------------------------ fallback
    def _usable(self) -> bool:
        """Load the model (once per process); on failure the built-in writer stands in, and the
        call under way records it as the author and why, on every call (not once per process)."""
        if self._writer is None:
            try:
                if self.constrained and importlib.util.find_spec("xgrammar") is None:
                    raise DirectorModelError("xgrammar is not installed, and the local model writes under its "
                                             "constrained decoding (pip install xgrammar)")
                load_chat_model(self.model, self.device, self.dtype, self.token)
                return True
            except DirectorModelError as err:
                if not self.fallback:
                    raise
                from .offline import OfflineDirector

                self._writer, self._why = OfflineDirector(), str(err).rstrip(".")
        # Every call the writer stands in, not once per process: a page or a CLI run that shows
        # a script must say who wrote it, why, and how to get the model.
        if self._run is not None:
            self._run.backend, self._run.model = self._writer.backend, self._writer.model
            self._run.author, self._run.fallback = self._writer.author(), f"{self._why}; {FALLBACK_FIX}."
        return False

    def _via_writer(self, verb: str, *args: Any) -> Any:
        self._writer._run = self._run  # what the writer notes (no event to stage) goes on this call's record
        try:
            result = getattr(self._writer, verb)(*args)
        finally:
            self._writer._run = None
        self.conversation = self._writer.conversation
        return result

    def _direct(self, user_prompt, num_frames, fps, camera, style):
        if not self._usable():
            return self._via_writer("_direct", user_prompt, num_frames, fps, camera, style)
        return super()._direct(user_prompt, num_frames, fps, camera, style)

    def _double(self, frames, fps, user_prompt, camera, style):
        if not self._usable():
            return self._via_writer("_double", frames, fps, user_prompt, camera, style)
        return super()._double(frames, fps, user_prompt, camera, style)

    def _redirect(self, frames, index, fps, user_prompt, camera, style):
        if not self._usable():
            return self._via_writer("_redirect", frames, index, fps, user_prompt, camera, style)
        # A re-directed row must read differently from the current one; greedy decoding would
        # repeat itself on the retry, so a row re-direct samples.
        self._sampling = True
        try:
            return super()._redirect(frames, index, fps, user_prompt, camera, style)
        finally:
            self._sampling = False

    @property
    def sees_images(self) -> bool:  # type: ignore[override]
        """A vision-language model (one whose config has a vision part) sees the start picture;
        a text-only model and the built-in writer do not."""
        return self._usable() and vision_processor(self.model, self.device, self.dtype, self.token) is not None

    def _cache_request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The shared key plus what shapes this back end's answer: whether decoding is
        constrained, and the frame-length limit the grammar enforces."""
        request = super()._cache_request(*args, **kwargs)
        request.update(constrained=self.constrained, max_frame_chars=self.max_frame_chars)
        return request

    def describe(self) -> str:
        if self._writer is not None:
            return "offline (the built-in writer; the local model could not be loaded)"
        return f"local ({self.model})"

    # ------------------------------------------------------------------ generation
    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        import torch
        from transformers import LogitsProcessorList

        tokenizer, lm = load_chat_model(self.model, self.device, self.dtype, self.token)
        processor = vision_processor(self.model, self.device, self.dtype, self.token)
        if processor is not None:
            inputs = self._vision_inputs(processor, messages).to(lm.device)
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(lm.dtype)
        else:
            inputs = self._chat_inputs(tokenizer, messages).to(lm.device)
        kwargs: dict[str, Any] = {"do_sample": False, "eos_token_id": stop_token_ids(tokenizer, lm)}
        if (self._run is not None and self._run.fresh) or self._sampling:  # an explicit re-direct asks for a new sample, not the greedy answer again
            kwargs.update(do_sample=True, temperature=0.8, top_p=0.95)
        items = num_frames if shape == "frames" else 1
        if self.constrained:
            schema = (constrained.frames_schema(items, self.max_frame_chars) if shape == "frames"
                      else constrained.frame_schema(self.max_frame_chars))
            processor = grammars_for(self.model, tokenizer, lm).processor(schema)
            kwargs["logits_processor"] = LogitsProcessorList([processor])
            # Room for the longest answer the schema admits, so it can never be cut off.
            kwargs["max_new_tokens"] = constrained.token_budget(items, self.max_frame_chars, beats=shape == "frames")
        else:
            # About 60 tokens per frame description plus the JSON around them.
            kwargs["max_new_tokens"] = self._budget or self.max_new_tokens or min(8192, 80 * items + 64)
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            kwargs["pad_token_id"] = tokenizer.eos_token_id
        with torch.inference_mode():
            output = lm.generate(**inputs, **kwargs)
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        ended = len(new_tokens) > 0 and int(new_tokens[-1]) in kwargs["eos_token_id"]
        if not ended and len(new_tokens) >= kwargs["max_new_tokens"]:
            raise AnswerCutOff(text, len(new_tokens), kwargs["max_new_tokens"])
        return text

    @staticmethod
    def _vision_inputs(processor: Any, messages: list[prompts.Message]) -> Any:
        """A vision-language model's inputs: every turn as content parts (the processors' chat
        format), the start picture (the JPEG the other back ends send) before its turn's text."""
        from PIL import Image

        turns = []
        for m in messages:
            parts: list[dict[str, Any]] = []
            image = vision.message_image(m)
            if image is not None:
                parts.append({"type": "image", "image": Image.open(io.BytesIO(image.data)).convert("RGB")})
            parts.append({"type": "text", "text": m["content"]})
            turns.append({"role": m["role"], "content": parts})
        return processor.apply_chat_template(
            turns, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )

    @staticmethod
    def _chat_inputs(tokenizer: Any, messages: list[prompts.Message]) -> Any:
        def encode(turns: list[prompts.Message]) -> Any:
            return tokenizer.apply_chat_template(
                turns, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )

        try:
            return encode(messages)
        except Exception as exc:  # jinja2 TemplateError: e.g. "System role not supported" (Gemma)
            if type(exc).__name__ != "TemplateError" or messages[0]["role"] != "system":
                raise
            merged = [dict(m) for m in messages[1:]]
            merged[0]["content"] = messages[0]["content"] + "\n\n" + merged[0]["content"]
            return encode(merged)

    def _translate(self, exc: BaseException) -> DirectorError | None:
        name = type(exc).__name__
        if name == "OutOfMemoryError" or "out of memory" in str(exc).lower():
            return DirectorModelError(
                f"The local model {self.model!r} ran out of memory; pick a smaller model or free the GPU."
            )
        if isinstance(exc, (RuntimeError, ValueError, OSError)):
            return DirectorModelError(f"The local model {self.model!r} failed: {one_line(str(exc), 160)}.")
        return None
