"""Speed for interactive tweaking (issue 25), side by side with diffusers' TextToVideoZeroPipeline
in one process: full quality, DeepCache's `cache_interval`, and the few-step draft.

    python bench/bench_speed.py                   # CPU: mid-size components, 256x256, 4 frames
    python bench/bench_speed.py --rows 1 3 --runs 3
    python bench/bench_speed.py --gpu --frames 8  # on a GPU: SD 1.5's full size, fp16, 512x512
    python bench/bench_speed.py --tiny --steps 6 --frames 2 --runs 1   # smoke run; the numbers mean nothing

Rows run in rotation (round r runs every row once; round 0 is the cold run and is dropped), so
a load change on a shared machine hits every row alike. On a CPU the ratio is of process CPU
seconds (what the issue measures), beside the wall-clock median; on a GPU of wall seconds.
"UNet evals" counts images through the UNet: full (deep part run) + shallow (deep feature reused).

The draft row loads a random LoRA with LCM-LoRA-SD1.5's shapes (rank 64 on the attention,
feed-forward, projection, resnet, sampler and time-embedding layers), saved to a temporary
folder and loaded the way a draft loads an offline LoRA (render/draft.py), since the real
weights cannot be downloaded here; the cost does not depend on the weights.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time

import torch

from common import components, device_name, select, sync, write_json

# Modules LCM-LoRA SD 1.5 adapts (diffusers' train_lcm_distill_lora_sd_wds.py), at rank 64.
LCM_LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1",
                    "conv2", "conv_shortcut", "downsamplers.0.conv", "upsamplers.0.conv", "time_emb_proj"]
LCM_LORA_RANK = 64

# (label, steps or None for --steps, pipeline keywords; None = the peer, "draft" = the draft preset)
ROWS = [
    ("T2V-Z (diffusers)", None, None),
    ("rotational", None, dict(value_mapping="rotational")),
    ("rotational + DSF 0.2", None, dict(value_mapping="rotational", dsf_quantile=0.2)),
    ("rotational, cache_interval 2", None, dict(value_mapping="rotational", cache_interval=2)),
    ("rotational, cache_interval 3", None, dict(value_mapping="rotational", cache_interval=3)),
    ("rotational, cache_interval 5", None, dict(value_mapping="rotational", cache_interval=5)),
    ("rotational, 20 steps", 20, dict(value_mapping="rotational")),
    ("rotational, 20 steps, cache_interval 3", 20, dict(value_mapping="rotational", cache_interval=3)),
    ("draft (LCM-LoRA, LCM 4 steps, guidance 1, cache_interval 2)", None, "draft"),
    # On a GPU row 3 takes DSF's Triton route (render/dsf_triton.py), this one the PyTorch
    # kernels (dsf.py); on a CPU both are the PyTorch route.
    ("rotational + DSF 0.2, no Triton", None, dict(value_mapping="rotational", dsf_quantile=0.2, triton=False)),
]


def random_lcm_lora(unet, folder: str) -> str:
    """A random LoRA of LCM-LoRA's shapes for `unet`, saved in diffusers' format to `folder`."""
    import copy

    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    u = copy.deepcopy(unet)
    u.add_adapter(LoraConfig(r=LCM_LORA_RANK, lora_alpha=LCM_LORA_RANK, init_lora_weights="gaussian",
                             target_modules=LCM_LORA_TARGETS))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=get_peft_model_state_dict(u))
    return folder


def unet_counter(unet):
    """Images through the UNet per render: all (its last layer, run at every step) and full (the deep part's last block)."""
    seen = {"all": 0, "full": 0}
    hooks = [unet.up_blocks[-1].resnets[-1].register_forward_hook(lambda m, a, o: seen.__setitem__("all", seen["all"] + o.shape[0])),
             unet.up_blocks[-2].register_forward_hook(lambda m, a, o: seen.__setitem__("full", seen["full"] + o.shape[0]))]
    return seen, hooks


@contextlib.contextmanager
def without_triton():
    """DSF on the PyTorch kernels only (the Triton route's peer)."""
    from direct2v.render import dsf_triton

    before, dsf_triton.ENABLED = dsf_triton.ENABLED, False
    try:
        yield
    finally:
        dsf_triton.ENABLED = before


def with_route(route, call):
    with route():
        return call()


def unet_parts(pipe) -> dict:
    """The modules whose CPU seconds --parts reports: the UNet's blocks, its first stage layer by
    layer (where DeepCache splits it, render/deepcache.py), the VAE decoder and the text encoder."""
    u = pipe.unet
    first, last = u.down_blocks[0], u.up_blocks[-1]
    parts = {"conv_in": u.conv_in}
    for kind in ("resnets", "attentions", "downsamplers"):
        parts.update({f"down_blocks.0.{kind}.{i}": m for i, m in enumerate(getattr(first, kind, None) or [])})
    parts.update({f"down_blocks.{i}": b for i, b in enumerate(u.down_blocks) if i})
    parts["mid_block"] = u.mid_block
    parts.update({f"up_blocks.{i}": b for i, b in enumerate(u.up_blocks[:-1])})
    n = len(u.up_blocks) - 1
    for kind in ("resnets", "attentions"):
        parts.update({f"up_blocks.{n}.{kind}.{i}": m for i, m in enumerate(getattr(last, kind, None) or [])})
    parts.update(conv_out=u.conv_out, vae_decoder=pipe.vae.decoder, text_encoder=pipe.text_encoder)
    return parts


def part_timer(pipe):
    """CPU seconds spent in each of unet_parts(pipe), from forward hooks: (seconds, hooks)."""
    spent, hooks = {}, []
    for name, module in unet_parts(pipe).items():
        started = []
        hooks.append(module.register_forward_pre_hook(lambda m, a, s=started: s.append(time.process_time())))
        hooks.append(module.register_forward_hook(
            lambda m, a, o, s=started, n=name: spent.__setitem__(n, spent.get(n, 0.0) + time.process_time() - s.pop())))
    return spent, hooks


def window(steps: int) -> tuple[int, int]:
    """T2V-Z's t0/t1 (44/47 of 50) scaled to `steps`, as RenderSettings.with_steps does."""
    from direct2v.settings import RenderSettings

    s = RenderSettings().with_steps(steps)
    return s.t0, s.t1


def make_rows(rows, args, comps, lora_dir):
    from diffusers import TextToVideoZeroPipeline

    from direct2v.render.draft import use_draft
    from direct2v.render.pipeline import DirecT2VPipeline
    from direct2v.render.session import use_scheduler
    from direct2v.settings import RenderSettings

    ours = DirecT2VPipeline(**comps)
    peer = TextToVideoZeroPipeline(**comps, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    draft_pipe = None
    prompts = [f"a red fox running through snow, frame {i}" for i in range(args.frames)]
    size = dict(height=args.size, width=args.size)
    fns = []
    for label, steps, kw in rows:
        steps = steps or args.steps
        t0, t1 = args.window if args.window and steps == args.steps else window(steps)
        common = dict(num_inference_steps=steps, t0=t0, t1=t1, guidance_scale=7.5, output_type="np", **size)
        if kw is None:
            fn = lambda c=common: peer(prompts[0], video_length=args.frames, generator=torch.Generator("cpu").manual_seed(0), **c)  # noqa: E731
        elif kw == "draft":
            if draft_pipe is None:
                import copy

                draft_pipe = DirecT2VPipeline(**{**comps, "unet": copy.deepcopy(comps["unet"])})
                use_draft(draft_pipe, True, lora_dir)
            run = RenderSettings(draft=True, **size).with_steps(args.steps).for_render()
            use_scheduler(draft_pipe, run.scheduler)
            fn = lambda p=draft_pipe, kw=run.pipeline_kwargs(): p(prompts, generator=torch.Generator("cpu").manual_seed(0), **{**kw, "output_type": "np"})  # noqa: E731
            steps = run.num_inference_steps
        else:
            kw = dict(kw)
            route = without_triton if not kw.pop("triton", True) else contextlib.nullcontext
            fn = lambda c=common, kw=kw, route=route: with_route(route, lambda: ours(prompts, generator=torch.Generator("cpu").manual_seed(0), **c, **kw))  # noqa: E731
        fns.append((label, steps, fn, draft_pipe if kw == "draft" else ours if kw else peer))
    for p in (ours, peer, draft_pipe):
        if p is not None:
            p.set_progress_bar_config(disable=True)
    return fns


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", nargs="+", help="rows by number (1 = the peer) or label; default: all")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--window", type=int, nargs=2, metavar=("T0", "T1"), help="t0 t1 for --steps (default: 44/47 of 50, scaled)")
    ap.add_argument("--size", type=int, default=None, help="pixels (default 256 on a CPU, 512 on a GPU)")
    ap.add_argument("--runs", type=int, default=2, help="warm rounds (median reported)")
    ap.add_argument("--warmup", type=int, default=1, choices=(0, 1), help="a cold round first, not counted")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1: least disturbed by other load)")
    ap.add_argument("--gpu", action="store_true", help="SD 1.5's full-size components on the GPU in fp16")
    ap.add_argument("--tiny", action="store_true", help="tiny random model, 64x64: checks the script runs")
    ap.add_argument("--parts", action="store_true", help="also CPU seconds per UNet block (first stage per layer), VAE, text encoder")
    ap.add_argument("--json", default="bench/results/speed.json")
    return ap.parse_args(argv)


