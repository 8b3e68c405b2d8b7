/**
 * `node --import tsx scripts/conv-layer-shapes.ts`: every distinct convolution of ResNet50, GoogLeNet and
 * BN-Inception (full width, batch 1) at 32, 64 and 224 px, recorded from real forward passes on the wasm backend
 * (the Conv2D / FusedConv2D kernels are wrapped to note their input shape, filter shape, strides and padding),
 * written to test/fixtures/backend/conv-layer-shapes.json with how often each occurs. Read by the GEMM parity
 * tests, `npm run bench:gemm` and scripts/measure-gemm-routes.ts.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/select.ts';
import { buildModel } from '../src/models/build-model.ts';
import { rngFor } from '../src/rng.ts';

export interface ConvLayerShape {
  arch: string;
  size: number;
  /** NHWC input shape, batch 1. */
  x: number[];
  /** [kh, kw, Cin, Cout]. */
  filter: number[];
  strides: [number, number];
  pad: number | 'same' | 'valid' | number[][];
  count: number;
}

export const CONV_LAYER_SHAPES = new URL('../test/fixtures/backend/conv-layer-shapes.json', import.meta.url);

export function readConvLayerShapes(): ConvLayerShape[] {
  return JSON.parse(fs.readFileSync(CONV_LAYER_SHAPES, 'utf8')) as ConvLayerShape[];
}

async function record(): Promise<ConvLayerShape[]> {
  await selectBackend('wasm');
  const seen = new Map<string, ConvLayerShape>();
  let current = { arch: '', size: 0 };
  for (const name of ['Conv2D', 'FusedConv2D']) {
    const config = tf.getKernel(name, 'wasm')!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
        const { strides, pad } = args.attrs as unknown as tf.Conv2DAttrs;
        const s: [number, number] = typeof strides === 'number' ? [strides, strides] : [strides[0], strides[1]];
        const entry: ConvLayerShape = {
          ...current,
          x: [1, ...x.shape.slice(1)],
          filter: [...filter.shape],
          strides: s,
          pad: pad as ConvLayerShape['pad'],
          count: 0,
        };
        const key = JSON.stringify({ ...entry, count: 0 });
        const old = seen.get(key);
        if (old) old.count++;
        else seen.set(key, { ...entry, count: 1 });
        return config.kernelFunc(args);
      },
    });
  }
  for (const arch of ['resnet50', 'googlenet', 'bninception']) {
    const model = await buildModel({ arch, embedSizes: [128, 128], notPretrained: true, pretrainedFormat: 'torchvision', rng: rngFor(0, 'init') });
    for (const size of [32, 64, 224]) {
      current = { arch, size };
      tf.tidy(() => {
        model.forward(tf.zeros([1, size, size, 3]) as tf.Tensor4D).embeds.forEach((e) => e.dataSync());
      });
    }
    model.dispose();
  }
  return [...seen.values()];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const shapes = await record();
  fs.writeFileSync(CONV_LAYER_SHAPES, JSON.stringify(shapes, null, 0).replace(/\},\{/g, '},\n{') + '\n');
  console.log(`wrote ${CONV_LAYER_SHAPES.pathname}: ${shapes.length} distinct convolutions`);
}
