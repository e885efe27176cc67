"""Speed and memory of a render, side by side with diffusers' TextToVideoZeroPipeline.

    python bench/bench_render.py                          # GPU: full-size SD 1.5, fp16, 512x512, 50 DDIM steps
    python bench/bench_render.py --frames 8 --rows 1 4    # the peer and rotational + DSF only, 8 frames
    python bench/bench_render.py --tiny                   # CPU smoke run on the tiny model (numbers mean nothing)

Rows: the peer first, then this project's configurations (see ROWS; pick by number or label
with --rows). Each row is written to the JSON file as soon as it finishes, so a run cut off
by a time limit keeps what it measured. Per row: median and cold seconds from prompts to
decoded frames, the UNet phase and the decode timed apart with separate peaks (the peer
decodes all frames at once, this pipeline `vae_decode_batch` = 8 at a time, which would
otherwise dominate the memory comparison), the joint phase's UNet time from CUDA events,
the ratio to the peer, and the time over the UNet floor (UNet FLOPs from FlopCounterMode
over a measured matmul rate; the text encoder, scheduler and VAE are not in the floor).
"""

from __future__ import annotations

import argparse
import datetime
import platform

import torch

from common import JointTimer, components, device_name, gib, matmul_rate, measure, select, unet_flops_batch1, write_json

ROWS = [
    ("T2V-Z (diffusers)", None),
    ("first, all blocks", dict(value_mapping="first", attention_blocks="all")),
    ("rotational", dict(value_mapping="rotational")),
    ("rotational + DSF 0.2", dict(value_mapping="rotational", dsf_quantile=0.2)),
    ("rotational + DSF 0.2, all blocks", dict(value_mapping="rotational", dsf_quantile=0.2, attention_blocks="all")),
    ("sparse-causal", dict(value_mapping="sparse_causal")),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--rows", nargs="+", help="rows by number (1 = the peer) or label; default: all")
    ap.add_argument("--runs", type=int, default=3, help="warm runs per row (median reported)")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--tiny", action="store_true", help="tiny random model on the CPU: checks the script runs")
    ap.add_argument("--json", default="bench/results/render.json")
    args = ap.parse_args(argv)
    rows = select(ROWS, args.rows, name=lambda r: r[0])

    from diffusers import TextToVideoZeroPipeline

    from direct2v.render.pipeline import DirecT2VPipeline

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    size = 64 if args.tiny else args.size
    steps = args.steps
    t0, t1 = (44, 47) if steps == 50 else (max(steps - 6, 0), max(steps - 3, 1))
    comps = components(args.tiny, device, dtype)
    ours = DirecT2VPipeline(**comps)
    peer = TextToVideoZeroPipeline(**comps, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    for p in (ours, peer):
        p.set_progress_bar_config(disable=True)

    flops_b1 = unet_flops_batch1(comps["unet"], size, size, device, dtype)
    rate = matmul_rate(device, dtype)
    common = dict(num_inference_steps=steps, t0=t0, t1=t1, guidance_scale=7.5, height=size, width=size,
                  output_type="latent")
    head = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), device=device_name(device), dtype=str(dtype),
                torch=torch.__version__, python=platform.python_version(), size=size, steps=steps, t0=t0, t1=t1,
                unet_flops_batch1=flops_b1, matmul_flops_per_s=rate)
    timer = JointTimer(comps["unet"], device)
    results = []
    try:
        for frames in args.frames:
            prompts = [f"a red fox running through snow, frame {i}" for i in range(frames)]
            unet_images = 2 * ((steps - t1 - 1) + (t1 - t0) + (t1 + 1) * frames)
            floor_s = unet_images * flops_b1 / rate
            peer_median = None
            for label, kw in rows:
                if kw is None:
                    fn = lambda: peer(prompts[0], video_length=frames, motion_field_strength_x=0, motion_field_strength_y=0,
                                      generator=torch.Generator("cpu").manual_seed(0), **common).images
                    decode = torch.no_grad()(peer.decode_latents)
                else:
                    fn = lambda kw=kw: ours(prompts, generator=torch.Generator("cpu").manual_seed(0), **common, **kw).frames
                    decode = torch.no_grad()(ours.decode_latents)
                m = measure(fn, device, args.runs, decode=decode, timer=timer)
                if kw is None:
                    peer_median = m["median_s"]
                row = dict(label=label, frames=frames, **m, floor_s=floor_s, time_over_floor=m["median_s"] / floor_s,
                           ratio_to_peer=m["median_s"] / peer_median if peer_median else None)
                results.append(row)
                write_json(args.json, dict(head, rows=results))
                ratio = f"x{row['ratio_to_peer']:.2f} peer" if peer_median else "(no peer row)"
                print(f"{label:36s} F={frames:3d}  median {m['median_s']:7.3f} s  cold {m['cold_s']:7.3f} s  "
                      f"joint UNet {m['joint_unet_s']:7.3f} s  UNet-phase peak {gib(m['unet_peak_bytes'])} GiB  "
                      f"decode peak {gib(m['decode_peak_bytes'])} GiB  {ratio}  x{row['time_over_floor']:.2f} UNet floor",
                      flush=True)
    finally:
        timer.close()

    print()
    print(f"| rows ({device_name(device)}, {dtype}, {size}x{size}, {steps} DDIM steps, CFG) | frames | median s | cold s "
          f"| joint UNet s | UNet-phase peak GiB | decode peak GiB | / peer | / UNet floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ratio = "-" if r["ratio_to_peer"] is None else f"{r['ratio_to_peer']:.2f}"
        print(f"| {r['label']} | {r['frames']} | {r['median_s']:.3f} | {r['cold_s']:.3f} | {r['joint_unet_s']:.3f} | "
              f"{gib(r['unet_peak_bytes'])} | {gib(r['decode_peak_bytes'])} | {ratio} | {r['time_over_floor']:.2f} |")
    print(f"\nUNet FLOPs at batch 1: {flops_b1 / 1e9:.1f} GFLOP; measured {dtype} matmul rate {rate / 1e12:.1f} TFLOP/s")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
