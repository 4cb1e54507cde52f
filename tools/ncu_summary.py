#!/usr/bin/env python3
"""ncu_summary.py LOG [N]: the kernels of an Nsight Compute per-kernel
summary (gpu_sweep.sh's kernels-* logs: ncu --metrics gpu__time_duration.sum
--print-summary per-kernel) by total GPU time, average x invocations summed
over every launch configuration of a kernel name; the N largest (default 15)
with their share and launch count, the total, and the time by kernel class
(kernel_class: the classes flux_eager.py sums PyTorch's kernels by, so the
two runtimes' steps can be set side by side). docs/perf/ort-gpu.md's "where
the GPU time goes" tables come from it."""
import collections
import re
import sys

UNITS = {"ns": 1e-6, "nsecond": 1e-6, "us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0, "s": 1e3, "second": 1e3}


# The first pattern a kernel's name matches (lower case) names its class.
CLASSES = (
    ("attention", r"flash|fmha|sdpa|attention"),
    ("conv", r"fprop|dgrad|implicit_gemm|conv|winograd"),
    ("gemm", r"nvjet|gemm|xmma|cutlass|matmul|cublas"),
    ("norm", r"norm|bn_fw"),
    ("softmax", r"softmax"),
    ("transpose/copy", r"transpose|nchwtonhwc|nhwctonchw|copy|permute|concat|cat|slice|split|gather|pad|memcpy"),
    ("reduce", r"reduce"),
    ("elementwise", r"elementwise|vectorized|unrolled|binary|unary|gelu|silu|cast|rotary|op_generic|fill|resize"),
)


def kernel_class(name):
    n = name.lower()
    for cls, pat in CLASSES:
        if re.search(pat, n):
            return cls
    return "other"


def summarise(lines):
    total, count = collections.Counter(), collections.Counter()
    name, calls = None, 0
    for line in lines:
        m = re.match(r"\s{2}(?:void )?([^<( ]+).*Invocations (\d+)", line)
        if m:
            name, calls = m.group(1), int(m.group(2))
            continue
        m = re.search(r"gpu__time_duration\.sum\s+(\w+)\s+[\d.,]+\s+[\d.,]+\s+([\d.,]+)", line)
        if m and name:
            total[name] += float(m.group(2).replace(",", "")) * UNITS[m.group(1)] * calls
            count[name] += calls
    return total, count


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    with open(sys.argv[1], errors="replace") as f:
        total, count = summarise(f)
    ms = sum(total.values())
    print(f"{ms:.2f} ms of kernels over {sum(count.values())} launches")
    for k, v in total.most_common(int(sys.argv[2]) if len(sys.argv) == 3 else 15):
        print(f"{v:9.3f} ms {100 * v / ms:5.1f} % x{count[k]:<5d} {k}")
    by = collections.Counter()
    for k, v in total.items():
        by[kernel_class(k)] += v
    print("by class: " + ", ".join(f"{k} {v:.2f} ({100 * v / ms:.0f} %)" for k, v in by.most_common()))


if __name__ == "__main__":
    main()
