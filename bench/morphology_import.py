"""Why the built-in writer uses lemminflect: import plus first use of each candidate morphology
library, each in a fresh interpreter, side by side (`pip install inflect` to include it).

    python bench/morphology_import.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CODE = {
    "lemminflect": "from lemminflect import getInflection, getLemma; getInflection('run', 'VBG'); getLemma('corgis', 'NOUN')",
    "inflect": "import inflect; e = inflect.engine(); e.plural('corgi'); e.a('umbrella'); e.present_participle('run')",
}
TIMED = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CODE}
    for _ in range(args.runs):  # interleaved, so machine load hits both alike
        for name, code in CODE.items():
            run = subprocess.run([sys.executable, "-c", TIMED.format(code=code)], capture_output=True, text=True)
            if run.returncode == 0:
                times[name].append(float(run.stdout))
    for name, values in times.items():
        if values:
            print(f"{name:12s} median {statistics.median(values):.3f} s  min {min(values):.3f} s  ({len(values)} runs)")
        else:
            print(f"{name:12s} not installed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
