"""The built-in writer's harness (issue 24, section 6): every script for the prompt list,
printed with the quality gate's flags and the mechanical figures, then a summary by kind.

The prompts (bench/offline_writer_prompts.txt, grouped by kind: actions, transformations,
time-lapses, simultaneous events, disappearances, no event, not English) are everyday
requests; grade the printed scripts by hand 0-3 (3 tells the story, 2 usable with light
edits, 1 the prompt repeated or key events missing, 0 broken). Figures per script:
- subject: frames that name a subject of the prompt's events (quality.prompt_subjects); where
  the story ends with the subject gone, the late frames showing the place without it count;
- distinct: adjacent pairs that differ once shot and camera words are removed;
- flags: the gate's problems (quality.script_problems with the prompt);
- framing only: every frame is one picture but for its framing (a still scene where nothing the
  prompt names moves by itself: "a bowl of fruit on a kitchen table"); still counted as a repeat;
- fallback: steps the built-in writer staged with its generic fallback (offline._action)
  because no staging of its own fits the verb: the usual cause of "the prompt repeated".

    python bench/offline_writer_eval.py [--frames 8] [--backend offline] [--json out.json]
    python bench/offline_writer_eval.py --prompt "a dog chases a ball"   # one prompt
"""

from __future__ import annotations

import argparse
import contextlib
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
    framing_only = len(frames) > 1 and len(set(bare)) == 1
    return {"subject": ", ".join(subjects), "naming": naming, "distinct": distinct, "pairs": max(0, len(frames) - 1),
            "framing_only": framing_only,
            "flags": {str(i + 1): p for i, p in quality.script_problems(frames, prompt=prompt).items()}}


@contextlib.contextmanager
def counting_fallback():
    """Counts the steps the built-in writer hands to its generic fallback (offline._action) while
    the block runs: yields a one-item list holding the count (0 on other back ends)."""
    from direct2v.director import offline

    count, original = [0], getattr(offline, "_action", None)
    if original is None:
        yield count
        return

    def counted(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    offline._action = counted
    try:
        yield count
    finally:
        offline._action = original


def run(prompts: list[tuple[str, str]], frames: int, backend: str, model: str | None) -> dict:
    from direct2v.director import make_director

    results = {}
    for kind, prompt in prompts:
        director = make_director(backend, model=model) if model else make_director(backend)
        start = time.perf_counter()
        with counting_fallback() as fallback:
            script = director.direct(prompt, num_frames=frames)
        seconds = time.perf_counter() - start
        results[prompt] = {"kind": kind, "frames": list(script), "notice": script.notice, "seconds": seconds,
                           "fallback": fallback[0], **figures(prompt, script)}
    return results


def report(results: dict) -> None:
    for prompt, r in results.items():
        print(f"\n## [{r['kind']}] {prompt}")
        print(f"   subject {r['subject']!r}: named in {r['naming']}/{len(r['frames'])} frames; "
              f"{r['distinct']}/{r['pairs']} adjacent pairs distinct without shot words"
              + ("; framing only (nothing in the prompt moves by itself)" if r.get("framing_only") else ""))
        if r["notice"]:
            print(f"   notice: {r['notice']}")
        if r.get("fallback"):
            print(f"   fallback: {r['fallback']} step(s) staged by the generic fallback (offline._action)")
        for i, frame in enumerate(r["frames"]):
            flags = r["flags"].get(str(i + 1))
            print(f"{i + 1:>3}. {frame}" + (f"   [gate: {'; '.join(flags)}]" if flags else ""))
    print("\nkind                   scripts  frames naming subject  scripts with a repeat (framing only)  flagged frames"
          "  fallback")
    kinds = dict.fromkeys(r["kind"] for r in results.values())
    for kind in [*kinds, "all"]:
        rs = [r for r in results.values() if kind in ("all", r["kind"])]
        named = sum(r["naming"] for r in rs)
        total = sum(len(r["frames"]) for r in rs)
        repeats = sum(r["distinct"] < r["pairs"] for r in rs)
        flagged = sum(len(r["flags"]) for r in rs)
        fallback = sum(bool(r.get("fallback")) for r in rs)
        framed = sum(bool(r.get("framing_only")) for r in rs)
        print(f"{kind:<22} {len(rs):>7}  {named:>5}/{total:<5} ({100 * named / max(1, total):5.1f}%)  "
              f"{repeats:>21} {f'({framed})':>14}  {flagged:>14}  {fallback:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--backend", default="offline", help="director back end (default: the built-in writer)")
    parser.add_argument("--llm-model", default=None, help="model for the back end")
    parser.add_argument("--prompt", action="append", help="a prompt of your own instead of the list (repeatable)")
    parser.add_argument("--prompts", default=None, help="a prompt list file of your own (the same format)")
    parser.add_argument("--json", default=None, help="also write every script and figure to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    prompts = [("yours", p) for p in args.prompt] if args.prompt else read_prompts(Path(args.prompts) if args.prompts else PROMPTS)
    start = time.perf_counter()
    results = run(prompts, args.frames, args.backend, args.llm_model)
    report(results)
    print(f"\n{len(prompts)} prompts in {time.perf_counter() - start:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
