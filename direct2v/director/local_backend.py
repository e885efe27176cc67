"""A Hugging Face chat model run in-process through transformers.

The model (a Hub id or a local folder) is loaded once per process and kept in a module-level
cache keyed by (model, device, dtype): loading a 1-3B model takes far longer than directing,
and the page directs many times. cuda when available (bf16 where supported, else fp16), fp32
on CPU. Decoding is greedy, so a given prompt always yields the same answer (and the response
cache stays meaningful). Small models often break the format; the shared retry loop tells
them what was wrong, and gives a clear error when they keep failing.
"""

from __future__ import annotations

import threading
from typing import Any

from . import prompts
from .base import LLMDirector
from .errors import DirectorError, DirectorModelError, one_line

DEFAULT_LOCAL_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"

_MODELS: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_LOAD_LOCK = threading.Lock()


def pick_device_and_dtype(device: str | None = None, dtype: str | None = None) -> tuple[str, str]:
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype is None:
        if device.startswith("cuda"):
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        else:
            dtype = "float32"  # half precision on CPU is slow or unsupported for many ops
    return device, dtype


def load_chat_model(model: str, device: str | None = None, dtype: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) for `model`, loaded on first use and reused for the process."""
    device, dtype = pick_device_and_dtype(device, dtype)
    key = (model, device, dtype)
    with _LOAD_LOCK:
        if key not in _MODELS:
            import torch
            import transformers
            from transformers import AutoModelForCausalLM, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(model)
                # `dtype` replaced `torch_dtype` in transformers 4.56; accept both worlds.
                major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
                dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
                lm = AutoModelForCausalLM.from_pretrained(model, **{dtype_kw: getattr(torch, dtype)})
            except (OSError, ValueError) as exc:
                raise DirectorModelError(
                    f"Cannot load the local model {model!r}: {one_line(str(exc), 160)}; give a local folder "
                    "or a Hub id that is downloaded already."
                ) from None
            if getattr(tokenizer, "chat_template", None) is None:
                raise DirectorModelError(f"The local model {model!r} has no chat template; use an instruction-tuned chat model.")
            lm.to(device).eval()
            _MODELS[key] = (tokenizer, lm)
    return _MODELS[key]


def unload_all() -> None:
    """Forget every loaded model (frees memory; the next use loads again)."""
    with _LOAD_LOCK:
        _MODELS.clear()


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
        **options: Any,
    ):
        options.setdefault("max_retries", 0)  # nothing transient to retry in-process
        super().__init__(model, base_url=None, **options)
        self.device, self.dtype = device, dtype
        self.max_new_tokens = max_new_tokens

    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        import torch

        tokenizer, lm = load_chat_model(self.model, self.device, self.dtype)
        inputs = self._chat_inputs(tokenizer, messages).to(lm.device)
        # About 60 tokens per frame description plus the JSON around them (shape "frame": one).
        budget = self.max_new_tokens or min(8192, 80 * num_frames + 64)
        kwargs: dict[str, Any] = {"max_new_tokens": budget, "do_sample": False}
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            kwargs["pad_token_id"] = tokenizer.eos_token_id
        with torch.inference_mode():
            output = lm.generate(**inputs, **kwargs)
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)

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
