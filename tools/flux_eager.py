#!/usr/bin/env python3
"""flux_eager.py: the baseline the ONNX Runtime transformer is measured
against, on the same card in the same lease: make_gpu_models.py's FLUX
transformer (the module the ONNX graphs are exported from, random weights)
run by PyTorch eager, one denoising step at a time, its attention PyTorch's
scaled_dot_product_attention as Black Forest Labs' reference code calls it.

    python3 tools/flux_eager.py [--double 19 --single 38] [--res 512,1024]
                                [--dtype bf16,fp16] [--runs 5] [--kernels] [--smoke]

Prints one line per dtype and size: the median and the fastest of --runs
steps (CUDA events, after 2 warm-up steps), in the words gpu_sweep.sh's logs
use ("step-ms"). --kernels adds PyTorch's profile of one step by kernel class
(ncu_summary.py's classes), to set beside Nsight Compute's of the ONNX
Runtime graph (docs/perf/ort-gpu.md). --smoke runs a narrow model at 64 px
(on the CPU where there is no GPU: a check of the script, not a timing).
"""

import argparse
import collections
import statistics
import time

import torch
import torch.nn.functional as F

import make_gpu_models as g
from ncu_summary import kernel_class


def sdpa(q, k, v, bias=None, scale=None):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def step_ms(m, args, runs):
    times = []
    with torch.inference_mode():
        for i in range(runs + 2):
            sync()
            t0 = time.perf_counter()
            m(*args)
            sync()
            if i >= 2:
                times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times), min(times)


def kernels(m, args):
    with torch.inference_mode(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as p:
        m(*args)
        torch.cuda.synchronize()
    by = collections.Counter()
    for e in p.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            by[kernel_class(e.name)] += e.device_time_total / 1e3
    total = sum(by.values())
    return total, by


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--double", type=int, default=19)
    ap.add_argument("--single", type=int, default=38)
    ap.add_argument("--res", default="512,1024")
    ap.add_argument("--dtype", default="bf16,fp16")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kernels", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    o = ap.parse_args()
    if hasattr(F, "scaled_dot_product_attention"):  # torch 2 (torch 1.13's --smoke keeps the plain one)
        g.plain_attention = sdpa
    narrow = dict(d=96, h=2, axes=(16, 16, 16)) if o.smoke else {}
    res_list = [64] if o.smoke else [int(r) for r in o.res.split(",")]
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"torch {torch.__version__}, {card}, {o.double} double + {o.single} single blocks")
    for name in o.dtype.split(","):
        dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[name]
        torch.set_default_dtype(dt)  # the weights made in dt: no float32 copy of 11.85 B parameters
        m = g.build(g.FluxTransformer, dt, n_double=o.double, n_single=o.single, **narrow)
        torch.set_default_dtype(torch.float32)
        params = sum(p.numel() for p in m.parameters()) / 1e9
        for res in res_list:
            args = g.transformer_inputs(res // 16, 256, dt)  # 256 text tokens, as the stage feeds
            med, best = step_ms(m, args, o.runs)
            print(f"eager {name} {res}px: {params:.2f} B parameters, step-ms {med:.2f} (fastest {best:.2f}, {o.runs} runs)")
            if o.kernels and torch.cuda.is_available():
                total, by = kernels(m, args)
                print(f"  kernels {total:.2f} ms: " + ", ".join(f"{k} {v:.2f} ({100 * v / total:.0f} %)" for k, v in by.most_common()))
        del m
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
