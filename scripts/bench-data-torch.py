#!/usr/bin/python3
"""Reference speed for `npm run bench:data`: decode + augment with PIL and torchvision, as the original
MIC training loader does (PIL open + convert('RGB'), RandomResizedCrop(224), RandomHorizontalFlip,
ToTensor, Normalize(ImageNet)), through a torch DataLoader with 1 and 2 worker processes.

Usage: /usr/bin/python3 scripts/bench-data-torch.py <folder of .jpg> [--size 224] [--workers 1 2] [--bs 20] [--passes 3]
Prints one JSON object: {"torch": ..., "torchvision": ..., "images": N, "images_per_s": {"1": x, "2": y}}.
Each figure is the median of --passes epochs (default 3) after a warm-up epoch (persistent workers), so
worker start-up is not counted.
"""
import argparse
import json
import os
import time

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Files(Dataset):
    def __init__(self, paths, size):
        self.paths = paths
        self.transform = transforms.Compose([
            transforms.RandomResizedCrop(size),
            transforms.RandomHorizontalFlip(0.5),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(self.paths[i]).convert('RGB')
        return self.transform(img)


def images_per_second(paths, size, workers, bs, passes):
    loader = DataLoader(Files(paths, size), batch_size=bs, shuffle=False, num_workers=workers,
                        persistent_workers=True)
    for _ in loader:  # warm-up epoch: worker start-up, page cache
        pass
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        n = 0
        for batch in loader:
            n += batch.shape[0]
        rates.append(n / (time.perf_counter() - start))
    return sorted(rates)[len(rates) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('folder')
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--bs', type=int, default=20)
    ap.add_argument('--passes', type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    paths = sorted(os.path.join(args.folder, f) for f in os.listdir(args.folder) if f.endswith('.jpg'))
    result = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'pil': Image.__version__,
              'images': len(paths), 'images_per_s': {}}
    for w in args.workers:
        result['images_per_s'][str(w)] = images_per_second(paths, args.size, w, args.bs, args.passes)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
