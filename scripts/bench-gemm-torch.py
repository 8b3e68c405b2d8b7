#!/usr/bin/env python3
"""PyTorch side of `npm run bench:gemm`: milliseconds of F.conv2d (float32, NCHW as in scripts/bench-torch.py, no autograd) for
the convolutions listed in a JSON file written by scripts/bench-gemm.ts (one object per line of the list:
key, x [N,H,W,C], filter [kh,kw,Cin,Cout], strides, pads [top,bottom,left,right]).

Prints one JSON object {key: [median wall ms, median process-CPU ms]} over --reps calls after one warm-up call,
plus "_blas_gflops": a 512×512 matrix product's GFLOP/s (1×1 convolutions go through the BLAS; Debian's
python3-torch installed without its recommended libopenblas0 gets the reference BLAS, ~3 GFLOP/s).
Run with Debian's torch: /usr/bin/python3 scripts/bench-gemm-torch.py shapes.json --threads 1 --reps 3
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument('shapes')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--reps', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(a.shapes) as f:
        shapes = json.load(f)
    out = {}
    with torch.no_grad():
        for s in shapes:
            n, h, w, c = s['x']
            kh, kw, cin, cout = s['filter']
            top, bottom, left, right = s['pads']
            x = torch.randn(n, c, h, w)
            if top != bottom or left != right:
                x = F.pad(x, (left, right, top, bottom))
                pad = 0
            else:
                pad = (top, left)
            wt = torch.randn(cout, cin, kh, kw)
            F.conv2d(x, wt, stride=tuple(s['strides']), padding=pad)
            wall, cpu = [], []
            for _ in range(a.reps):
                t0, c0 = time.perf_counter(), time.process_time()
                F.conv2d(x, wt, stride=tuple(s['strides']), padding=pad)
                wall.append((time.perf_counter() - t0) * 1e3)
                cpu.append((time.process_time() - c0) * 1e3)
            out[s['key']] = [statistics.median(wall), statistics.median(cpu)]
        a_, b_ = torch.randn(512, 512), torch.randn(512, 512)
        a_ @ b_
        c0 = time.process_time()
        for _ in range(5):
            a_ @ b_
        out['_blas_gflops'] = 5 * 2 * 512 ** 3 / max(time.process_time() - c0, 1e-9) / 1e9
    print(json.dumps(out))


if __name__ == '__main__':
    main()
