/**
 * A dataset's fingerprint: SHA-256 over its file list (path relative to the dataset root, split, label, role,
 * test set) and each file's size. Stored in a run's `hypa.json` and compared on `--resume`, so a run cannot
 * silently continue on a different dataset that happens to have the same number of images (say,
 * `--source_path` pointing at another copy with other classes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Manifest } from './manifest.ts';

export interface DataFingerprint {
  sha256: string;
  /** Image count, to say how two datasets differ. */
  images: number;
}

export function datasetFingerprint(m: Manifest): DataFingerprint {
  const rows = m.items.map((it) => {
    let size = -1;
    try {
      size = fs.statSync(it.path).size;
    } catch {
      // A file that vanished is part of what the fingerprint records.
    }
    return [path.relative(m.root, it.path), it.split, it.label, it.role ?? '', it.set ?? '', size].join('\t');
  });
  rows.sort();
  const h = crypto.createHash('sha256');
  for (const r of rows) h.update(`${r}\n`);
  return { sha256: h.digest('hex'), images: m.items.length };
}

/** Reads a run's stored fingerprint from its hypa.json (undefined for runs made before fingerprints). */
export function storedFingerprint(hypa: unknown): DataFingerprint | undefined {
  const f = (hypa as { dataFingerprint?: unknown } | null)?.dataFingerprint as Partial<DataFingerprint> | undefined;
  return f && typeof f.sha256 === 'string' && typeof f.images === 'number' ? { sha256: f.sha256, images: f.images } : undefined;
}
