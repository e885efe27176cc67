"""Shared pieces of the GPU benchmarks: full-size SD 1.5 architecture with random weights
(the cost does not depend on the weights, and nothing is downloaded), timing, memory, and
the FLOP floor."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def sd15_components(seed: int = 0) -> dict:
    """UNet, VAE and CLIP text encoder with SD 1.5's configurations, randomly initialised."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from direct2v.render.loading import tiny_tokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=768,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                       vocab_size=49408, max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": tiny_tokenizer(), "scheduler": scheduler}


def components(tiny: bool, device, dtype) -> dict:
    if tiny:
        from direct2v.render.loading import tiny_components

        comps = tiny_components()
    else:
        comps = sd15_components()
    for name in ("unet", "vae", "text_encoder"):
        comps[name] = comps[name].to(device=device, dtype=dtype).eval()
    return comps


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure(fn, device, runs: int) -> dict:
    """Cold time (first call), median of `runs` warm calls, and peak memory over the warm calls."""
    dev = torch.device(device)
    sync(dev)
    t = time.perf_counter()
    fn()
    sync(dev)
    cold = time.perf_counter() - t
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync(dev)
        times.append(time.perf_counter() - t)
    peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else None
    return {"cold_s": cold, "median_s": statistics.median(times), "times_s": times, "peak_bytes": peak}


def unet_flops_batch1(unet, height: int, width: int, device, dtype) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    h, w = height // 8, width // 8
    x = torch.randn(1, unet.config.in_channels, h, w, device=device, dtype=dtype)
    ctx = torch.randn(1, 77, unet.config.cross_attention_dim, device=device, dtype=dtype)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        unet(x, torch.tensor(500, device=device), encoder_hidden_states=ctx)
    return counter.get_total_flops()


def matmul_rate(device, dtype, n: int = 8192, reps: int = 20) -> float:
    """Measured dense matmul FLOP/s in `dtype` on `device`."""
    dev = torch.device(device)
    if dev.type != "cuda":
        n, reps = 512, 5
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(dev)
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(dev)
    return 2 * n**3 * reps / (time.perf_counter() - t)


def gib(x) -> str:
    return "-" if x is None else f"{x / 1024**3:.2f}"


def write_json(path: str | Path, data: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def device_name(device) -> str:
    dev = torch.device(device)
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
