"""The schedulers a render may use: one registry that settings, CLI, page and tests read.

Each entry builds its scheduler from a base config and knows how to hand the single-frame
phase's scheduler over to the joint phase (method.md section 2, step 5): frames 2..N enter
the joint phase freshly re-noised, so any history a multistep solver kept about frame 1
must go. Only schedulers whose state survives that switch are listed.

Few-step schedulers (LCM, TCD) are for latent-consistency and trajectory-consistency LoRAs
(the `draft` preset): they pick at most `original_inference_steps` (50) timesteps from their
own skipping schedule, and they step by an index into it, which the hand-over re-derives from
the joint phase's first timestep. LCM draws fresh noise at every step (TCD with eta > 0 too);
the pipeline's generator feeds it, so a seed still fixes the render.

Euler-type schedulers are not offered: they carry sigma-scaled latents, so the DDPM
re-noise of step 4 (written in alpha-bar space) would hand them latents of the wrong scale.

Nothing here imports torch or diffusers at module level, so `direct2v.settings` can read the
names without loading them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import SettingsError


def _same(sched: Any, timesteps: Any) -> tuple[Any, Any]:
    return sched, timesteps


def _pndm_to_joint(sched: Any, timesteps: Any) -> tuple[Any, Any]:
    """PLMS restarts its warm-up: clear the history and repeat the second timestep (one extra UNet call)."""
    import torch

    sched.ets = []
    sched.cur_sample = None
    sched.counter = 0
    # PLMS timesteps are [T0, T1, T1, T2, ...]: a joint phase starting at the repeated pair
    # must not keep it, or every later step runs one label out of step.
    timesteps = torch.unique_consecutive(timesteps)
    if len(timesteps) > 1:
        timesteps = torch.cat([timesteps[:2], timesteps[1:]])
    return sched, timesteps


def _dpm_to_joint(sched: Any, timesteps: Any) -> tuple[Any, Any]:
    """DPM-Solver++ drops back to first order until it has new history."""
    sched.model_outputs = [None] * sched.config.solver_order
    sched.lower_order_nums = 0
    return sched, timesteps


def _consistency_to_joint(sched: Any, timesteps: Any) -> tuple[Any, Any]:
    """LCM and TCD keep no history, only the index of their next timestep: find it again from
    the joint phase's first timestep (T[-t1-1]), whichever phase last stepped the copy."""
    sched._step_index = sched._begin_index = None  # the first step looks its timestep up
    return sched, timesteps


def _ddim(config):
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_config(config)


def _pndm(config):
    from diffusers import PNDMScheduler

    return PNDMScheduler.from_config(config, skip_prk_steps=True)


def _dpm(config):
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++", solver_order=2)


def _lcm(config):
    from diffusers import LCMScheduler

    return LCMScheduler.from_config(config)


def _tcd(config):
    from diffusers import TCDScheduler

    return TCDScheduler.from_config(config)


@dataclass(frozen=True)
class SchedulerSpec:
    name: str
    label: str  # what the page shows
    class_name: str  # the diffusers class `make` returns
    make: Callable[[Any], Any]  # base config -> scheduler
    to_joint: Callable[[Any, Any], tuple[Any, Any]]  # (scheduler copy, timesteps) at the switch
    max_steps: int | None = None  # the most steps its schedule offers (None: any)


SCHEDULERS: dict[str, SchedulerSpec] = {
    s.name: s
    for s in (
        SchedulerSpec("ddim", "DDIM", "DDIMScheduler", _ddim, _same),
        SchedulerSpec("pndm", "PNDM (paper)", "PNDMScheduler", _pndm, _pndm_to_joint),
        SchedulerSpec("dpm", "DPM-Solver++", "DPMSolverMultistepScheduler", _dpm, _dpm_to_joint),
        SchedulerSpec("lcm", "LCM (few-step LoRA)", "LCMScheduler", _lcm, _consistency_to_joint, max_steps=50),
        SchedulerSpec("tcd", "TCD (few-step LoRA)", "TCDScheduler", _tcd, _consistency_to_joint, max_steps=50),
    )
}
_BY_CLASS = {s.class_name: s for s in SCHEDULERS.values()}


def make_scheduler(name: str, config: Any) -> Any:
    """A scheduler by registry name from a base config."""
    spec = SCHEDULERS.get(name)
    if spec is None:
        raise SettingsError(f"Unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}.")
    return spec.make(config)


def scheduler_name(sched: Any) -> str | None:
    """The registry name of a scheduler object, or None for one the registry does not list."""
    spec = _BY_CLASS.get(type(sched).__name__)
    if spec is None or (spec.name == "dpm" and getattr(sched.config, "algorithm_type", None) != "dpmsolver++"):
        return None
    return spec.name


def joint_phase_scheduler(saved: Any, timesteps: Any) -> tuple[Any, Any]:
    """A copy of the scheduler saved at T[-t1-1], ready for the joint phase, and its timesteps.

    A scheduler class the registry does not list (passed in by a diffusers user) is copied
    as it is: single-step schedulers need nothing more.
    """
    if float(getattr(saved, "init_noise_sigma", 1.0)) != 1.0:
        raise SettingsError(
            f"{type(saved).__name__} works on sigma-scaled latents, which the re-noise before the joint "
            f"phase does not produce; use one of {', '.join(SCHEDULERS)}."
        )
    sched = copy.deepcopy(saved)
    spec = _BY_CLASS.get(type(sched).__name__)
    return (spec.to_joint if spec is not None else _same)(sched, timesteps)


def check_timesteps(scheduler: Any, steps: int) -> None:
    """SettingsError when the scheduler's timesteps leave its training range. With "leading"
    spacing and steps_offset 1 (Stable Diffusion 1.x's own config) diffusers asks for timestep
    1000 of 0..999 at 1000 steps, which fails deep in the first step."""
    trained = int(scheduler.config.num_train_timesteps)
    if int(scheduler.timesteps.max()) >= trained:
        most = trained - int(getattr(scheduler.config, "steps_offset", 0) or 0)
        raise SettingsError(f"This model's scheduler takes at most {most} steps (got {steps}); lower Steps.")
