"""Long videos: the caching process against Text2Video-Zero's chunking, B frames per pass.

    python bench/bench_long.py                          # GPU: 8, 16, 32, 64 frames, B=16, 512x512, fp16
    python bench/bench_long.py --tiny --frames 6 12     # CPU smoke run on the tiny model

Per row: seconds (one run after a warm-up render), the UNet phase's and the decode's peak GPU
memory, and the anchor cache's size. Each row is written to the JSON file when it finishes.
"""

from __future__ import annotations

import argparse
import datetime

import torch

from common import components, device_name, gib, measure, write_json


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, nargs="+", default=[8, 16, 32, 64])
    ap.add_argument("--per-pass", type=int, default=16)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--chunking", nargs="+", default=["cache", "t2vz"], choices=["cache", "t2vz"])
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--json", default="bench/results/long.json")
    args = ap.parse_args(argv)

    from direct2v.render.pipeline import DirecT2VPipeline

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    size = 64 if args.tiny else 512
    steps = args.steps
    t0, t1 = (44, 47) if steps == 50 else (max(steps - 6, 0), max(steps - 3, 1))
    pipe = DirecT2VPipeline(**components(args.tiny, device, dtype))
    pipe.set_progress_bar_config(disable=True)
    common = dict(num_inference_steps=steps, t0=t0, t1=t1, guidance_scale=7.5, height=size, width=size,
                  frames_per_pass=args.per_pass, value_mapping="rotational", output_type="latent")
    head = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), device=device_name(device),
                dtype=str(dtype), size=size, steps=steps)
    rows = []
    for frames in args.frames:
        prompts = [f"a paper boat drifting down a stream, moment {i}" for i in range(frames)]
        for chunking in args.chunking:
            cache_bytes = []

            def fn(chunking=chunking):
                out = pipe(prompts, generator=torch.Generator("cpu").manual_seed(0), chunking=chunking, **common)
                cache_bytes.append(out.anchor_cache_bytes)
                return out.frames

            m = measure(fn, device, args.runs, decode=torch.no_grad()(pipe.decode_latents))
            row = dict(frames=frames, chunking=chunking, per_pass=args.per_pass, cache_bytes=cache_bytes[-1], **m)
            rows.append(row)
            write_json(args.json, dict(head, rows=rows))
            print(f"F={frames:3d} {chunking:5s}  {m['median_s']:8.2f} s  UNet-phase peak {gib(m['unet_peak_bytes'])} GiB  "
                  f"decode peak {gib(m['decode_peak_bytes'])} GiB  cache {gib(row['cache_bytes'])} GiB", flush=True)
    print()
    print(f"| frames ({device_name(device)}, B={args.per_pass}) | chunking | seconds | UNet-phase peak GiB | decode peak GiB | cache GiB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['frames']} | {r['chunking']} | {r['median_s']:.2f} | {gib(r['unet_peak_bytes'])} | "
              f"{gib(r['decode_peak_bytes'])} | {gib(r['cache_bytes'])} |")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
