#!/usr/bin/env python3
"""ort_profile_runs.py PROFILE [K]: the runs of one ONNX Runtime profile
(a session's Chrome-trace JSON, as SPLATBENCH_ORT_PROFILE=DIR makes splatbench
write for every session) side by side, to find why some runs are slow.

For each run (a model_run event, in order): its time, the sum of its nodes'
kernel times (on the CUDA provider, how long the host spent in each node:
launching, or waiting where a node synchronises) and the rest (the run's
time outside its nodes: the wait for the GPU at the end, the executor's own
work). Then, for the K slowest runs (default 3), the nodes that took the
most longer than their median over all runs. A slow run whose extra time is
in one node points at that node (an allocation, a copy that waits); one
whose extra time is in the rest, with every node as quick as usual, was
slow on the GPU itself."""
import json
import statistics
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    k = int(sys.argv[2]) if len(sys.argv) == 3 else 3
    with open(sys.argv[1]) as f:
        events = json.load(f)
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"), key=lambda e: e["ts"])
    if not runs:
        sys.exit(f"{sys.argv[1]}: no model_run events (not an ONNX Runtime profile, or no run)")
    nodes = sorted((e for e in events if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")),
                   key=lambda e: e["ts"])
    per = [dict() for _ in runs]  # node name -> microseconds, per run
    i = 0
    for n in nodes:
        while i < len(runs) and n["ts"] > runs[i]["ts"] + runs[i]["dur"]:
            i += 1
        if i == len(runs):
            break
        if n["ts"] >= runs[i]["ts"]:
            name = n["name"][: -len("_kernel_time")]
            per[i][name] = per[i].get(name, 0) + n["dur"]
    print("run  time (ms)  in nodes (ms)  rest (ms)  nodes")
    for j, (r, p) in enumerate(zip(runs, per)):
        inside = sum(p.values())
        print(f"{j:3d}  {r['dur'] / 1e3:9.2f}  {inside / 1e3:13.2f}  {(r['dur'] - inside) / 1e3:9.2f}  {len(p)}")
    median = {}
    for p in per:
        for name, d in p.items():
            median.setdefault(name, []).append(d)
    median = {name: statistics.median(ds) for name, ds in median.items()}
    usual = statistics.median(r["dur"] for r in runs)
    for j in sorted(range(len(runs)), key=lambda j: -runs[j]["dur"])[:k]:
        extra = sorted(((d - median[name], name, d) for name, d in per[j].items()), reverse=True)[:5]
        print(f"run {j}: {runs[j]['dur'] / 1e3:.2f} ms, {(runs[j]['dur'] - usual) / 1e3:+.2f} against the median run; "
              "its nodes furthest over their medians:")
        for over, name, d in extra:
            print(f"  {over / 1e3:+9.3f} ms  {d / 1e3:9.3f} ms  {name}")


if __name__ == "__main__":
    main()
