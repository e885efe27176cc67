"""Print the built-in writer's 8-frame scripts for the evaluation prompts (issue 11, section 5).

The prompts are everyday requests the writer was not written against; grade each script by
hand 0-3 (3 tells the story, 0 broken). Run from a checkout:

    python bench/offline_writer_eval.py [--frames 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROMPTS = Path(__file__).with_name("offline_writer_prompts.txt")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))
    from direct2v.director import make_director

    prompts = [p.strip() for p in PROMPTS.read_text().splitlines() if p.strip() and not p.startswith("#")]
    out, start = {}, time.perf_counter()
    for prompt in prompts:
        d = make_director("offline")
        out[prompt] = d.direct(prompt, num_frames=args.frames)
        print(f"\n## {prompt}")
        for i, frame in enumerate(out[prompt]):
            print(f"{i + 1}. {frame}")
    print(f"\n{len(prompts)} prompts in {time.perf_counter() - start:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
