"""One settings object that travels from the page or the CLI to the renderer.

`RenderSettings` holds every knob of a render (method.md sections 2 to 5) and validates
itself with messages a person can act on. `Project` is what a project file stores: the
user's prompt, the frame script, the director options (never an API key) and the render
settings including the seed, so any result can be reproduced and loaded back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import SettingsError
from .frames import MAX_FPS, MAX_FRAMES, MAX_PROMPT_CHARS, MIN_FRAMES, check_frame_count
from .render.schedulers import SCHEDULERS as SCHEDULER_REGISTRY


# The Stable Diffusion model a render uses when none is named (hub id).
DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
VALUE_MAPPING_MODES = ("rotational", "first", "random", "sparse_causal", "none")
# Each value-mapping mode's names, the one table every layer reads: the paper's column label
# (Table 1, the Compare tab) and the page's description (the Value mapping menu).
MODE_LABELS = {
    "rotational": ("RVM", "Rotational value mapping (DirecT2V)"),
    "first": ("T2V-Z", "First frame (Text2Video-Zero)"),
    "sparse_causal": ("TAV", "Sparse-causal (Tune-A-Video)"),
    "random": ("Random", "Random reference (ablation)"),
    "none": ("None", "None (independent frames)"),
}
SCHEDULERS = tuple(SCHEDULER_REGISTRY)
DEFAULT_BLOCKS = ("up_blocks.2", "up_blocks.3")
CHUNKING_MODES = ("cache", "t2vz")
START_IMAGE_MODES = ("noise", "invert")  # render/start_image.py
PRECISIONS = ("auto", "fp16", "fp32")  # the weights' dtype: render/loading.precision_dtype
# The director's back ends as a project or the CLI names them ("compatible": openai with a base URL).
DIRECTOR_BACKENDS = ("local", "openai", "compatible", "gemini", "huggingface", "offline")
MAX_STYLE_CHARS = 500  # the style and the camera: a few words added to every frame's prompt
MAX_NAME_CHARS = 500  # a model id or path, a LoRA, a base URL
MAX_SIDE = 2048
MAX_STEPS = 1000
MAX_CACHE_INTERVAL = 10

# The authors' release: 100 PNDM steps, t0=90, t1=95, guidance 12 (method.md section 2).
PAPER_PRESET: dict[str, Any] = {
    "num_inference_steps": 100,
    "t0": 90,
    "t1": 95,
    "guidance_scale": 12.0,
    "scheduler": "pndm",
    "value_mapping": "rotational",
    "rvm_period": 4,
}
# Text2Video-Zero's defaults with DDIM, our default.
DEFAULT_PRESET: dict[str, Any] = {
    "num_inference_steps": 50,
    "t0": 44,
    "t1": 47,
    "guidance_scale": 7.5,
    "scheduler": "ddim",
    "value_mapping": "rotational",
    "rvm_period": 4,
}
PRESETS = {"default": DEFAULT_PRESET, "paper": PAPER_PRESET}
# A draft (render/draft.py): the model family's few-step LoRA with LCM sampling, no guidance,
# the motion window scaled to the few steps (`with_steps`), and deep-feature reuse every
# other step. What a draft renders instead of the settings as set; "Render final" renders those.
DRAFT_STEPS = 4
DRAFT_PRESET: dict[str, Any] = {"guidance_scale": 1.0, "scheduler": "lcm", "cache_interval": 2}


@dataclass(frozen=True)
class Knob:
    """What the CLI and the page need to know about one setting; stored as field metadata.

    `name` is how messages call the setting; `label` is the page's label; `control` is the
    page's component ("slider", "number", "dropdown", "radio", "text") and `group` the panel
    it sits in ("main", "advanced", or "direct" for fps, which the director shares). Fields
    are declared in the order the page shows them.
    """

    name: str
    label: str
    help: str
    flag: str
    control: str
    group: str = "main"
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    choices: tuple[tuple[str, Any], ...] = ()  # (label, value); values are what validate accepts
    elem_id: str = ""
    wide: bool = False  # a page row of its own
    cli_parse: Callable[[str], Any] | None = None  # CLI text -> value, when not int/float/str
    to_page: Callable[[Any], Any] | None = None  # value -> the page control's value
    from_page: Callable[[Any], Any] | None = None  # the page control's value -> value
    pipeline: bool = True  # passed to DirecT2VPipeline.__call__ under the field's name


def knob(default: Any, **meta: Any) -> Any:
    return field(default=default, metadata={"knob": Knob(**meta)})


def _parse_switch(text: str) -> bool:
    """CLI text for an on/off setting."""
    t = text.strip().lower()
    if t in ("on", "true", "yes", "1"):
        return True
    if t in ("off", "false", "no", "0"):
        return False
    raise SettingsError(f"{text!r} is not on or off.")


_SWITCH = (("Off", False), ("On", True))


def _parse_blocks(text: str) -> tuple[str, ...] | str:
    if text in ("all", "default"):
        return text
    return tuple(b.strip() for b in text.split(",") if b.strip())


@dataclass
class RenderSettings:
    """Every knob of a render (method.md sections 2 to 5), each with its range, label and flag."""

    value_mapping: str = knob(
        "rotational", name="value mapping", label="Value mapping", flag="--mode", control="dropdown",
        help="which frame each frame's self-attention reads its values from",
        choices=tuple((MODE_LABELS[m][1], m) for m in VALUE_MAPPING_MODES), elem_id="value-mapping", wide=True,
    )
    rvm_period: int = knob(
        4, name="RVM period tau", label="RVM period τ (steps)", flag="--tau", control="slider", lo=1, hi=MAX_STEPS,
        step=1, help="joint steps each frame stays the reference (rotational mapping)", elem_id="rvm-period",
    )
    dsf_quantile: float = knob(
        0.0, name="DSF quantile p", label="DSF quantile p (0 = off)", flag="--dsf", control="slider", lo=0.0, hi=1.0,
        step=0.05, help="dual-softmax filtering: share of least mutual matches that keep their own values; 0 = off",
        elem_id="dsf-quantile",
    )
    t1: int = knob(
        47, name="t1", label="Start timestep t1 (frames interact from here)", flag="--t1", control="slider",
        lo=0, hi=MAX_STEPS - 1, step=1, help="joint denoising starts at step T[-t1-1]; must be below Steps",
        elem_id="t1",
    )
    num_inference_steps: int = knob(
        50, name="Steps", label="Steps", flag="--steps", control="slider", lo=2, hi=MAX_STEPS, step=1,
        help="denoising steps; t0 and t1 follow it unless given", elem_id="steps",
    )
    width: int = knob(512, name="width", label="Width", flag="--width", control="slider", lo=64, hi=MAX_SIDE, step=8,
                      help="pixels, a multiple of 8", elem_id="width")
    height: int = knob(512, name="height", label="Height", flag="--height", control="slider", lo=64, hi=MAX_SIDE,
                       step=8, help="pixels, a multiple of 8", elem_id="height")
    seed: int = knob(0, name="seed", label="Seed (−1 = random)", flag="--seed", control="number", lo=-1, hi=2**63 - 1,
                     help="-1 draws one; the seed used is reported", elem_id="seed", pipeline=False)
    t0: int = knob(
        44, name="t0", label="t0 (end of the motion window)", flag="--t0", control="slider", group="advanced",
        lo=0, hi=MAX_STEPS - 1, step=1, help="frame 1 is copied at T[-t0-1]; must be below t1", elem_id="t0",
    )
    guidance_scale: float = knob(
        7.5, name="guidance scale", label="Guidance scale", flag="--guidance", control="slider", group="advanced",
        lo=0.0, hi=50.0, step=0.5, help="classifier-free guidance", elem_id="guidance",
    )
    negative_prompt: str = knob("", name="negative prompt", label="Negative prompt", flag="--negative", control="text",
                                group="advanced", help="blurry, low quality", elem_id="negative-prompt", wide=True)
    scheduler: str = knob(
        "ddim", name="scheduler", label="Scheduler", flag="--scheduler", control="dropdown", group="advanced",
        choices=tuple((s.label, s.name) for s in SCHEDULER_REGISTRY.values()), help="sampler", elem_id="scheduler", pipeline=False,
    )
    attention_blocks: tuple[str, ...] | str = knob(
        "default", name="attention_blocks", label="Value-mapped layers", flag="--blocks", control="radio",
        group="advanced", choices=(("Up blocks 2 and 3 (paper)", "default"), ("All self-attention layers", "all")),
        help="'default' (SD 1.5: up_blocks.2,up_blocks.3; SDXL: up_blocks.0,up_blocks.1), 'all', or comma-separated names",
        elem_id="blocks", cli_parse=_parse_blocks, to_page=lambda v: "all" if v == "all" else "default",
        from_page=lambda v: "all" if v == "all" else "default",  # the model's own default, resolved by the pipeline
    )
    motion_field_strength_x: float = knob(
        0.0, name="motion x", label="Motion x (T2V-Z units: 1/512 of the width per frame)", flag="--motion-x",
        control="slider", group="advanced", lo=-64.0, hi=64.0, step=1, help="camera pan per frame", elem_id="motion-x",
    )
    motion_field_strength_y: float = knob(
        0.0, name="motion y", label="Motion y (1/512 of the height per frame)", flag="--motion-y", control="slider",
        group="advanced", lo=-64.0, hi=64.0, step=1, help="camera tilt per frame", elem_id="motion-y",
    )
    frames_per_pass: int = knob(
        16, name="frames per pass", label="Frames per pass (GPU batch)", flag="--frames-per-pass", control="slider",
        group="advanced", lo=2, hi=MAX_FRAMES, step=1, help="longer videos render in passes", elem_id="frames-per-pass",
    )
    chunking: str = knob(
        "cache", name="chunking", label="Long videos", flag="--chunking", control="radio", group="advanced",
        choices=tuple(zip(("Cached anchors (paper 4.3)", "Text2Video-Zero chunks"), CHUNKING_MODES)),
        help="how passes share frame content", elem_id="chunking",
    )
    eta: float = knob(0.0, name="eta", label="DDIM eta", flag="--eta", control="slider", group="advanced", lo=0.0,
                      hi=1.0, step=0.05, help="DDIM noise", elem_id="eta")
    cache_interval: int = knob(
        1, name="cache interval", label="Deep-feature reuse: UNet steps per full step (1 = off)", flag="--cache-interval",
        control="number", group="advanced", lo=1, hi=MAX_CACHE_INTERVAL, step=1, elem_id="cache-interval",
        help="DeepCache: reuse the UNet's deep features for this many steps, recomputing the shallow blocks (render/deepcache.py)",
    )
    fps: int = knob(4, name="fps", label="Frames per second", flag="--fps", control="slider", group="direct", lo=1,
                    hi=MAX_FPS, step=1, help="video frame rate", elem_id="fps", pipeline=False)
    draft: bool = knob(
        False, name="draft", label="Draft (few-step LoRA: seconds, rough)", flag="--draft", control="radio", group="main",
        choices=_SWITCH, cli_parse=_parse_switch, elem_id="draft", pipeline=False,
        help=f"on/off: render with the model family's few-step LoRA, LCM, {DRAFT_STEPS} steps, guidance 1 (render/draft.py)",
    )
    draft_lora: str = knob(
        "", name="draft LoRA", label="Draft LoRA (file, folder or Hub id; empty = the model family's LCM-LoRA)",
        flag="--draft-lora", control="text", group="advanced", elem_id="draft-lora", wide=True, pipeline=False,
        help="few-step LoRA for drafts; empty = latent-consistency/lcm-lora-sdv1-5 (SDXL: lcm-lora-sdxl)",
    )
    # Start image (render/start_image.py): used only when a picture is given.
    image_strength: float = knob(
        0.3, name="image strength", label="Strength: how far frame 1 may drift (0 = keep the picture)", wide=True,
        flag="--image-strength", control="slider", group="image", lo=0.0, hi=1.0, step=0.05,
        help="share of the joint steps in which frame 1 may leave the start image", elem_id="image-strength",
    )
    image_mode: str = knob(
        "noise", name="start-image mode", label="How frame 1 reaches the picture", flag="--image-mode", control="radio",
        group="image", choices=tuple(zip(("Forward noise (fast)", "DDIM inversion (faithful, one UNet call per step)"), START_IMAGE_MODES)),
        help="forward noise, or DDIM inversion with the frame-1 prompt", elem_id="image-mode", wide=True,
    )
    # Identity (render/ip_adapter.py): used only when an IP-Adapter and a reference picture are given.
    ip_adapter_scale: float = knob(
        0.5, name="identity strength", label="Identity strength (IP-Adapter scale; high values override the frame prompts)",
        flag="--ip-scale", control="slider", group="identity", lo=0.0, hi=2.0, step=0.05, wide=True,
        help="how strongly the reference picture conditions every frame; about 0.5 keeps the per-frame prompts",
        elem_id="ip-scale", pipeline=False,
    )
    compile: bool = knob(
        False, name="compile", label="Compile the UNet (torch.compile; the first render compiles)", flag="--compile",
        control="radio", group="advanced", choices=_SWITCH, cli_parse=_parse_switch, elem_id="compile",
        help="on/off: torch.compile the UNet once per loaded model (render/compiled.py)", pipeline=False,
    )
    low_memory: bool = knob(
        False, name="low_memory", label="Small-GPU memory mode (offload, VAE tiling, frames per pass from free memory)",
        flag="--low-memory", control="radio", group="advanced", choices=_SWITCH, cli_parse=_parse_switch,
        elem_id="low-memory", pipeline=False,
        help="on/off: for about 8 GiB cards: model CPU offload, VAE tiling, frames per pass from free memory",
    )

    # ----------------------------------------------------------------- validation
    def validate(self) -> "RenderSettings":
        """Raise SettingsError naming the first bad field; return self when all are fine.

        Settings with the same values (and types) as ones already found valid are not checked
        again, so one render checks them once however many layers hand them on (page or CLI,
        Compare, `render()`, the pipeline's gate)."""
        state = self._state()
        if state is not None and state in _VALID_STATES:
            return self
        self._check()
        if state is not None:
            _VALID_STATES[state] = None
            while len(_VALID_STATES) > 256:
                _VALID_STATES.pop(next(iter(_VALID_STATES)))
        return self

    def _state(self) -> tuple | None:
        """The values with their types (True is not 1 here), or None when one cannot be hashed."""
        state = tuple((f.name, type(getattr(self, f.name)), getattr(self, f.name)) for f in dataclasses.fields(self))
        try:
            hash(state)
        except TypeError:
            return None
        return state

    def _check(self) -> None:
        """The rules: every field in its range or among its choices, then the ones between fields."""
        for f, k in knobs(type(self)):
            v = getattr(self, f.name)
            if k.cli_parse is not None:
                continue  # a structured value (attention_blocks), checked by its own rule below
            if k.choices:
                if v not in {c for _, c in k.choices}:
                    raise SettingsError(f"Unknown {k.name} {v!r}; choose one of {', '.join(str(c) for _, c in k.choices)}.")
            elif isinstance(f.default, bool):
                if not isinstance(v, bool):
                    raise SettingsError(f"{k.name} must be true or false (got {v!r}).")
            elif isinstance(f.default, int):
                _int_in(k.name, v, int(k.lo), int(k.hi))
            elif isinstance(f.default, float):
                _num_in(k.name, v, k.lo, k.hi)
            elif isinstance(f.default, str) and not isinstance(v, str):
                raise SettingsError(f"{k.name} must be text (got {v!r}).")
        for name in ("compile", "low_memory", "draft"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false (got {getattr(self, name)!r}).")
        for name in ("height", "width"):
            if getattr(self, name) % 8:
                raise SettingsError(f"{name} must be a multiple of 8 (got {getattr(self, name)}).")
        steps = self.num_inference_steps
        if self.t1 >= steps:
            raise SettingsError(
                f"t1 must be between 0 and {steps - 1} (got {self.t1}), below Steps: lower t1 or raise Steps."
            )
        most = getattr(SCHEDULER_REGISTRY.get(self.scheduler), "max_steps", None)
        if most is not None and steps > most:
            raise SettingsError(f"The {self.scheduler} scheduler takes at most {most} steps (got {steps}): lower Steps.")
        if self.t0 >= self.t1:
            raise SettingsError(f"t0 must be smaller than t1 (got t0={self.t0}, t1={self.t1}): lower t0 or raise t1.")
        blocks = self.attention_blocks
        if isinstance(blocks, str):
            if blocks not in ("all", "default"):
                raise SettingsError(f"attention_blocks must be 'all', 'default' or a list of block names; got {blocks!r}.")
        elif not blocks or not all(isinstance(b, str) and b for b in blocks):
            raise SettingsError("attention_blocks must name at least one block, e.g. up_blocks.2.")

    # ----------------------------------------------------------------- conversion
    def with_steps(self, steps: int) -> "RenderSettings":
        """Change Steps and scale t0 and t1 with it, so the motion window keeps its place in
        the schedule (T2V-Z's 44/47 of 50 become 88/94 of 100) and stays valid."""
        old = self.num_inference_steps
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2 or not isinstance(old, int) or old < 2:
            return self.replace(num_inference_steps=steps)
        t1 = min(max(round(self.t1 * steps / old), 1), steps - 1)
        t0 = min(max(round(self.t0 * steps / old), 0), t1 - 1)
        return self.replace(num_inference_steps=steps, t0=t0, t1=t1)

    def for_render(self) -> "RenderSettings":
        """What renders: these settings, or for a draft the few-step ones (DRAFT_PRESET, t0/t1
        scaled to DRAFT_STEPS); seed, size, mode and the rest stay."""
        if not self.draft:
            return self
        return self.with_steps(DRAFT_STEPS).replace(**DRAFT_PRESET)

    def blocks(self) -> tuple[str, ...] | str:
        b = self.attention_blocks
        return b if isinstance(b, str) else tuple(b)

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `DirecT2VPipeline.__call__` (the seed becomes a generator
        elsewhere; the scheduler is swapped on the pipeline; fps is the video's)."""
        d = {f.name: getattr(self, f.name) for f, k in knobs(type(self)) if k.pipeline}
        d["negative_prompt"] = self.negative_prompt or None
        d["attention_blocks"] = self.blocks()
        return d

    def replace(self, **changes: Any) -> "RenderSettings":
        return dataclasses.replace(self, **changes)

    def with_preset(self, name: str) -> "RenderSettings":
        if name not in PRESETS:
            raise SettingsError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
        return self.replace(**PRESETS[name])

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if isinstance(d["attention_blocks"], tuple):
            d["attention_blocks"] = list(d["attention_blocks"])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RenderSettings":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SettingsError(f"Unknown render setting(s): {', '.join(unknown)}.")
        d = dict(data)
        if isinstance(d.get("attention_blocks"), list):
            d["attention_blocks"] = tuple(d["attention_blocks"])
        return cls(**d)


# Settings found valid (`RenderSettings._state()`), oldest first; a few hundred at most.
_VALID_STATES: dict[tuple, None] = {}


def resolve_seed(seed: int | None) -> int:
    """The seed a render uses: -1 (or None) draws one, from the OS's randomness, so every
    method of a comparison and the reported result share it. Anything but a whole number is
    returned as it is, for `RenderSettings.validate()` to name."""
    if seed is None:
        return secrets.randbelow(2**31 - 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        return seed
    return secrets.randbelow(2**31 - 1) if seed < 0 else seed


def knobs(cls: type = RenderSettings) -> list[tuple[dataclasses.Field, Knob]]:
    """(field, Knob) for every setting of `cls`, in declaration (= page) order."""
    return [(f, f.metadata["knob"]) for f in dataclasses.fields(cls) if "knob" in f.metadata]


def _int_in(label: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            raise SettingsError(f"{label} must be a whole number (got {value}).")
        raise SettingsError(f"{label} must be a whole number (got {value!r}).")
    if not lo <= value <= hi:
        raise SettingsError(f"{label} must be between {lo} and {hi} (got {value}).")


def _num_in(label: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"{label} must be a number (got {value!r}).")
    if not lo <= value <= hi:
        raise SettingsError(f"{label} must be between {lo} and {hi} (got {value}).")


def start_image_ref(path: str | Path) -> dict[str, str]:
    """How a project records its start image: the path as given and the file's SHA-256, so
    a project stays small (it travels inside every PNG and mp4) and a changed file is noticed."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"The start image {str(path)!r} does not exist.")
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise SettingsError(f"Cannot read the start image {path}: {e.strerror or e}.") from None
    return {"path": str(path), "sha256": digest}


def check_start_image_ref(ref: dict[str, str], base: Path | None = None, remedy: str = "give --image") -> Path:
    """The recorded start image's file, after checking it is the same picture; SettingsError if not,
    ending in `remedy` (what the user can do instead: the CLI's flag, the page's box).
    A relative path is looked up next to the project file (`base`) first."""
    path = Path(ref["path"])
    if not path.is_absolute() and base is not None and (base / path).is_file():
        path = base / path
    if not path.is_file():
        raise SettingsError(f"The project's start image {ref['path']!r} is missing; put it back or {remedy}.")
    if start_image_ref(path)["sha256"] != ref["sha256"]:
        raise SettingsError(
            f"The project's start image {ref['path']!r} has changed since the project recorded it; {remedy} to use it anyway."
        )
    return path


def ip_image_ref(path: str | Path, frame: int = 0) -> dict[str, Any]:
    """How a project records a reference picture of the IP-Adapter: the first frame (0-based) it
    holds from (until the next record's), the path and the file's SHA-256 (as `start_image_ref`)."""
    if not Path(path).is_file():
        raise SettingsError(f"The reference picture {str(path)!r} does not exist.")
    return {"frame": int(frame), **start_image_ref(path)}


def ip_image_record(text: str) -> dict[str, Any]:
    """One `--ip-image [FRAME:]PATH` as a project record (FRAME counts from 1; `FRAME:none`: no
    picture from that frame on). Shared by `render`, `compare` and `suite`."""
    head, sep, rest = text.partition(":")
    frame, path = (int(head) - 1, rest) if sep and head.isdigit() else (0, text)
    if frame < 0:
        raise SettingsError(f"--ip-image {text}: frames count from 1.")
    if path.strip().lower() == "none":
        return {"frame": frame, "path": "", "sha256": ""}
    return ip_image_ref(path, frame)


def _ip_images_field(value: Any) -> list[dict[str, Any]]:
    if value in (None, []):
        return []
    ok = isinstance(value, list) and all(
        isinstance(r, dict) and isinstance(r.get("frame"), int) and not isinstance(r.get("frame"), bool) and r["frame"] >= 0
        and isinstance(r.get("path"), str) and isinstance(r.get("sha256"), str) and isinstance(r.get("png_base64", ""), str)
        for r in value
    )
    if not ok:
        raise SettingsError("The project's 'ip_images' must be a list of objects with 'frame', 'path' and 'sha256'.")
    return [dict(r) for r in value]


def _start_image_field(value: Any) -> dict[str, str] | None:
    if value in (None, {}):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("path"), str) or not isinstance(value.get("sha256"), str):
        raise SettingsError("The project's 'start_image' must be an object with 'path' and 'sha256'.")
    return {"path": value["path"], "sha256": value["sha256"]}


MAX_LORA_SCALE = 4.0


@dataclass(frozen=True)
class ModelChoice:
    """Which weights render: a Stable Diffusion model (hub id, diffusers folder, single
    .safetensors/.ckpt file, or "tiny"/"tiny-sdxl"), the config folder or hub id a single file
    is read with ("" = inferred), optional LoRA weights (file, folder or hub id) at a scale,
    and the weights' precision.

    The page's chooser, the CLI's and app.py's model flags (from these fields' metadata) and
    `Project` carry this together; the loader keys its cache on it (render/loading.py)."""

    model: str = knob(
        DEFAULT_MODEL, name="model", label="Model", flag="--model", control="text", group="model",
        help="SD 1.x or SDXL hub id, local folder, .safetensors/.ckpt file, or 'tiny'/'tiny-sdxl' (random, offline)",
    )
    config: str = knob(
        "", name="model config", label="Config (single file only)", flag="--model-config", control="text", group="model",
        help="for a .safetensors/.ckpt model: a diffusers folder of the same kind of model (its configs are enough) "
             "or a hub id; a local folder loads the file offline ('' = inferred)",
    )
    lora: str = knob("", name="LoRA", label="LoRA", flag="--lora", control="text", group="model",
                     help="LoRA weights on the model: a .safetensors file, a folder or a hub id ('' = none)")
    lora_scale: float = knob(1.0, name="LoRA scale", label="LoRA scale", flag="--lora-scale", control="slider",
                             group="model", lo=-MAX_LORA_SCALE, hi=MAX_LORA_SCALE, step=0.05, help="LoRA strength")
    precision: str = knob(
        "auto", name="precision", label="Precision", flag="--precision", control="radio", group="model",
        choices=tuple((p, p) for p in PRECISIONS),
        help="weights' precision: auto = fp16 on CUDA (the fp16 files where the model has them), else fp32; "
             "fp32 when a render reports NaN/inf frames",
    )

    def validate(self) -> "ModelChoice":
        for name in ("model", "config", "lora"):
            if not isinstance(getattr(self, name), str):
                raise SettingsError(f"The {name} must be text (got {getattr(self, name)!r}).")
        if not self.model.strip():
            raise SettingsError("No model given: a Hugging Face Hub id, a local folder, a .safetensors/.ckpt file, or 'tiny'.")
        _num_in("LoRA scale", self.lora_scale, -MAX_LORA_SCALE, MAX_LORA_SCALE)
        if self.precision not in PRECISIONS:
            raise SettingsError(f"Unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}.")
        return self

    def clean(self) -> "ModelChoice":
        """Surrounding blanks dropped (pasted paths), the scale as a float."""
        scale = self.lora_scale
        return dataclasses.replace(self, model=self.model.strip(), config=self.config.strip(), lora=self.lora.strip(),
                                   lora_scale=float(scale) if isinstance(scale, (int, float)) and not isinstance(scale, bool) else scale)

    def replace(self, **changes: Any) -> "ModelChoice":
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """One line for status messages: `model`, plus the LoRA and its scale when there is one."""
        text = f"`{self.model}`"
        if self.lora:
            text += f" with LoRA `{self.lora}` at {self.lora_scale:g}"
        return text


def _lora_scale_field(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"The project's 'lora_scale' must be a number (got {value!r}).")
    return float(value)


PROJECT_FORMAT = "direct2v-project"
PROJECT_VERSION = 1


@dataclass
class DirectorOptions:
    """How the frame script is (re)written: the page, the CLI and `Project` share this.

    Never holds an API key: keys come from the environment or the page's password field
    and go straight to the back end. `backend` "compatible" is the OpenAI back end with a
    base URL (vLLM, Ollama, llama.cpp). The video's frame rate, which the director also
    writes for, is `RenderSettings.fps`, so a project stores it once.
    """

    backend: str = knob(
        "local", name="director back end", label="Director", flag="--backend", control="dropdown", group="director",
        choices=tuple((b, b) for b in DIRECTOR_BACKENDS),
        help="local, openai, compatible (an OpenAI-compatible --base-url), gemini, huggingface or offline "
             "(default: openai or gemini when their key is set, else the local model)",
    )
    model: str = knob("", name="LLM model", label="LLM model", flag="--llm-model", control="text", group="director",
                      help="the LLM id: gpt-4o, gemini-2.5-flash, a Hub id or local folder ('' = the back end's default)")
    base_url: str = knob("", name="base URL", label="Base URL", flag="--base-url", control="text", group="director",
                         help="another server for the back end, e.g. http://127.0.0.1:11434/v1 (it never gets a key "
                              "from the environment)")
    style: str = knob("", name="style", label="Style", flag="--style", control="text", group="director",
                      help="style added to every frame")
    camera: str = knob("", name="camera", label="Camera", flag="--camera", control="text", group="director",
                       help="'static', 'remove', or a move such as 'slow zoom in'")
    num_frames: int = knob(8, name="frames", label="Frames", flag="--frames", control="slider", group="director",
                           lo=MIN_FRAMES, hi=MAX_FRAMES, step=1, help="frames the director writes", elem_id="num-frames")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "DirectorOptions":
        """Known fields as text; anything else (an old file's extra keys, a key) is dropped.
        SettingsError for text over the schema's limits (style and camera go into every
        frame's prompt and every output's metadata)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        data = {k: v for k, v in (data or {}).items() if k in fields}
        if "num_frames" in data:
            check_frame_count(data["num_frames"])
        options = cls(**{k: str(v or "") if isinstance(fields[k].default, str) else v for k, v in data.items()})
        for name, limit in (("style", MAX_STYLE_CHARS), ("camera", MAX_STYLE_CHARS), ("model", MAX_NAME_CHARS),
                            ("base_url", MAX_NAME_CHARS), ("backend", MAX_NAME_CHARS)):
            if len(getattr(options, name)) > limit:
                raise SettingsError(f"The director's {name.replace('_', ' ')} is longer than {limit} characters; shorten it.")
        return options

    def director_args(self) -> tuple[str, dict[str, Any]]:
        """(back-end name, keyword arguments) for `make_director`, without the key."""
        backend = (self.backend or "local").strip()
        base = self.base_url.strip() or None
        if backend == "compatible":
            backend = "openai"
        else:
            base = None
        return backend, {"model": self.model.strip() or None, "base_url": base}


def _check_text_sizes(data: dict[str, Any], frames: list[str]) -> None:
    """The schema's limits on a project's free text, checked before anything is built from it."""
    if len(frames) > MAX_FRAMES:
        raise SettingsError(f"The project has {len(frames)} frames; a video can have at most {MAX_FRAMES}.")
    long = [i + 1 for i, f in enumerate(frames) if len(f) > MAX_PROMPT_CHARS]
    if long or len(str(data.get("user_prompt", ""))) > MAX_PROMPT_CHARS:
        where = f"frame {long[0]}" if long else "the prompt"
        raise SettingsError(f"The project's {where} is longer than {MAX_PROMPT_CHARS} characters.")


def _name_field(data: dict[str, Any], key: str) -> str:
    value = str(data.get(key) or "")
    if len(value) > MAX_NAME_CHARS:
        raise SettingsError(f"The project's '{key}' is longer than {MAX_NAME_CHARS} characters.")
    return value


@dataclass
class Project:
    """Everything needed to reproduce a result. Never holds an API key."""

    user_prompt: str = ""
    frames: list[str] = field(default_factory=list)
    settings: RenderSettings = field(default_factory=RenderSettings)
    director: DirectorOptions = field(default_factory=DirectorOptions)
    model: str = ""  # the Stable Diffusion model id or path the result was rendered with
    model_config: str = ""  # a single-file model's config folder or hub id ("" = inferred)
    lora: str = ""  # LoRA weights (file, folder or hub id) on the model; "" = none
    lora_scale: float = 1.0
    # The start image, by reference: {"path": ..., "sha256": ...} (see `start_image_ref`).
    start_image: dict[str, str] | None = None
    # IP-Adapter weights (file or Hub path; "" = none) and its reference pictures, each
    # {"frame", "path", "sha256"} (`ip_image_ref`), on a public server with "png_base64" too.
    ip_adapter: str = ""
    ip_images: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": PROJECT_FORMAT,
                "version": PROJECT_VERSION,
                "user_prompt": self.user_prompt,
                "frames": list(self.frames),
                "settings": self.settings.to_dict(),
                "director": self.director.to_dict(),
                "model": self.model,
                "model_config": self.model_config,
                "lora": self.lora,
                "lora_scale": self.lora_scale,
                **({"start_image": dict(self.start_image)} if self.start_image else {}),
                **({"ip_adapter": self.ip_adapter} if self.ip_adapter else {}),
                **({"ip_images": [dict(r) for r in self.ip_images]} if self.ip_images else {}),
            },
            indent=2,
            ensure_ascii=False,
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, text: str) -> "Project":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SettingsError(f"Not a valid project file: {e.msg} at line {e.lineno}.") from None
        if isinstance(data, list):
            # A bare frame script: a JSON list of prompts.
            if not all(isinstance(x, str) for x in data):
                raise SettingsError("A frame script must be a JSON list of strings.")
            return cls(frames=list(data))
        if not isinstance(data, dict) or data.get("format") != PROJECT_FORMAT:
            raise SettingsError("Not a DirecT2V project file (expected a JSON list of prompts or a project object).")
        if int(data.get("version", 0)) > PROJECT_VERSION:
            raise SettingsError(f"Project file version {data['version']} is newer than this app understands.")
        frames = data.get("frames", [])
        if not isinstance(frames, list) or not all(isinstance(x, str) for x in frames):
            raise SettingsError("The project's 'frames' must be a list of strings.")
        _check_text_sizes(data, frames)
        director = data.get("director") or {}
        if not isinstance(director, dict):
            raise SettingsError("The project's 'director' must be an object.")
        return cls(
            user_prompt=str(data.get("user_prompt", "")),
            frames=frames,
            settings=RenderSettings.from_dict(data.get("settings") or {}),
            director=DirectorOptions.from_dict(director),
            model=_name_field(data, "model"),
            model_config=_name_field(data, "model_config"),
            lora=_name_field(data, "lora"),
            lora_scale=_lora_scale_field(data.get("lora_scale", 1.0)),
            start_image=_start_image_field(data.get("start_image")),
            ip_adapter=str(data.get("ip_adapter") or ""),
            ip_images=_ip_images_field(data.get("ip_images")),
        )

    def model_choice(self, default: str = DEFAULT_MODEL) -> ModelChoice:
        """The model the project names (`default` when it names none), its config and LoRA."""
        return ModelChoice(self.model or default, self.model_config, self.lora, self.lora_scale)

    @classmethod
    def load(cls, path: str | Path) -> "Project":
        """From a project file, a frame script, or any PNG, mp4, gif or zip this app wrote
        (they carry their project; see direct2v.video)."""
        path = Path(path)
        if path.suffix.lower() in (".png", ".mp4", ".gif", ".zip"):
            from .video import read_project_json

            try:
                return cls.from_json(read_project_json(path))
            except ValueError as e:
                raise SettingsError(str(e)) from None
        from .video import read_capped

        try:
            with open(path, "rb") as fh:
                text = read_capped(fh).decode("utf-8")
        except OSError as e:
            raise SettingsError(f"Cannot read {path.name}: {e.strerror or e}.") from None
        except ValueError as e:  # too large, or not UTF-8 text
            raise SettingsError(f"Cannot read {path.name}: {e}") from None
        return cls.from_json(text)
