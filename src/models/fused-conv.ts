/**
 * conv + bias (+ ReLU) as one FusedConv2D kernel, with or without a gradient tape, and a gradient registered for it.
 *
 * tfjs's own `tf.fused.conv2d` falls back to separate ops whenever a tape is on and the activation is not linear
 * (conv, bias add, ReLU: two more passes over every output in the forward; in the backward a sum, a step, a cast
 * and a product more), and its linear version wraps the kernel in a custom gradient that computes every input's
 * gradient whether it is wanted or not. Here the kernel is run directly and its gradient is registered per input,
 * so the tape asks only for what leads to the variables: no gradient for the images of a network's first
 * convolution (≈ 0.35 s per ResNet50 step at 224 px), no filter gradients when only other parameters are
 * trained. dy·step(y) (y > 0 exactly where the pre-activation is > 0) is formed once per node; the filter, input
 * and bias gradients from it on demand. Backend-neutral: it only calls kernels every tfjs backend has.
 */
import * as tf from '@tensorflow/tfjs';

export interface FusedConvOptions {
  stride: number;
  /** Symmetric zero padding (PyTorch `padding`). */
  padding: number;
  relu: boolean;
}

type ConvAttrs = { strides: [number, number]; pad: number; dataFormat: string; dimRoundingMode: string; activation: string };

// The gradient of FusedConv2D with a bias and a linear or ReLU activation (NHWC, dilation 1). tfjs-core registers
// none for this kernel (its fused op carries its own custom gradient), so this one serves direct calls only.
tf.registerGradient({
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved;
    const a = attrs as unknown as ConvAttrs;
    if (a.activation !== 'relu' && a.activation !== 'linear') throw new Error(`no gradient for FusedConv2D with activation ${a.activation}`);
    const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode };
    const dyAct = a.activation === 'relu' ? tf.mul(dy as tf.Tensor, tf.step(y)) : (dy as tf.Tensor);
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dyAct, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dyAct }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
      bias: () => tf.sum(dyAct, [0, 1, 2]),
    };
  },
});

export function fusedConvBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, o: FusedConvOptions): tf.Tensor4D {
  return tf.engine().runKernel(
    'FusedConv2D',
    { x, filter, bias },
    {
      strides: [o.stride, o.stride],
      pad: o.padding,
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined as unknown as string,
      activation: o.relu ? 'relu' : 'linear',
      leakyreluAlpha: 0,
    },
  ) as tf.Tensor4D;
}
