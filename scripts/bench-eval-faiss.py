#!/usr/bin/env python3
"""Reference timing for `npm run bench:eval`: the original's evaluation stack (faiss + scikit-learn) on the
vectors the TypeScript benchmark wrote.

  /usr/bin/python3 scripts/bench-eval-faiss.py X.npy LABELS.npy [--k 1,10,100,1000] [--iters 20] [--classes C]

Parts, as the original evaluates (docs/porting.md#evaluation): exact all-vs-all search with faiss IndexFlatL2 for max(k)+1
neighbours, dropping the first (the query); Recall@k; faiss Clustering with k = number of classes, `iters`
iterations, min 1 / max 1e9 points per centroid, seed 1234, then the nearest centroid of every point;
scikit-learn NMI (geometric mean) and the pairwise F1 of docs/porting.md#eval-f1 (vectorised with numpy).
Human-readable lines first; the last line of stdout is one JSON object that the TypeScript side parses.
Uses Debian's python3-faiss / python3-sklearn; faiss uses all OpenMP threads (OMP_NUM_THREADS to limit).
"""
import argparse
import json
import resource
import time

import faiss
import numpy as np
from sklearn.metrics import normalized_mutual_info_score


def pairwise_f1(true, pred):
    _, t = np.unique(true, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    cell = np.unique(t.astype(np.int64) * (p.max() + 1) + p, return_counts=True)[1].astype(np.float64)
    comb = lambda c: (c * (c - 1) / 2).sum()
    tp = comb(cell)
    if tp == 0:
        return 0.0
    prec = tp / comb(np.bincount(t).astype(np.float64))
    rec = tp / comb(np.bincount(p).astype(np.float64))
    return float(2 * prec * rec / (prec + rec))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('x')
    ap.add_argument('labels')
    ap.add_argument('--k', default='1,10,100,1000')
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--classes', type=int, default=0)
    a = ap.parse_args()
    k_vals = [int(v) for v in a.k.split(',')]
    x = np.ascontiguousarray(np.load(a.x), dtype=np.float32)
    labels = np.load(a.labels)
    n, d = x.shape
    k = a.classes or len(np.unique(labels))

    t = time.time()
    index = faiss.IndexFlatL2(d)
    index.add(x)
    _, nn = index.search(x, max(k_vals) + 1)
    hits = labels[nn[:, 1:]] == labels[:, None]
    recall = [float(hits[:, :kk].any(axis=1).mean()) for kk in k_vals]
    t_retrieval = time.time() - t
    print(f'kNN + Recall@k   {t_retrieval:.1f} s')

    t = time.time()
    clus = faiss.Clustering(d, k)
    clus.niter = a.iters
    clus.min_points_per_centroid = 1
    clus.max_points_per_centroid = 10 ** 9
    clus.seed = 1234
    cindex = faiss.IndexFlatL2(d)
    clus.train(x, cindex)
    _, assign = cindex.search(x, 1)
    t_kmeans = time.time() - t
    print(f'k-means          {t_kmeans:.1f} s ({a.iters} iterations, {k} centroids)')

    t = time.time()
    nmi = float(normalized_mutual_info_score(assign[:, 0], labels, average_method='geometric'))
    f1 = pairwise_f1(labels, assign[:, 0])
    t_metrics = time.time() - t
    print(f'NMI + F1         {t_metrics:.3f} s')
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        'retrieval': t_retrieval, 'kmeans': t_kmeans, 'metrics': t_metrics,
        'total': t_retrieval + t_kmeans + t_metrics, 'peak_rss_mb': peak,
        'recall': recall, 'nmi': nmi, 'f1': f1, 'threads': faiss.omp_get_max_threads(),
    }))


if __name__ == '__main__':
    main()