def measure(fns, args, device) -> dict:
    """Per row: wall and CPU seconds of the counted rounds, UNet images, peak GiB (GPU)."""
    runs = {label: dict(steps=steps, wall_s=[], cpu_s=[], peak_gib=[]) for label, steps, *_ in fns}
    for r in range(1 - args.warmup, args.runs + 1):
        for label, _, fn, pipe in fns:
            seen, hooks = unet_counter(pipe.unet)
            spent, more = part_timer(pipe) if args.parts else ({}, [])
            sync(device)
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            w, c = time.perf_counter(), time.process_time()
            with torch.no_grad():
                fn()
            sync(device)
            row = runs[label]
            if r:
                row["wall_s"].append(time.perf_counter() - w)
                row["cpu_s"].append(time.process_time() - c)
                if device == "cuda":
                    row["peak_gib"].append(torch.cuda.max_memory_allocated() / 2**30)
            for h in hooks + more:
                h.remove()
            if r and spent:
                row.setdefault("parts_cpu_s", []).append(spent)
            row["unet_full_images"], row["unet_shallow_images"] = seen["full"], seen["all"] - seen["full"]
            print(f"round {r} {label}: {time.perf_counter() - w:.2f} s", flush=True)
    return runs


def report(runs: dict, args, device, dtype) -> list[dict]:
    """The Markdown table, ratios of CPU seconds (GPU: wall seconds) to the first row."""
    key = "wall_s" if args.gpu else "cpu_s"
    first = next(iter(runs))
    peer = statistics.median(runs[first][key])
    print(f"\n| {device_name(device)}, {dtype}, {args.size}x{args.size}, {args.frames} frames, torch {torch.__version__}, "
          f"{args.threads if not args.gpu else '-'} thread(s) | steps | median wall s | median {'s' if args.gpu else 'CPU s'} "
          f"| / {first} | UNet evals full + shallow (images) | peak GiB |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for label, row in runs.items():
        m = statistics.median(row[key])
        peak = f"{max(row['peak_gib']):.2f}" if row["peak_gib"] else "-"
        results.append(dict(label=label, ratio=m / peer, **row))
        print(f"| {label} | {row['steps']} | {statistics.median(row['wall_s']):.2f} | {m:.2f} | {m / peer:.3f} "
              f"| {row['unet_full_images']} + {row['unet_shallow_images']} | {peak} |")
    if any("parts_cpu_s" in row for row in runs.values()):
        print_parts(runs)
    pairs = {r["label"]: r for r in results}
    a, b = pairs.get("rotational, 20 steps"), pairs.get("rotational, 20 steps, cache_interval 3")
    if a and b:
        print(f"\ncache_interval 3 / cache_interval 1 at 20 steps: {b['ratio'] / a['ratio']:.3f}")
    return results


def print_parts(runs: dict) -> None:
    """CPU seconds per part (median over rounds), one column per row."""
    labels = [label for label, row in runs.items() if "parts_cpu_s" in row]
    names = list(runs[labels[0]]["parts_cpu_s"][0])
    print("\n| CPU s in | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name in names:
        cells = [statistics.median(r.get(name, 0.0) for r in runs[label]["parts_cpu_s"]) for label in labels]
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


def main(argv=None) -> int:
    args = parse_args(argv)
    device = "cuda" if args.gpu else "cpu"
    dtype = torch.float16 if args.gpu else torch.float32
    args.size = args.size or (64 if args.tiny else 512 if args.gpu else 256)
    if not args.gpu:
        torch.set_num_threads(args.threads)
    rows = select(ROWS, args.rows, name=lambda r: r[0])  # ratios are to the first row chosen (1 = the peer)
    comps = components(args.tiny, device, dtype, midsize=not args.gpu)
    with tempfile.TemporaryDirectory() as tmp:
        fns = make_rows(rows, args, comps, random_lcm_lora(comps["unet"], tmp))
        runs = measure(fns, args, device)
    results = report(runs, args, device, dtype)
    write_json(args.json, dict(device=device_name(device), size=args.size, frames=args.frames, steps=args.steps, rows=results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
