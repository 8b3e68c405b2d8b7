/**
 * The gallery file `embed` writes and `query` reads: `.safetensors` with an `embeddings` [n, dim] tensor and
 * string metadata — `paths` (JSON list, one per row), `checkpoint` (the folder that made it), `model_sha256`
 * (the fingerprint of that checkpoint's weights, so a query with another model is refused instead of
 * answering with meaningless distances) and `skipped` (JSON list of images that could not be decoded).
 */
import crypto from 'node:crypto';
import { UserError } from '../errors.ts';
import type { CheckpointTensor } from './checkpoint.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';

export interface Gallery {
  /** [n, dim] row-major. */
  embeddings: Float32Array;
  n: number;
  dim: number;
  /** Image path of each row. */
  paths: string[];
  /** Checkpoint folder that made the embeddings (absent in files made by hand). */
  checkpoint?: string;
  /** `modelFingerprint` of that checkpoint's weights (absent in files of older mic-train versions). */
  modelSha256?: string;
  /** Images of the embedded folder that could not be decoded (not in the rows). */
  skipped: string[];
}

/**
 * SHA-256 of a model's weights (names, shapes and float bytes, in name order): two checkpoints with the same
 * fingerprint compute the same embeddings.
 */
export function modelFingerprint(tensors: ReadonlyMap<string, CheckpointTensor>): string {
  const h = crypto.createHash('sha256');
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(`${name}\0${t.shape.join(',')}\0`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

export function writeGallery(file: string, g: Gallery): void {
  const metadata: Record<string, string> = { paths: JSON.stringify(g.paths), skipped: JSON.stringify(g.skipped) };
  if (g.checkpoint !== undefined) metadata.checkpoint = g.checkpoint;
  if (g.modelSha256 !== undefined) metadata.model_sha256 = g.modelSha256;
  writeSafetensors(file, new Map([['embeddings', { dtype: 'float32', shape: [g.n, g.dim], data: g.embeddings }]]), metadata);
}

function jsonStrings(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

/** Reads and checks a gallery; anything that is not one `embed` wrote is a UserError naming the file. */
export function readGallery(file: string): Gallery {
  const { tensors, metadata } = readSafetensors(file, '--gallery');
  const e = tensors.get('embeddings');
  const notOurs = (why: string) => new UserError(`--gallery: '${file}' is not a gallery written by mic-train embed (${why})`);
  if (!e || e.dtype !== 'float32' || e.shape.length !== 2) throw notOurs('no float [n, dim] "embeddings" tensor');
  const paths = jsonStrings(metadata.paths);
  if (!paths) throw notOurs('no "paths" list in its metadata');
  const [n, dim] = e.shape;
  if (paths.length !== n) throw notOurs(`${paths.length} paths for ${n} embeddings`);
  if (n === 0 || dim === 0) throw notOurs('it holds no embeddings');
  return {
    embeddings: e.data as Float32Array,
    n,
    dim,
    paths,
    checkpoint: metadata.checkpoint,
    modelSha256: metadata.model_sha256,
    skipped: jsonStrings(metadata.skipped) ?? [],
  };
}
