#!/usr/bin/env python3
"""Check that a mic-train checkpoint loads in PyTorch (docs/porting.md#checkpoints).

Reads <checkpoint>/model.safetensors by parsing the safetensors format by hand (8-byte little-endian
header length, JSON header, raw little-endian tensor bytes), so only torch and torchvision are needed,
not the `safetensors` package. Loads the weights into torchvision's resnet50 with strict=False (the
embedding heads and projection net are not part of torchvision's model), checks that every matched
tensor arrived unchanged, runs one forward pass, and prints what was matched, missing and unexpected.

Usage:  /usr/bin/python3 scripts/check-checkpoint-torch.py RUN_FOLDER/checkpoint_Class [--arch resnet50]
Exit status 0 when at least one tensor matched and all matched tensors are equal, 1 otherwise.
"""
import argparse
import json
import os
import struct
import sys

import torch
import torchvision

DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I32": torch.int32,
    "I64": torch.int64,
}


def read_safetensors(path):
    """Return ({name: tensor}, metadata) from a safetensors file, without the safetensors package."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", raw[:8])
    if 8 + header_len > len(raw):
        raise ValueError(f"{path}: header length {header_len} exceeds file size {len(raw)}")
    header = json.loads(raw[8 : 8 + header_len].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        shape = info["shape"]
        chunk = bytearray(data[begin:end])  # writable copy for torch.frombuffer
        t = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape).clone()
    return tensors, metadata


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="checkpoint folder (with model.safetensors) or the file itself")
    ap.add_argument("--arch", default="resnet50", choices=["resnet50", "googlenet"])
    args = ap.parse_args()

    path = args.checkpoint
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    tensors, metadata = read_safetensors(path)
    print(f"read {len(tensors)} tensors from {path} (metadata {metadata})")

    model = getattr(torchvision.models, args.arch)()  # random init; weights come from the checkpoint
    own = model.state_dict()
    mismatched = [n for n, t in tensors.items() if n in own and tuple(own[n].shape) != tuple(t.shape)]
    if mismatched:
        for n in mismatched:
            print(f"SHAPE MISMATCH {n}: checkpoint {tuple(tensors[n].shape)} vs torchvision {tuple(own[n].shape)}")
        return 1
    result = model.load_state_dict(tensors, strict=False)
    matched = [n for n in tensors if n in own]
    print(f"load_state_dict(strict=False): {len(matched)} matched, "
          f"{len(result.missing_keys)} missing, {len(result.unexpected_keys)} unexpected")
    if result.unexpected_keys:
        print("  unexpected (not in torchvision's model, e.g. embedding heads):", ", ".join(result.unexpected_keys[:10]),
              "..." if len(result.unexpected_keys) > 10 else "")
    if result.missing_keys:
        print("  missing (kept at torchvision's init):", ", ".join(result.missing_keys[:10]),
              "..." if len(result.missing_keys) > 10 else "")

    after = model.state_dict()
    unequal = [n for n in matched if not torch.equal(after[n], tensors[n].to(after[n].dtype))]
    for n in unequal:
        print(f"VALUE MISMATCH after loading: {n}")

    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 64, 64))
    print(f"forward pass on a 1x3x64x64 input: output shape {tuple(out.shape)}, finite: {bool(torch.isfinite(out).all())}")
    ok = bool(matched) and not unequal
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
