"""Shared pieces of the GPU benchmarks: full-size SD 1.5 architecture with random weights
(the cost does not depend on the weights, and nothing is downloaded), timing, memory, and
the UNet floor.

The builders run on transformers 4.x and 5.x (4.x's CLIPTokenizer only reads files)."""

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
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": clip_tokenizer(), "scheduler": scheduler}


def midsize_components(seed: int = 0) -> dict:
    """Random components with SD 1.5's block layout at a size a CPU renders in seconds (issue 25):
    UNet (64, 128, 256, 256), VAE (16, 32, 64, 64), a 4-layer CLIP text encoder of width 128."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, block_out_channels=(64, 128, 256, 256), layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=128, attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, block_out_channels=(16, 32, 64, 64), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, layers_per_block=2, norm_num_groups=16, sample_size=256,
    )
    tokenizer = clip_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(hidden_size=128, intermediate_size=512, num_attention_heads=4, num_hidden_layers=4,
                       vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "scheduler": scheduler}


def clip_tokenizer():
    """A CLIP tokenizer without downloads: characters as tokens (the tokens do not change the cost)."""
    from direct2v.render.loading import tiny_tokenizer

    return tiny_tokenizer()


def components(tiny: bool, device, dtype, midsize: bool = False) -> dict:
    if tiny:
        from direct2v.render.loading import tiny_components

        comps = tiny_components()
    else:
        comps = midsize_components() if midsize else sd15_components()
    for name in ("unet", "vae", "text_encoder"):
        comps[name] = comps[name].to(device=device, dtype=dtype).eval()
    return comps


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class JointTimer:
    """Time of the UNet calls of the joint phase (batch larger than one CFG pair), from CUDA
    events on a GPU (no host sync inside the loop) or the host clock on a CPU."""

    def __init__(self, unet, device):
        self.cuda = torch.device(device).type == "cuda"
        self.pairs = []
        self._start = None
        self.handles = [
            unet.register_forward_pre_hook(self._pre),
            unet.register_forward_hook(self._post),
        ]

    def _mark(self):
        if self.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def _pre(self, module, args):
        self._start = self._mark() if args[0].shape[0] > 2 else None

    def _post(self, module, args, out):
        if self._start is not None:
            self.pairs.append((self._start, self._mark()))
            self._start = None

    def take(self) -> tuple[float, int]:
        """(seconds, calls) since the last take."""
        pairs, self.pairs = self.pairs, []
        if self.cuda:
            torch.cuda.synchronize()
            return sum(a.elapsed_time(b) for a, b in pairs) / 1e3, len(pairs)
        return sum(b - a for a, b in pairs), len(pairs)

    def close(self):
        for h in self.handles:
            h.remove()


def _peak_reset(dev) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(dev):
    return torch.cuda.max_memory_allocated() if dev.type == "cuda" else None


def measure(fn, device, runs: int, decode=None, timer: JointTimer | None = None) -> dict:
    """Cold time (first call), median of `runs` warm calls, and peak memory over the warm calls.

    With `decode`, `fn` returns latents and `decode(latents)` turns them into frames: the UNet
    phase and the decode are timed and their peaks taken separately. With `timer`, the joint
    phase's UNet time is reported too (median over warm runs).
    """
    dev = torch.device(device)
    sync(dev)
    t = time.perf_counter()
    out = fn()
    if decode is not None:
        decode(out)
    sync(dev)
    cold = time.perf_counter() - t
    if timer is not None:
        timer.take()
    times, unet_times, decode_times, joint_times = [], [], [], []
    unet_peak = decode_peak = 0
    joint_calls = 0
    for _ in range(runs):
        _peak_reset(dev)
        t = time.perf_counter()
        out = fn()
        sync(dev)
        t_unet = time.perf_counter() - t
        unet_peak = max(unet_peak, _peak(dev) or 0)
        t_dec = 0.0
        if decode is not None:
            _peak_reset(dev)
            t = time.perf_counter()
            decode(out)
            sync(dev)
            t_dec = time.perf_counter() - t
            decode_peak = max(decode_peak, _peak(dev) or 0)
        del out
        unet_times.append(t_unet)
        decode_times.append(t_dec)
        times.append(t_unet + t_dec)
        if timer is not None:
            s, joint_calls = timer.take()
            joint_times.append(s)
    cuda = dev.type == "cuda"
    return {
        "cold_s": cold,
        "median_s": statistics.median(times),
        "times_s": times,
        "unet_phase_s": statistics.median(unet_times),
        "decode_s": statistics.median(decode_times) if decode is not None else None,
        "joint_unet_s": statistics.median(joint_times) if joint_times else None,
        "joint_unet_calls": joint_calls if timer is not None else None,
        "peak_bytes": max(unet_peak, decode_peak) if cuda else None,
        "unet_peak_bytes": unet_peak if cuda else None,
        "decode_peak_bytes": decode_peak if cuda and decode is not None else None,
    }


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
    """Write atomically (a cut-off run never leaves half a file): the rows so far survive."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def select(items: list, wanted: list[str] | None, name=lambda x: x) -> list:
    """Items chosen on the command line by 1-based position or by (case-insensitive) name."""
    if not wanted:
        return list(items)
    chosen = []
    for w in wanted:
        if w.isdigit() and 1 <= int(w) <= len(items):
            item = items[int(w) - 1]
        else:
            hits = [x for x in items if name(x).lower() == w.lower()]
            if not hits:
                names = ", ".join(f"{i + 1}={name(x)!r}" for i, x in enumerate(items))
                raise SystemExit(f"unknown row {w!r}; choose from {names}")
            item = hits[0]
        if item not in chosen:
            chosen.append(item)
    return chosen


def device_name(device) -> str:
    dev = torch.device(device)
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
