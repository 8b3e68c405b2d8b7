/** WebAssembly text → binary with wabt, shared by scripts/build-wasm.ts and the tests that check the committed binaries. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/**
 * Every hand-written WebAssembly module: its text source, the committed binary and, for a module that
 * imports the tfjs wasm backend's memory, how to derive the variant for its threaded build (whose memory is
 * shared; an import must say so).
 */
export const WASM_MODULES: { wat: URL; wasm: URL; variant?: (text: string) => string }[] = [
  { wat: new URL('../src/data/resample.wat', import.meta.url), wasm: new URL('../src/data/resample.wasm', import.meta.url) },
  {
    wat: new URL('../src/backend/kernels/heap-kernels.wat', import.meta.url),
    wasm: new URL('../src/backend/kernels/heap-kernels.wasm', import.meta.url),
  },
  {
    wat: new URL('../src/backend/kernels/heap-kernels.wat', import.meta.url),
    wasm: new URL('../src/backend/kernels/heap-kernels-shared.wasm', import.meta.url),
    variant: sharedMemoryVariant,
  },
  { wat: new URL('../src/backend/kernels/gemm.wat', import.meta.url), wasm: new URL('../src/backend/kernels/gemm.wasm', import.meta.url) },
  {
    wat: new URL('../src/backend/kernels/gemm.wat', import.meta.url),
    wasm: new URL('../src/backend/kernels/gemm-shared.wasm', import.meta.url),
    variant: sharedMemoryVariant,
  },
  {
    wat: new URL('../src/backend/kernels/gemm.wat', import.meta.url),
    wasm: new URL('../src/backend/kernels/gemm-relaxed.wasm', import.meta.url),
    variant: relaxedSimdVariant,
  },
  {
    wat: new URL('../src/backend/kernels/gemm.wat', import.meta.url),
    wasm: new URL('../src/backend/kernels/gemm-relaxed-shared.wasm', import.meta.url),
    variant: (text) => sharedMemoryVariant(relaxedSimdVariant(text)),
  },
];

/** The same module importing a shared memory of up to 4 GiB (the threaded tfjs build's maximum). */
export function sharedMemoryVariant(text: string): string {
  const plain = '(import "env" "memory" (memory 1))';
  if (!text.includes(plain)) throw new Error(`no '${plain}' to make shared`);
  return text.replace(plain, '(import "env" "memory" (memory 1 65536 shared))');
}

/**
 * The GEMM with fused multiply-adds: every accumulator update `(f32x4.add (local.get $cIJ) (f32x4.mul (local.get
 * $s) (local.get $bJ)))` of the micro-kernel becomes `(f32x4.relaxed_madd (local.get $s) (local.get $bJ)
 * (local.get $cIJ))` (one rounding instead of two; a single FMA instruction where the CPU has one).
 */
export function relaxedSimdVariant(text: string): string {
  const update = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get (\$\w+)\) \(local\.get (\$\w+)\)\)\)/g;
  const count = text.match(update)?.length ?? 0;
  if (count !== 8) throw new Error(`expected the 8 accumulator updates of the 4×8 micro-kernel, found ${count}`);
  return text.replace(update, '(f32x4.relaxed_madd (local.get $2) (local.get $3) (local.get $1))');
}

export const RESAMPLE_WAT = WASM_MODULES[0].wat;
export const RESAMPLE_WASM = WASM_MODULES[0].wasm;

/**
 * The binary of `text` (SIMD, relaxed SIMD and shared memory enabled, no debug names, so the output depends on the source
 * only). wabt's own `wat2wasm` command is used: its JavaScript API ignores the threads feature.
 */
export async function compileWat(text: string, name = 'module.wat'): Promise<Uint8Array> {
  const wat2wasm = createRequire(import.meta.url).resolve('wabt/bin/wat2wasm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-wat-'));
  try {
    const input = path.join(dir, name);
    const output = path.join(dir, 'out.wasm');
    fs.writeFileSync(input, text);
    execFileSync(process.execPath, [wat2wasm, '--enable-threads', '--enable-relaxed-simd', input, '-o', output], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new Uint8Array(fs.readFileSync(output));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
