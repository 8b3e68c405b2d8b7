/**
 * Layout copies done in JavaScript directly on the wasm heap.
 *
 * Why not the wasm kernels: wasm's `Slice` first copies the whole input out of the heap (`readSync`)
 * and its `StridedSlice` is a per-element loop; both were 5–20× slower than these row copies when
 * gathering convolution taps. Each copy here moves whole channel rows (`Float32Array.set`), the
 * innermost, contiguous dimension of NHWC.
 */
import type * as tf from '@tensorflow/tfjs';
import { assert } from '../../errors.ts';
import type { TensorInfo, WasmScope } from './wasm-scope.ts';
import { heapKernels, heapOffset } from './heap-kernels.ts';
import { gemmFor } from './gemm.ts';

/** Values per im2col call shared out over the threads. */
const IM2COL_BLOCK = 65536;

/** Copy `len` floats; a plain loop beats `set(subarray)` for very short rows. */
function copyRow(dst: Float32Array, dstAt: number, src: Float32Array, srcAt: number, len: number): void {
  if (len >= 16) dst.set(src.subarray(srcAt, srcAt + len), dstAt);
  else for (let k = 0; k < len; k++) dst[dstAt + k] = src[srcAt + k];
}

/** Outputs [jLo, jHi) of a stride-1 window starting at column `off` with `out` outputs that fall inside [0, width). */
function insideRun(off: number, out: number, width: number): [number, number] {
  const jLo = Math.min(out, Math.max(0, -off));
  return [jLo, Math.max(jLo, Math.min(out, width - off))];
}

/** A strided window over the two spatial axes of an NHWC tensor. */
export interface SpatialWindow {
  /** First row/column read (may be negative: those positions read as zero, i.e. padding). */
  offH: number;
  offW: number;
  strideH: number;
  strideW: number;
  /** Output spatial size. */
  outH: number;
  outW: number;
}

/** The window of input positions a convolution's outputs meet at tap (0, 0): padding, stride, output size. */
export function convWindow(info: tf.backend_util.Conv2DInfo): SpatialWindow {
  return {
    offH: -info.padInfo.top,
    offW: -info.padInfo.left,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    outH: info.outHeight,
    outW: info.outWidth,
  };
}

/** Output (i, j) of a 1×1-filter convolution reads input (i, j): stride 1 and output size = input size (no padding). */
export function readsInputInPlace(info: tf.backend_util.Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 && info.inHeight === info.outHeight && info.inWidth === info.outWidth;
}

/**
 * y[n,i,j,:] = x[n, offH + i·strideH, offW + j·strideW, :], zero outside x.
 * x: [N,H,W,C] → y: [N,outH,outW,C]. Strided slicing and zero padding in one pass.
 */
export function gatherWindow(s: WasmScope, x: TensorInfo, w: SpatialWindow): TensorInfo {
  const [n, h, wd, c] = x.shape;
  const y = s.alloc([n, w.outH, w.outW, c]);
  const xv = s.view(x);
  const yv = s.view(y);
  let at = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < w.outH; i++) {
      const r = w.offH + i * w.strideH;
      if (r < 0 || r >= h) {
        yv.fill(0, at, at + w.outW * c);
        at += w.outW * c;
        continue;
      }
      const rowBase = (b * h + r) * wd;
      if (w.strideW === 1) {
        // One contiguous run of the input row, zeros either side of it (padding).
        const [jLo, jHi] = insideRun(w.offW, w.outW, wd);
        yv.fill(0, at, at + jLo * c);
        copyRow(yv, at + jLo * c, xv, (rowBase + w.offW + jLo) * c, (jHi - jLo) * c);
        yv.fill(0, at + jHi * c, at + w.outW * c);
        at += w.outW * c;
        continue;
      }
      for (let j = 0; j < w.outW; j++, at += c) {
        const col = w.offW + j * w.strideW;
        if (col < 0 || col >= wd) yv.fill(0, at, at + c);
        else copyRow(yv, at, xv, (rowBase + col) * c, c);
      }
    }
  }
  return y;
}

/**
 * The inverse placement: out[n, offH + i·strideH, offW + j·strideW, :] = src[n,i,j,:] for every
 * (i,j) that lands inside `out`; other positions of `out` are left untouched. Used to interleave
 * the phases of a strided input gradient and for zero-insertion.
 */
