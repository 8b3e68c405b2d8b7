/**
 * Correct-but-slow fallback: run the pure-JS `cpu` backend's kernel on copies of the inputs and copy the
 * result back to the wasm heap. For kernels training rarely meets (depthwise filter/input gradients,
 * NCHW layouts); none of our architectures depends on it for speed.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors.ts';
import type { TensorInfo } from './wasm-scope.ts';

export function cpuFallback(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: tf.NamedAttrMap }, kernelName: string): TensorInfo {
  const cpu = tf.findBackend('cpu');
  const config = tf.getKernel(kernelName, 'cpu');
  assert(cpu && config, `cpu fallback for ${kernelName}: cpu backend or kernel missing`);
  const cpuInputs: tf.NamedTensorInfoMap = {};
  const made: tf.DataId[] = [];
  for (const [name, t] of Object.entries(args.inputs)) {
    if (!t) continue;
    const values = args.backend.readSync(t.dataId) as tf.backend_util.BackendValues;
    const dataId = cpu.write(values, t.shape, t.dtype);
    made.push(dataId);
    cpuInputs[name] = { dataId, shape: t.shape, dtype: t.dtype };
  }
  try {
    const out = config.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: args.attrs ?? {} });
    assert(!Array.isArray(out), `cpu fallback for ${kernelName}: several outputs`);
    const values = cpu.readSync(out.dataId) as tf.backend_util.BackendValues;
    cpu.disposeData(out.dataId);
    return args.backend.makeOutput(out.shape, out.dtype, undefined, values);
  } finally {
    for (const id of made) cpu.disposeData(id);
  }
}
