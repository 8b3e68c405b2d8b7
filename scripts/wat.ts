/** WebAssembly text → binary with wabt, shared by scripts/build-wasm.ts and the tests that check the committed binaries. */
import wabtInit from 'wabt';

/** Every hand-written WebAssembly module: its text source and the committed binary. */
export const WASM_MODULES = ['../src/data/resample', '../src/backend/kernels/adam'].map((stem) => ({
  wat: new URL(`${stem}.wat`, import.meta.url),
  wasm: new URL(`${stem}.wasm`, import.meta.url),
}));

export const RESAMPLE_WAT = WASM_MODULES[0].wat;
export const RESAMPLE_WASM = WASM_MODULES[0].wasm;

/** The binary of `text` (SIMD enabled), without debug names so the output depends on the source only. */
export async function compileWat(text: string, name = 'module.wat'): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
