/**
 * Builds the `--arch` network (settings from its `ARCH`, found through `registry.ts`) and resolves its ImageNet
 * weights: explicit `--pretrained` file > default weights folder > error. Loads the backbone strictly and leaves
 * the embedding heads randomly initialised.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { disposeStateDict, readPretrainedWeights, toTfTensors, type PretrainedFormat, type PretrainedWeights } from '../io/weights.ts';
import type { Rng } from '../rng.ts';
import type { EmbeddingNet } from './embedding-net.ts';
import { archSpec } from './registry.ts';
import type { ArchSpec, WeightSource } from './types.ts';

export interface BuildModelOptions {
  /** `--arch`. */
  arch: string;
  /** `--embed_sizes`: [Class, Shared]. */
  embedSizes: number[];
  /** `--not_pretrained`: random backbone (torchvision's init scheme). */
  notPretrained: boolean;
  /** `--pretrained PATH`. */
  pretrained?: string;
  /** `--pretrained-format`. */
  pretrainedFormat: PretrainedFormat;
  /** Stream for initial values ('init'). */
  rng: Rng;
  /** Channel divisor, for tests only. */
  width?: number;
  /** Receives one line saying which weights were loaded. */
  log?: (line: string) => void;
  /** Folders searched for default weights; default: $MIC_WEIGHTS_DIR, then <repo>/weights. */
  weightDirs?: string[];
}

/** <repo>/weights, found relative to this file (src/models/). */
const REPO_WEIGHTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'weights');

export function defaultWeightDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.MIC_WEIGHTS_DIR) dirs.push(process.env.MIC_WEIGHTS_DIR);
  dirs.push(REPO_WEIGHTS);
  return dirs;
}

/** The default-format weight source of `spec` for `format`, or a UserError when the architecture has none. */
export function weightSource(spec: ArchSpec, format: PretrainedFormat): WeightSource {
  const source = spec.weights.find((w) => w.format === format);
  if (!source) {
    throw new UserError(`--pretrained-format ${format}: not available for --arch ${spec.key} (only ${spec.weights.map((w) => w.format).join(', ')})`);
  }
  return source;
}

/** The first existing weights file for `spec` in `dirs`, or null. */
export function locateDefaultWeights(spec: ArchSpec, format: PretrainedFormat, dirs: string[]): string | null {
  const source = weightSource(spec, format);
  for (const dir of dirs) {
    const candidate = path.join(dir, source.file);
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The message for "no weights found": where we looked and the manual route. */
export function missingWeightsMessage(spec: ArchSpec, format: PretrainedFormat, dirs: string[]): string {
  const source = weightSource(spec, format);
  const looked = dirs.map((d) => path.join(d, source.file)).join(' or ');
  const others = spec.weights
    .filter((w) => w !== source && dirs.some((d) => fs.existsSync(path.join(d, w.file))))
    .map((w) => ` (found ${w.format} weights: add --pretrained-format ${w.format})`)
    .join('');
  return (
    `no pretrained weights for --arch ${spec.key}: looked for ${looked}${others}. Get them from ${source.origin} ` +
    `(scripts/fetch-pretrained.sh explains), pass --pretrained PATH, or pass --not_pretrained to start from random weights`
  );
}

function findDefaultWeights(spec: ArchSpec, format: PretrainedFormat, dirs: string[]): string {
  const found = locateDefaultWeights(spec, format, dirs);
  if (found) return found;
  throw new UserError(missingWeightsMessage(spec, format, dirs));
}

/** Builds the `--arch` network with its embedding heads; loads ImageNet backbone weights unless `notPretrained`. */
export async function buildModel(o: BuildModelOptions): Promise<EmbeddingNet> {
  const spec = await archSpec(o.arch);
  if (o.pretrainedFormat === 'keras' && spec.key !== 'resnet50') {
    throw new UserError(`--pretrained-format keras: only --arch resnet50 has Keras weights (got --arch ${spec.key})`);
  }
  if (o.notPretrained && o.pretrained) throw new UserError('--pretrained and --not_pretrained contradict each other; pass one of them');
  let weights: PretrainedWeights | null = null;
  if (!o.notPretrained) {
    const file = o.pretrained ?? findDefaultWeights(spec, o.pretrainedFormat, o.weightDirs ?? defaultWeightDirs());
    weights = readPretrainedWeights(file, o.pretrainedFormat);
  }
  const keras = o.pretrainedFormat === 'keras' ? { bnEps: weights?.bnEps ?? 1e-3 } : undefined;
  const model = spec.build({ embedSizes: o.embedSizes, rng: o.rng, randomBackbone: !weights, width: o.width, keras });
  if (weights) {
    const sd = toTfTensors(weights.tensors);
    try {
      model.loadPretrained(sd, weights.path);
    } catch (e) {
      model.dispose();
      throw e;
    } finally {
      disposeStateDict(sd);
    }
    o.log?.(`weights: ${spec.key} backbone from ${weights.path} (${o.pretrainedFormat}); embedding heads random`);
  } else {
    o.log?.(`weights: ${spec.key} random init (--not_pretrained)`);
  }
  return model;
}
