#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench:train`: the same ResNet50 train step as scripts/bench-train.ts.

torchvision resnet50 (random init), frozen BatchNorm (eval mode, affine trainable), fc replaced by two
Linear(2048, 128) heads, L2-normalised; loss = sum over heads of mean((E E^T)^2); Adam (lr 1e-5, weight decay
4e-4 added to the gradient, as torch.optim.Adam does). Random NCHW input, batch --bs, --size px.

Reports medians over --reps timed steps after --warmup untimed ones:
  forward  = forward pass without autograd (inference),
  backward = (forward with autograd + backward) - forward,
  update   = optimizer step,
  step     = forward with autograd + backward + update,
the step's process CPU time (robust to other load on a shared machine), and peak RSS. --json prints one JSON object (what scripts/bench-train-compare.ts reads).

Run with Debian's torch: /usr/bin/python3 scripts/bench-torch.py --size 64 --bs 8 --threads 1
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def build(embed=128):
    net = torchvision.models.resnet50()  # random init; weights do not change the speed
    net.fc = nn.Identity()
    heads = nn.ModuleList([nn.Linear(2048, embed), nn.Linear(2048, embed)])
    return net, heads


def freeze_bn(net):
    # Frozen BN as in MIC: running statistics fixed (eval mode), affine weights still trainable.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            m.train = lambda mode=True, m=m: m


def loss_fn(embeds):
    total = 0.0
    for e in embeds:
        e = F.normalize(e, dim=1)
        total = total + (e @ e.t()).pow(2).mean()
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net, heads = build()
    freeze_bn(net)
    params = list(net.parameters()) + list(heads.parameters())
    opt = torch.optim.Adam(params, lr=1e-5, weight_decay=4e-4)
    x = torch.randn(a.bs, 3, a.size, a.size)

    def forward():
        f = net(x)
        return [h(f) for h in heads]

    fwd, fb, upd, step, step_cpu = [], [], [], [], []
    for i in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        with torch.no_grad():
            forward()
        t1 = time.perf_counter()
        c1 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward())
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        c3 = time.process_time()
        if i >= a.warmup:
            fwd.append(t1 - t0)
            fb.append(t2 - t1)
            upd.append(t3 - t2)
            step.append(t3 - t1)
            step_cpu.append(c3 - c1)

    # What the BLAS behind it delivers: python3-torch without its recommended libopenblas0 falls back to the
    # reference BLAS (~3 GFLOP/s), which makes every linear layer and 1x1 convolution slow and the comparison moot.
    a_, b_ = torch.randn(512, 512), torch.randn(512, 512)
    a_ @ b_
    c0 = time.process_time()
    for _ in range(5):
        a_ @ b_
    blas_gflops = 5 * 2 * 512**3 / max(time.process_time() - c0, 1e-9) / 1e9

    med = statistics.median
    res = {
        "blas_gflops": blas_gflops,
        "engine": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "size": a.size,
        "bs": a.bs,
        "reps": a.reps,
        "forward_s": med(fwd),
        "backward_s": max(0.0, med(fb) - med(fwd)),
        "update_s": med(upd),
        "step_s": med(step),
        "step_all_s": step,
        "step_cpu_s": med(step_cpu),
        "img_per_s": a.bs / med(step),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss": float(loss),
    }
    if a.json:
        print(json.dumps(res))
    else:
        print(
            f"pytorch {res['version']} threads={res['threads']} resnet50 {a.size}px bs{a.bs}: "
            f"forward {res['forward_s']:.3f}s  backward {res['backward_s']:.3f}s  update {res['update_s']:.3f}s  "
            f"step {res['step_s']:.3f}s ({res['img_per_s']:.1f} img/s, CPU {res['step_cpu_s']:.3f}s)  peak RSS {res['peak_rss_mb']:.0f} MB  "
            f"steps {', '.join(f'{s:.3f}' for s in step)}"
        )


if __name__ == "__main__":
    main()