export function scatterWindow(s: WasmScope, out: TensorInfo, src: TensorInfo, w: SpatialWindow): void {
  const [n, h, wd, c] = out.shape;
  const [sn, sh, sw, sc] = src.shape;
  assert(sn === n && sc === c && sh === w.outH && sw === w.outW, 'scatterWindow: shape mismatch');
  const ov = s.view(out);
  const sv = s.view(src);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < sh; i++) {
      const r = w.offH + i * w.strideH;
      if (r < 0 || r >= h) continue;
      const rowBase = (b * h + r) * wd;
      const srcRow = (b * sh + i) * sw;
      if (w.strideW === 1) {
        const [jLo, jHi] = insideRun(w.offW, sw, wd);
        copyRow(ov, (rowBase + w.offW + jLo) * c, sv, (srcRow + jLo) * c, (jHi - jLo) * c);
        continue;
      }
      for (let j = 0; j < sw; j++) {
        const col = w.offW + j * w.strideW;
        if (col < 0 || col >= wd) continue;
        copyRow(ov, (rowBase + col) * c, sv, (srcRow + j) * c, c);
      }
    }
  }
}

/**
 * Transposed im2col: rows (ti, tj, c) of the result hold, for every output position (n, i, j), the input
 * value that tap (ti, tj) of channel c meets: xT[c, n, offH + ti + i·sH, offW + tj + j·sW] (zero outside).
 * xT: [C, N, H, W] (channels first) → [kh·kw·C, N·outH·outW].
 */
export function im2colTransposed(s: WasmScope, xT: TensorInfo, kh: number, kw: number, w: SpatialWindow): TensorInfo {
  const [c, n, h, wd] = xT.shape;
  const cols = s.alloc([kh * kw * c, n * w.outH * w.outW]);
  // In WebAssembly (`heap-kernels.wat`): on small maps the rows are a few values long and a JavaScript loop
  // spent more on bookkeeping than on copying.
  const heap = heapKernels(s.backend);
  assert(heap, 'im2colTransposed: the wasm backend memory was not found');
  const at = (t: TensorInfo) => heapOffset(s.backend, t);
  const g = gemmFor(s.backend);
  if (!g || g.threads === 1) {
    heap.kernels.im2col(at(xT), at(cols), c, n, h, wd, kh, kw, w.offH, w.offW, w.strideH, w.strideW, w.outH, w.outW);
    return cols;
  }
  // On several threads: one call per filter tap and block of channels (rows (tap, ch) of cols, ~64 K values each).
  const m = n * w.outH * w.outW;
  const block = Math.max(1, Math.ceil(IM2COL_BLOCK / m));
  const calls: number[][] = [];
  for (let ti = 0; ti < kh; ti++) {
    for (let tj = 0; tj < kw; tj++) {
      for (let ch = 0; ch < c; ch += block) {
        const rowsAt = ((ti * kw + tj) * c + ch) * m * 4;
        const planeAt = ch * n * h * wd * 4;
        const cb = Math.min(block, c - ch);
        calls.push([at(xT) + planeAt, at(cols) + rowsAt, cb, n, h, wd, 1, 1, w.offH + ti, w.offW + tj, w.strideH, w.strideW, w.outH, w.outW]);
      }
    }
  }
  g.heapCalls('im2col', calls);
  return cols;
}

/**
 * The adjoint of `im2colTransposed`: dx[n, offH + ti + i·sH, offW + tj + j·sW, c] += colsT[(ti,tj,c), (n,i,j)]
 * for every position inside dx. colsT: [kh·kw·C, N·outH·outW]; dx: [N, H, W, C], accumulated into.
 */
export function col2imTransposedAdd(s: WasmScope, dx: TensorInfo, colsT: TensorInfo, kh: number, kw: number, w: SpatialWindow): void {
  const [n, h, wd, c] = dx.shape;
  assert(colsT.shape[0] === kh * kw * c && colsT.shape[1] === n * w.outH * w.outW, 'col2imTransposedAdd: shape mismatch');
  const dv = s.view(dx);
  const cv = s.view(colsT);
  let at = 0;
  for (let ti = 0; ti < kh; ti++) {
    for (let tj = 0; tj < kw; tj++) {
      const off = w.offW + tj;
      const jLo = Math.max(0, Math.ceil(-off / w.strideW));
      const jHi = Math.min(w.outW, Math.floor((wd - 1 - off) / w.strideW) + 1);
      const step = w.strideW * c;
      for (let ch = 0; ch < c; ch++) {
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < w.outH; i++, at += w.outW) {
            const r = w.offH + ti + i * w.strideH;
            if (r < 0 || r >= h) continue;
            let dst = ((b * h + r) * wd + off + jLo * w.strideW) * c + ch;
            for (let j = jLo; j < jHi; j++, dst += step) dv[dst] += cv[at + j];
          }
        }
      }
    }
  }
}
