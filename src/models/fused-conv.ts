/**
 * conv + bias (+ ReLU) as one FusedConv2D kernel under a gradient tape too, with its gradient written out.
 *
 * tfjs's own `tf.fused.conv2d` falls back to separate ops whenever a tape is on and the activation is not linear
 * (conv, bias add, ReLU: two more passes over every output in the forward, a sum, a step, a cast and a product in
 * the backward), and its linear version always computes the input gradient — for the first convolution, a
 * gradient with respect to the images that nothing uses (≈ 0.35 s per ResNet50 step at 224 px). Here the forward
 * is the fused kernel, the backward dy·step(y) (y > 0 exactly where the pre-activation is > 0), then the two
 * convolution gradients and the bias gradient Σ_{n,h,w}; `inputGrad: false` leaves x out of the gradient.
 * Backend-neutral: it only calls kernels every tfjs backend has.
 */
import * as tf from '@tensorflow/tfjs';

export interface FusedConvOptions {
  stride: number;
  /** Symmetric zero padding (PyTorch `padding`). */
  padding: number;
  relu: boolean;
  /** Whether x needs a gradient (false for a network's first convolution, whose input is the images). */
  inputGrad: boolean;
}

export function fusedConvBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, o: FusedConvOptions): tf.Tensor4D {
  const strides: [number, number] = [o.stride, o.stride];
  const convAttrs = { strides, pad: o.padding, dataFormat: 'NHWC', dimRoundingMode: undefined as unknown as string };
  const forward = (input: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) =>
    tf
      .engine()
      .runKernel(
        'FusedConv2D',
        { x: input, filter: w, bias: b },
        { ...convAttrs, dilations: [1, 1], activation: o.relu ? 'relu' : 'linear', leakyreluAlpha: 0 },
      ) as tf.Tensor4D;
  const backward = (dy: tf.Tensor, input: tf.Tensor4D, w: tf.Tensor4D, y: tf.Tensor) => {
    const dyAct = o.relu ? tf.mul(dy, tf.step(y)) : dy;
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy: dyAct }, { ...convAttrs, filterShape: w.shape }) as tf.Tensor;
    const db = tf.sum(dyAct, [0, 1, 2]);
    if (!o.inputGrad) return [dw, db];
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dyAct, filter: w }, { ...convAttrs, inputShape: input.shape }) as tf.Tensor;
    return [dx, dw, db];
  };
  if (o.inputGrad) {
    const op = tf.customGrad((input, w, b, save) => {
      const y = forward(input as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D);
      (save as tf.GradSaveFunc)([input as tf.Tensor, w as tf.Tensor, y]);
      return { value: y, gradFunc: (dy, saved) => backward(dy, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, saved[2]) };
    });
    return op(x, filter, bias) as tf.Tensor4D;
  }
  // x is not an input of the op: no gradient is computed for it or passed on. It is saved all the same, as the
  // filter gradient needs it after the caller's tidy scopes have let go of it.
  const op = tf.customGrad((w, b, save) => {
    const y = forward(x, w as tf.Tensor4D, b as tf.Tensor1D);
    (save as tf.GradSaveFunc)([w as tf.Tensor, y, x]);
    return { value: y, gradFunc: (dy, saved) => backward(dy, saved[2] as tf.Tensor4D, saved[0] as tf.Tensor4D, saved[1]) };
  });
  return op(filter, bias) as tf.Tensor4D;
}
