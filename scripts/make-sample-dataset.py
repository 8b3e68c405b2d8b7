#!/usr/bin/python3
"""Build the embedded demo dataset Datasets/sample/ (20 classes, CUB-style layout).

Sources (both installed by Debian packages, no network needed):
  * Fashion-MNIST test set, Debian package `dataset-fashion-mnist`
    (/usr/share/datasets/fashion-mnist/t10k-*), (c) 2017 Zalando SE, MIT licence.
  * scikit-learn's bundled 8x8 handwritten digits (`sklearn.datasets.load_digits`, Debian package
    `python3-sklearn`), BSD-3-Clause; the digits are upsampled to 28x28 so both sources share one size.

Layout: images/<NNN.Name>/<NNN>_<k>.png, grayscale 8-bit PNG. Classes 001-010 (the train half under the
CUB rule "first half of the classes") hold five Fashion-MNIST classes and digits 0-4; classes 011-020
(the test half) hold the other five Fashion-MNIST classes and digits 5-9, so both halves mix both
sources. The first PER_CLASS images of each class in file order are taken: the output is deterministic.

Usage: /usr/bin/python3 scripts/make-sample-dataset.py [--out Datasets/sample] [--per-class 50]
"""
import argparse
import gzip
import os
import shutil

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

FASHION_DIR = '/usr/share/datasets/fashion-mnist'
FASHION_NAMES = ['Tshirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot']
DIGIT_NAMES = ['Digit_zero', 'Digit_one', 'Digit_two', 'Digit_three', 'Digit_four',
               'Digit_five', 'Digit_six', 'Digit_seven', 'Digit_eight', 'Digit_nine']


def read_idx(path):
    """IDX files (MNIST format): big-endian magic, dims, then uint8 data."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_images():
    images = read_idx(os.path.join(FASHION_DIR, 't10k-images-idx3-ubyte.gz'))
    labels = read_idx(os.path.join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'))
    return {c: images[labels == c] for c in range(10)}


def digit_images():
    digits = load_digits()
    out = {}
    for c in range(10):
        sel = digits.images[digits.target == c]  # values 0..16
        as_u8 = np.clip(np.round(sel * (255.0 / 16.0)), 0, 255).astype(np.uint8)
        out[c] = np.stack([np.asarray(Image.fromarray(im).resize((28, 28), Image.BICUBIC)) for im in as_u8])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'Datasets', 'sample'))
    ap.add_argument('--per-class', type=int, default=50)
    args = ap.parse_args()

    fashion, digits = fashion_images(), digit_images()
    # (source dict, source class, name) in class-folder order; halves mix both sources.
    plan = ([(fashion, c, FASHION_NAMES[c]) for c in range(5)] + [(digits, c, DIGIT_NAMES[c]) for c in range(5)]
            + [(fashion, c, FASHION_NAMES[c]) for c in range(5, 10)] + [(digits, c, DIGIT_NAMES[c]) for c in range(5, 10)])

    images_dir = os.path.join(args.out, 'images')
    if os.path.isdir(images_dir):
        shutil.rmtree(images_dir)
    total = 0
    for k, (source, c, name) in enumerate(plan, start=1):
        folder = os.path.join(images_dir, f'{k:03d}.{name}')
        os.makedirs(folder)
        for i, im in enumerate(source[c][:args.per_class]):
            path = os.path.join(folder, f'{k:03d}_{i:03d}.png')
            Image.fromarray(im, mode='L').save(path, optimize=True)
            total += os.path.getsize(path)
    print(f'wrote {len(plan)} classes x {args.per_class} images, {total} bytes of PNG, to {images_dir}')


if __name__ == '__main__':
    main()
