"""The built-in writer's harness (issue 24, section 6): every script for the prompt list,
printed with the quality gate's flags and the mechanical figures, then a summary by kind.

The prompts (bench/offline_writer_prompts.txt, grouped by kind: actions, transformations,
time-lapses, simultaneous events, disappearances, no event, not English) are everyday
requests; grade the printed scripts by hand 0-3 (3 tells the story, 2 usable with light
edits, 1 the prompt repeated or key events missing, 0 broken). Figures per script:
- subject: frames that name a subject of the prompt's events (quality.prompt_subjects); where
  the story ends with the subject gone, the late frames showing the place without it count;
- distinct: adjacent pairs that differ once shot and camera words are removed;
- flags: the gate's problems (quality.script_problems with the prompt).

    python bench/offline_writer_eval.py [--frames 8] [--backend offline] [--json out.json]
    python bench/offline_writer_eval.py --prompt "a dog chases a ball"   # one prompt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROMPTS = Path(__file__).with_name("offline_writer_prompts.txt")


def read_prompts(path: Path = PROMPTS) -> list[tuple[str, str]]:
    """(kind, prompt) for every prompt line; a "## kind" line starts a group."""
    kind, out = "", []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("## "):
            kind = line[3:].strip()
        elif line and not line.startswith("#"):
            out.append((kind, line))
    return out


def figures(prompt: str, frames: list[str]) -> dict:
    """The mechanical figures of one script (see the module docstring)."""
    from direct2v.director import quality

    subjects = quality.prompt_subjects(prompt)
    gone = quality.ends_in_absence(prompt)
    naming = 0
    for k, frame in enumerate(frames):
        found = quality.noun_lemmas(frame)
        naming += not subjects or bool(found & set(subjects)) or (gone and k >= len(frames) // 2 and not found & set(subjects))
    bare = [quality.words_of(quality.strip_shot_words(f)) for f in frames]
    distinct = sum(a != b for a, b in zip(bare, bare[1:]))
    return {"subject": ", ".join(subjects), "naming": naming, "distinct": distinct, "pairs": max(0, len(frames) - 1),
            "flags": {str(i + 1): p for i, p in quality.script_problems(frames, prompt=prompt).items()}}


def run(prompts: list[tuple[str, str]], frames: int, backend: str, model: str | None) -> dict:
    from direct2v.director import make_director

    results = {}
    for kind, prompt in prompts:
        director = make_director(backend, model=model) if model else make_director(backend)
        start = time.perf_counter()
        script = director.direct(prompt, num_frames=frames)
        seconds = time.perf_counter() - start
        results[prompt] = {"kind": kind, "frames": list(script), "notice": script.notice, "seconds": seconds,
                           **figures(prompt, script)}
    return results


def report(results: dict) -> None:
    for prompt, r in results.items():
        print(f"\n## [{r['kind']}] {prompt}")
        print(f"   subject {r['subject']!r}: named in {r['naming']}/{len(r['frames'])} frames; "
              f"{r['distinct']}/{r['pairs']} adjacent pairs distinct without shot words")
        if r["notice"]:
            print(f"   notice: {r['notice']}")
        for i, frame in enumerate(r["frames"]):
            flags = r["flags"].get(str(i + 1))
            print(f"{i + 1:>3}. {frame}" + (f"   [gate: {'; '.join(flags)}]" if flags else ""))
    print("\nkind                   scripts  frames naming subject  scripts with a repeat  flagged frames")
    kinds = dict.fromkeys(r["kind"] for r in results.values())
    for kind in [*kinds, "all"]:
        rs = [r for r in results.values() if kind in ("all", r["kind"])]
        named = sum(r["naming"] for r in rs)
        total = sum(len(r["frames"]) for r in rs)
        repeats = sum(r["distinct"] < r["pairs"] for r in rs)
        flagged = sum(len(r["flags"]) for r in rs)
        print(f"{kind:<22} {len(rs):>7}  {named:>5}/{total:<5} ({100 * named / max(1, total):5.1f}%)  "
              f"{repeats:>21}  {flagged:>14}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--backend", default="offline", help="director back end (default: the built-in writer)")
    parser.add_argument("--llm-model", default=None, help="model for the back end")
    parser.add_argument("--prompt", action="append", help="a prompt of your own instead of the list (repeatable)")
    parser.add_argument("--json", default=None, help="also write every script and figure to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    prompts = [("yours", p) for p in args.prompt] if args.prompt else read_prompts()
    start = time.perf_counter()
    results = run(prompts, args.frames, args.backend, args.llm_model)
    report(results)
    print(f"\n{len(prompts)} prompts in {time.perf_counter() - start:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
