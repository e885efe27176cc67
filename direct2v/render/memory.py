"""Small-GPU memory mode: model CPU offload, VAE tiling, and frames per pass from free memory.

For cards with about 8 GiB. diffusers' `enable_model_cpu_offload` (accelerate hooks) keeps one
model on the GPU at a time (text encoder, then UNet, then VAE); the VAE decodes in tiles; and
the joint phase runs in passes of as many frames as the free memory holds (long.py's caching
process joins them). The per-frame cost is a model, not a measurement: no GPU was available
to the session that wrote this, so the 8 GiB target (16 frames at 512x512, rotational + DSF,
under `torch.cuda.set_per_process_memory_fraction`) is unmeasured; bench/README says how to
check it.
"""

from __future__ import annotations

import math

import torch

# Joint-phase memory per frame (both CFG halves) at 512x512 in float16: the slope of
# diffusers' Text2Video-Zero from 8 to 16 frames on an H100 (6.8 -> 11.6 GiB, 0.6 GiB a frame).
# That slope includes decoding every frame at once, so it over-states the UNet phase here.
BYTES_PER_FRAME_512_FP16 = 0.6 * 1024**3
# Kept free for the attention kernels' workspace, the allocator's fragmentation and the VAE.
RESERVE_BYTES = 1024**3


def frame_bytes(height: int, width: int, dtype: torch.dtype) -> int:
    """Modelled joint-phase bytes per frame at this size and dtype."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    return int(BYTES_PER_FRAME_512_FP16 * (height * width) / (512 * 512) * itemsize / 2)


def frames_per_pass_for(free_bytes: int, height: int, width: int, dtype: torch.dtype, requested: int, resident_bytes: int = 0) -> int:
    """Frames per pass that fit in `free_bytes` once `resident_bytes` (weights still to be loaded) are in.

    Never more than `requested`, never fewer than 2 (the smallest pass value mapping needs).
    """
    budget = free_bytes - resident_bytes - RESERVE_BYTES
    fit = math.floor(budget / frame_bytes(height, width, dtype)) if budget > 0 else 0
    return max(2, min(requested, fit))


def module_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


def enable_low_memory(pipe) -> list[str]:
    """Turn the memory mode on (once per pipeline); return what it changed, for the status line."""
    if getattr(pipe, "_low_memory", False):
        return []
    done = []
    if hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()
        done.append("VAE tiling")
    if torch.cuda.is_available() and pipe.device.type == "cuda":
        pipe.enable_model_cpu_offload()
        done.append("model CPU offload")
    pipe._low_memory = True
    return done


def plan_frames_per_pass(pipe, height: int, width: int, requested: int) -> int:
    """Frames per pass for the memory mode on the pipeline's device (the request as it is elsewhere)."""
    device = pipe._execution_device
    if device.type != "cuda":
        return requested
    free, _ = torch.cuda.mem_get_info(device)
    unet = pipe.unet
    # Under model offload the UNet is still on the CPU when the render is planned.
    resident = module_bytes(unet) if next(unet.parameters()).device.type != "cuda" else 0
    return frames_per_pass_for(free, height, width, unet.dtype, requested, resident)
