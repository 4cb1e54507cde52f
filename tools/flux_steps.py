#!/usr/bin/env python3
"""flux_steps.py LOG...: each FLUX generation's steps from splatbench's debug
log (`--log-level debug`, the "flux step" lines), and the slow ones.

A generation starts at step=1. A step is slow when it takes more than SLOW
(1.25) times the median step of its log. Prints, per log: generations,
the median step, and each slow step with its generation and position, so
that two binaries' logs of the same bench can be set side by side
(gpu_sweep.sh's ab-t2i-* runs). Standard library only.
"""
import re
import statistics
import sys

SLOW = 1.25
LINE = re.compile(r'msg="flux step" step=(\d+) .*elapsed=([0-9.]+)(ns|µs|us|ms|s)\b')
UNIT = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def generations(path):
    """Each generation's step times in ms, in order."""
    gens = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            step, ms = int(m.group(1)), float(m.group(2)) * UNIT[m.group(3)]
            if step == 1 or not gens:
                gens.append([])
            gens[-1].append(ms)
    return gens


def main(paths):
    if not paths:
        sys.exit(__doc__)
    for path in paths:
        gens = generations(path)
        steps = [s for g in gens for s in g]
        if not steps:
            print(f"{path}: no flux step lines (run with --log-level debug)")
            continue
        med = statistics.median(steps)
        slow = [(i + 1, j + 1, s) for i, g in enumerate(gens) for j, s in enumerate(g) if s > SLOW * med]
        hit = len({i for i, _, _ in slow})
        print(f"{path}: {len(gens)} generations, {len(steps)} steps, median step {med:.1f} ms, "
              f"{len(slow)} slow steps (> {SLOW}x) in {hit} generations")
        for i, j, s in slow:
            print(f"  generation {i} step {j}: {s:.1f} ms ({s / med:.2f}x)")


if __name__ == "__main__":
    main(sys.argv[1:])
