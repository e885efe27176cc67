"""One settings object that travels from the page or the CLI to the renderer.

`RenderSettings` holds every knob of a render (method.md sections 2 to 5) and validates
itself with messages a person can act on. `Project` is what a project file stores: the
user's prompt, the frame script, the director options (never an API key) and the render
settings including the seed, so any result can be reproduced and loaded back.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VALUE_MAPPING_MODES = ("rotational", "first", "random", "sparse_causal", "none")
MODE_LABELS = {
    "rotational": "Rotational value mapping (DirecT2V)",
    "first": "First frame (Text2Video-Zero)",
    "sparse_causal": "Sparse-causal (Tune-A-Video)",
    "random": "Random reference (ablation)",
    "none": "None (independent frames)",
}
SCHEDULERS = ("ddim", "pndm", "dpm", "euler")
DEFAULT_BLOCKS = ("up_blocks.2", "up_blocks.3")
CHUNKING_MODES = ("cache", "t2vz")
MAX_FRAMES = 256
MAX_SIDE = 2048

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


class SettingsError(ValueError):
    """A render setting is out of range; the message says which and how to fix it."""


@dataclass
class RenderSettings:
    num_inference_steps: int = 50
    guidance_scale: float = 7.5
    negative_prompt: str = ""
    height: int = 512
    width: int = 512
    seed: int = 0  # -1 = draw a random seed; the seed actually used is reported back
    eta: float = 0.0
    t0: int = 44
    t1: int = 47
    motion_field_strength_x: float = 0.0
    motion_field_strength_y: float = 0.0
    value_mapping: str = "rotational"
    rvm_period: int = 4
    dsf_quantile: float = 0.0
    attention_blocks: tuple[str, ...] | str = "default"  # the pipeline's own (SD 1.5 and SDXL differ)
    scheduler: str = "ddim"
    frames_per_pass: int = 16
    chunking: str = "cache"
    fps: int = 4

    # ----------------------------------------------------------------- validation
    def validate(self) -> "RenderSettings":
        """Raise SettingsError naming the first bad field; return self when all are fine."""
        steps = self.num_inference_steps
        _int_in("num_inference_steps", steps, 2, 1000)
        _num_in("guidance_scale", self.guidance_scale, 0.0, 50.0)
        _int_in("height", self.height, 64, MAX_SIDE)
        _int_in("width", self.width, 64, MAX_SIDE)
        for name in ("height", "width"):
            if getattr(self, name) % 8:
                raise SettingsError(f"{name} must be a multiple of 8 (got {getattr(self, name)}).")
        _int_in("seed", self.seed, -1, 2**63 - 1)
        _num_in("eta", self.eta, 0.0, 1.0)
        _int_in("t0", self.t0, 0, steps - 1)
        _int_in("t1", self.t1, 0, steps - 1)
        if self.t0 >= self.t1:
            raise SettingsError(f"t0 must be smaller than t1 (got t0={self.t0}, t1={self.t1}).")
        _num_in("motion_field_strength_x", self.motion_field_strength_x, -64.0, 64.0)
        _num_in("motion_field_strength_y", self.motion_field_strength_y, -64.0, 64.0)
        if self.value_mapping not in VALUE_MAPPING_MODES:
            raise SettingsError(
                f"Unknown value mapping {self.value_mapping!r}; choose one of {', '.join(VALUE_MAPPING_MODES)}."
            )
        _int_in("rvm_period", self.rvm_period, 1, 10_000, label="RVM period tau")
        _num_in("dsf_quantile", self.dsf_quantile, 0.0, 1.0, label="DSF quantile p")
        blocks = self.attention_blocks
        if isinstance(blocks, str):
            if blocks not in ("all", "default"):
                raise SettingsError(f"attention_blocks must be 'all', 'default' or a list of block names; got {blocks!r}.")
        elif not blocks or not all(isinstance(b, str) and b for b in blocks):
            raise SettingsError("attention_blocks must name at least one block, e.g. up_blocks.2.")
        if self.scheduler not in SCHEDULERS:
            raise SettingsError(f"Unknown scheduler {self.scheduler!r}; choose one of {', '.join(SCHEDULERS)}.")
        _int_in("frames_per_pass", self.frames_per_pass, 2, MAX_FRAMES, label="frames per pass")
        if self.chunking not in CHUNKING_MODES:
            raise SettingsError(f"Unknown chunking {self.chunking!r}; choose one of {', '.join(CHUNKING_MODES)}.")
        _int_in("fps", self.fps, 1, 120)
        return self

    # ----------------------------------------------------------------- conversion
    def blocks(self) -> tuple[str, ...] | str:
        b = self.attention_blocks
        return b if isinstance(b, str) else tuple(b)

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `DirecT2VPipeline.__call__` (the seed becomes a generator elsewhere)."""
        return dict(
            num_inference_steps=self.num_inference_steps,
            guidance_scale=self.guidance_scale,
            negative_prompt=self.negative_prompt or None,
            height=self.height,
            width=self.width,
            eta=self.eta,
            t0=self.t0,
            t1=self.t1,
            motion_field_strength_x=self.motion_field_strength_x,
            motion_field_strength_y=self.motion_field_strength_y,
            value_mapping=self.value_mapping,
            rvm_period=self.rvm_period,
            dsf_quantile=self.dsf_quantile,
            attention_blocks=self.blocks(),
            frames_per_pass=self.frames_per_pass,
            chunking=self.chunking,
        )

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


def _int_in(name: str, value: Any, lo: int, hi: int, label: str | None = None) -> None:
    label = label or name
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            raise SettingsError(f"{label} must be a whole number (got {value}).")
        raise SettingsError(f"{label} must be a whole number (got {value!r}).")
    if not lo <= value <= hi:
        raise SettingsError(f"{label} must be between {lo} and {hi} (got {value}).")


def _num_in(name: str, value: Any, lo: float, hi: float, label: str | None = None) -> None:
    label = label or name
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"{label} must be a number (got {value!r}).")
    if not lo <= value <= hi:
        raise SettingsError(f"{label} must be between {lo} and {hi} (got {value}).")


PROJECT_FORMAT = "direct2v-project"
PROJECT_VERSION = 1


@dataclass
class Project:
    """Everything needed to reproduce a result. Never holds an API key."""

    user_prompt: str = ""
    frames: list[str] = field(default_factory=list)
    settings: RenderSettings = field(default_factory=RenderSettings)
    director: dict[str, Any] = field(default_factory=dict)  # backend, model, base_url, style, camera
    model: str = ""  # the Stable Diffusion model id or path the result was rendered with

    def to_json(self) -> str:
        director = {k: v for k, v in self.director.items() if "key" not in k.lower()}
        return json.dumps(
            {
                "format": PROJECT_FORMAT,
                "version": PROJECT_VERSION,
                "user_prompt": self.user_prompt,
                "frames": list(self.frames),
                "settings": self.settings.to_dict(),
                "director": director,
                "model": self.model,
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
        director = data.get("director") or {}
        if not isinstance(director, dict):
            raise SettingsError("The project's 'director' must be an object.")
        return cls(
            user_prompt=str(data.get("user_prompt", "")),
            frames=frames,
            settings=RenderSettings.from_dict(data.get("settings") or {}),
            director={k: v for k, v in director.items() if "key" not in k.lower()},
            model=str(data.get("model", "")),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Project":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise SettingsError(f"Cannot read {path}: {e.strerror or e}.") from None
        return cls.from_json(text)
