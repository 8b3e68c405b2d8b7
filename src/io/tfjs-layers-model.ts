// Port of: the weight-loading half of tfjs-converter's layers-model format (model.json weightsManifest + shards)
/**
 * Reads a TensorFlow.js *layers model* (`model.json` + binary shards) without tfjs-layers: the Keras layer list
 * and every weight under its Keras name (`res2a_branch2a/kernel`), in Keras layout (conv HWIO, dense [in, out]).
 *
 * Format: `weightsManifest` is a list of groups; each group's shard files, concatenated in order, hold the
 * group's weights back to back (little-endian). A weight may be quantised (`quantization: {dtype, scale, min}`:
 * uint8/uint16 affine, or float16).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { FileRefusedError, readFileCapped, readUserFile } from './safe-read.ts';
import { f16ToF32, type RawTensor, type TensorMap } from './safetensors.ts';

/** One Keras layer of the topology: class, name and its config object. */
export interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
}

export interface LayersModel {
  /** Keras layers in topology order; empty when model.json carries no topology. */
  layers: KerasLayer[];
  /** Weights by Keras name, Keras layout, float32 (int32 weights stay int32). */
  weights: TensorMap;
  /** e.g. "keras v2.2.4-tf". */
  generatedBy?: string;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** Bytes one stored element takes. */
function storedWidth(w: ManifestEntry, file: string): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  if (q !== undefined) throw new UserError(`${file}: weight '${w.name}' uses unsupported quantization ${q} (uint8, uint16, float16 are read)`);
  if (w.dtype === 'float32' || w.dtype === 'int32') return 4;
  throw new UserError(`${file}: weight '${w.name}' has unsupported dtype ${w.dtype} (float32, int32 are read)`);
}

function decode(w: ManifestEntry, bytes: Uint8Array, count: number): RawTensor {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = w.quantization;
  if (!q && w.dtype === 'int32') {
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, true);
    return { dtype: 'int32', shape: [...w.shape], data };
  }
  const data = new Float32Array(count);
  if (!q) {
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = f16ToF32(dv.getUint16(i * 2, true));
  } else {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    for (let i = 0; i < count; i++) data[i] = (q.dtype === 'uint8' ? bytes[i] : dv.getUint16(i * 2, true)) * scale + min;
  }
  return { dtype: 'float32', shape: [...w.shape], data };
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileCapped(file, 'config').toString('utf8');
  } catch (e) {
    if (e instanceof FileRefusedError) throw new UserError(`--pretrained ${e.message}; expected a tfjs layers model.json`);
    throw e;
  }
  try {
    const obj = JSON.parse(text) as unknown;
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) return obj as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new UserError(`${file}: not a tfjs layers model.json (not a JSON object)`);
}

function parseLayers(topology: unknown): KerasLayer[] {
  const t = topology as { model_config?: { config?: { layers?: unknown } }; config?: { layers?: unknown } } | undefined;
  const raw = t?.model_config?.config?.layers ?? t?.config?.layers;
  if (!Array.isArray(raw)) return [];
  return raw.map((l: { class_name?: string; config?: Record<string, unknown> }) => ({
    className: String(l.class_name ?? ''),
    name: String(l.config?.name ?? ''),
    config: l.config ?? {},
  }));
}

/** A non-negative integer, as shapes and counts must be. */
const isDim = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** `weightsManifest` checked for the shape the reader relies on; a UserError naming the first bad entry. */
function checkWeightsManifest(raw: unknown, file: string): Array<{ paths: string[]; weights: ManifestEntry[] }> {
  if (!Array.isArray(raw)) throw new UserError(`${file}: not a tfjs layers model.json (no weightsManifest list)`);
  raw.forEach((group: unknown, g) => {
    const gr = group as { paths?: unknown; weights?: unknown } | null;
    if (!gr || typeof gr !== 'object' || !Array.isArray(gr.paths) || !gr.paths.every((p) => typeof p === 'string') || !Array.isArray(gr.weights)) {
      throw new UserError(`${file}: weightsManifest group ${g} needs "paths" (a list of file names) and "weights" (a list)`);
    }
    gr.weights.forEach((w: unknown, i) => {
      const e = w as Partial<ManifestEntry> | null;
      if (
        !e ||
        typeof e !== 'object' ||
        typeof e.name !== 'string' ||
        typeof e.dtype !== 'string' ||
        !Array.isArray(e.shape) ||
        !e.shape.every(isDim)
      ) {
        throw new UserError(
          `${file}: weightsManifest group ${g}, weight ${i}: expected {"name": string, "dtype": string, "shape": [non-negative integers]}`,
        );
      }
      const q = e.quantization as unknown;
      if (q !== undefined && (q === null || typeof q !== 'object' || typeof (q as { dtype?: unknown }).dtype !== 'string')) {
        throw new UserError(`${file}: weight '${e.name}' has a malformed "quantization" (expected {"dtype": …})`);
      }
    });
  });
  return raw as Array<{ paths: string[]; weights: ManifestEntry[] }>;
}

/**
 * The file a shard name refers to, confined to the model's folder: a manifest is data from the internet,
 * and `../../etc/passwd` or an absolute path must not make us read (or report the size of) any other file.
 * Links inside the folder are followed only as far as they stay inside its real location.
 */
export function shardPath(modelJson: string, dir: string, name: string): string {
  const refuse = (why: string) => new UserError(`${modelJson}: weight shard '${name}' ${why}; shards must be files in the model's folder`);
  if (name === '' || name.includes('\0') || path.isAbsolute(name)) throw refuse('is not a relative file name');
  const base = path.resolve(dir);
  const file = path.resolve(base, name);
  if (!file.startsWith(base + path.sep)) throw refuse('points outside the model folder');
  let realBase: string;
  let realFile: string;
  try {
    realBase = fs.realpathSync(base);
    realFile = fs.realpathSync(file);
  } catch {
    return file; // missing: the read names it
  }
  if (!realFile.startsWith(realBase + path.sep)) throw refuse('is a link that points outside the model folder');
  return file;
}

/** Reads `model.json` and its shards. Every problem is a UserError naming the file and the first bad weight. */
export function readLayersModel(modelJson: string): LayersModel {
  const doc = readJson(modelJson);
  if (doc.format === 'graph-model') {
    throw new UserError(`${modelJson}: a tfjs graph model has no Keras layer names; a layers model (Keras export) is needed`);
  }
  const manifest = checkWeightsManifest(doc.weightsManifest, modelJson);
  const dir = path.dirname(modelJson);
  const weights: TensorMap = new Map();
  manifest.forEach((group, g) => {
    const buffers = group.paths.map((p) => readUserFile(shardPath(modelJson, dir, p), 'weights', `${modelJson}: weight shard`));
    const data = Buffer.concat(buffers);
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const end = offset + count * storedWidth(w, modelJson);
      if (end > data.length) {
        throw new UserError(
          `${modelJson}: weight '${w.name}' needs bytes ${offset}..${end} of group ${g}, but its shards (${group.paths.join(', ')}) hold ${data.length} bytes (truncated shard?)`,
        );
      }
      weights.set(w.name, decode(w, data.subarray(offset, end), count));
      offset = end;
    }
    if (offset !== data.length) {
      throw new UserError(
        `${modelJson}: shards of group ${g} hold ${data.length} bytes but the manifest describes ${offset} (wrong or mixed-up shard files?)`,
      );
    }
  });
  return { layers: parseLayers(doc.modelTopology), weights, generatedBy: typeof doc.generatedBy === 'string' ? doc.generatedBy : undefined };
}
