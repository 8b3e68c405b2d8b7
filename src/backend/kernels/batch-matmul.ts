/**
 * BatchMatMul for the wasm backend: on our GEMM (`gemm.ts`) where the measured route table says it beats the
 * stock kernel (XNNPACK) for the product's sizes, else the stock kernel. Transposed operands are transposed on
 * the heap first (our GEMM reads A by rows and B row-major); batches run one product each.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmMatmul } from './gemm-conv.ts';
import { oursFaster } from './gemm-routes.ts';
import { gemmFor } from './gemm.ts';
import { withScope, type TensorInfo, type WasmScope } from './wasm-scope.ts';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

export function batchMatMulConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: KernelArgs) => {
      const a = args.inputs.a as TensorInfo;
      const b = args.inputs.b as TensorInfo;
      const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
      const useStock = () => stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3) return useStock();
      const [batch, ar, ac] = a.shape;
      const [bBatch, br, bc] = b.shape;
      if (batch !== bBatch) return useStock(); // broadcasting batches: the stock kernel
      const [m, k] = transposeA ? [ac, ar] : [ar, ac];
      const n = transposeB ? br : bc;
      if (m * n * k === 0 || !gemmFor(args.backend) || !oursFaster('matmul', m, k, n)) return useStock();
      const product = (s: WasmScope, ai: TensorInfo, bi: TensorInfo) =>
        gemmMatmul(s, transposeA ? s.transpose(ai, [1, 0]) : ai, transposeB ? s.transpose(bi, [1, 0]) : bi);
      return withScope(args.backend, (s) => {
        if (batch === 1) return s.reshape(product(s, s.reshape(a, [ar, ac]), s.reshape(b, [br, bc])), [1, m, n]);
        const out = s.alloc([batch, m, n]);
        for (let i = 0; i < batch; i++) {
          const c = product(s, sliceBatch(s, a, i), sliceBatch(s, b, i));
          s.view(out).set(s.view(c), i * m * n);
          s.free(c);
        }
        return out;
      });
    }) as unknown as tf.KernelFunc,
  };
}

/** Batch `i` of a [batch, r, c] tensor as a fresh [r, c] tensor. */
function sliceBatch(s: WasmScope, t: TensorInfo, i: number): TensorInfo {
  const [, r, c] = t.shape;
  const out = s.alloc([r, c]);
  s.view(out).set(s.view(t).subarray(i * r * c, (i + 1) * r * c));
  return out;
}
